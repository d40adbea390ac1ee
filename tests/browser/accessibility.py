"""axe-core (from npm, pinned by package-lock.json) run inside the page: what a screen reader meets."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")


def assert_accessible(page: Page) -> None:
    """axe-core finds no serious or critical problem on the page as it is now."""
    assert AXE.exists(), f"{AXE} is missing: run `make test`, or `npm ci --prefix tests/browser`"
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=AXE)
    results = page.evaluate("axe.run()")
    problems = [
        f"{violation['impact']} {violation['id']}: {violation['help']} — "
        + ", ".join(" ".join(node["target"]) for node in violation["nodes"])
        for violation in results["violations"]
        if violation["impact"] in BLOCKING
    ]
    assert not problems, "axe-core:\n" + "\n".join(problems)


def same_colour_text(page: Page) -> list[str]:
    """Text drawn in the colour of its own background. axe-core files a 1:1 contrast under "incomplete"
    (to review: it may be meant hidden), so assert_accessible does not see it; no text here is meant so."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=AXE)
    results = page.evaluate("axe.run({runOnly: ['color-contrast']})")
    return [
        " ".join(node["target"])
        for review in results["incomplete"]
        for node in review["nodes"]
        if any((check.get("data") or {}).get("messageKey") == "equalRatio" for check in node["any"])
    ]
