"""Reading inbound mail: `parse()` then `extract_body()` over the whole r-package-devel archive.

Prints one JSON line. The baseline is measured in the same run on the same messages, so the ratio holds
on a noisy machine: the standard library's compat32 parser alone (`BytesParser.parsebytes`), which is
what `parse()` builds on. Each figure is the best of three passes, taken in turn. `policy.default` is
timed on the first 2,000 messages, parsing alone: it builds most headers lazily, on first access, which
is where its cost lies (shared/corpora/README.md), so this figure is not what using it would cost.

    .venv/bin/python bench/parsing.py
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mailgate.bodies import Malformed, extract_body  # noqa: E402
from mailgate.parsing import Unreadable, parse  # noqa: E402
from tests.corpora import CORPORA, mboxrd_messages  # noqa: E402

ARCHIVE = CORPORA / "r-package-devel.mbox.gz"
DEFAULT_POLICY_SAMPLE = 2000
PASSES = 3


def rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds else float("inf")


def time_parser(messages: list[bytes], policy: email.policy.Policy) -> float:
    parser = email.parser.BytesParser(policy=policy)
    started = time.perf_counter()
    for raw in messages:
        parser.parsebytes(raw)
    return time.perf_counter() - started


def time_parse_and_extract(messages: list[bytes]) -> tuple[float, int]:
    """Seconds taken, and how many messages were refused (Unreadable or Malformed)."""
    refused = 0
    started = time.perf_counter()
    for raw in messages:
        try:
            extract_body(parse(raw).message)
        except (Unreadable, Malformed):
            refused += 1
    return time.perf_counter() - started, refused


def main() -> None:
    messages = list(mboxrd_messages(ARCHIVE))
    sample = messages[:DEFAULT_POLICY_SAMPLE]
    baseline = ours = default = float("inf")
    for _ in range(PASSES):
        baseline = min(baseline, time_parser(messages, email.policy.compat32))
        seconds, malformed = time_parse_and_extract(messages)
        ours = min(ours, seconds)
        default = min(default, time_parser(sample, email.policy.default))
    figures = {
        "messages": len(messages),
        "malformed": malformed,
        "parse_and_extract_per_s": rate(len(messages), ours),
        "baseline_compat32_parse_per_s": rate(len(messages), baseline),
        "ratio": round(baseline / ours, 3),
        "policy_default_parse_per_s": rate(len(sample), default),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
