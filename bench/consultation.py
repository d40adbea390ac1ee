"""Draft consultations: anchoring comments to provisions, and splitting a long draft.

Prints one JSON line. Baselines are measured in the same run on the same text, so the ratios hold on a
noisy machine: a plain regex scan for "điểm|khoản|Điều <number>" over the same comments (what a naive
anchoring would do, without chains, order, context or checking the draft), and a plain regex scan of
line starts over the same draft (finding headings without building the tree). Each figure is the best
of three passes. The long draft is the fixture circular repeated with its articles renumbered, to about
a thousand articles (a large code is a few hundred).

    .venv/bin/python bench/consultation.py
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.services.anchoring import Passage, read_reply  # noqa: E402
from models.services.citations import find_provisions  # noqa: E402
from models.services.provisions import split_provisions  # noqa: E402
from tests.drafts import citation_cases, draft  # noqa: E402

PASSES = 3
COPIES = 90
NAIVE = re.compile(r"(?:điểm|khoản|điều)\s+\w+", re.IGNORECASE)
LINE_START = re.compile(r"^(?:Chương|Mục|Điều\s+\d+\w?\.|\d+\.|[a-zđ]\))", re.MULTILINE)


def rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds else float("inf")


def best(function, *args) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(PASSES):
        started = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - started)
    return min(times)


def long_draft() -> str:
    """The fixture repeated, each copy's articles renumbered after the last copy's."""
    text = draft("danh_gia_hoc_sinh_v1")
    body = text[text.index("Chương I") : text.index("Nơi nhận")]
    copies = []
    for copy in range(COPIES):
        copies.append(
            re.sub(r"^Điều (\d+)", lambda m, c=copy: f"Điều {int(m.group(1)) + 10 * c}", body, flags=re.M)
        )
    return "\n".join(copies)


def main() -> None:
    split = split_provisions(draft("danh_gia_hoc_sinh_v1"))
    passages = [Passage(p.citation.text, f"{p.heading} {p.text}".strip()) for p in split.pieces]
    cases = citation_cases()
    right = sum(find_provisions(sentence) == expected for sentence, expected in cases)
    comments = [sentence for sentence, _ in cases] * 30
    ours = best(lambda: [read_reply(c, passages) for c in comments])
    naive = best(lambda: [NAIVE.findall(c) for c in comments])
    text = long_draft()
    pieces = len(split_provisions(text).pieces)
    splitting = best(split_provisions, text)
    scanning = best(LINE_START.findall, text)
    print(
        json.dumps(
            {
                "fixture_sentences_exactly_right": f"{right}/{len(cases)}",
                "comments": len(comments),
                "anchor_comments_per_s": rate(len(comments), ours),
                "baseline_regex_scan_comments_per_s": rate(len(comments), naive),
                "anchoring_ratio": round(naive / ours, 3),
                "draft_lines": text.count("\n") + 1,
                "draft_provisions": pieces,
                "split_provisions_per_s": rate(pieces, splitting),
                "baseline_line_scan_provisions_per_s": rate(pieces, scanning),
                "splitting_ratio": round(scanning / splitting, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
