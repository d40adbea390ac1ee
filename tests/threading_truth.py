"""The fedora-devel archive's own thread index (MHonArc's thread.html) as parent links, for comparison."""

from __future__ import annotations

import re
from pathlib import Path

_TAG = re.compile(r'<(/?)(ul|li)\b[^>]*>|<a name="(\d+)"', re.IGNORECASE)


def parents_from_index(path: Path) -> dict[int, int | None]:
    """Message number → the number of its parent in the index (None for a thread's first message)."""
    html = path.read_text(errors="replace")
    html = html[html.index("<HR>") :]  # the navigation lists come before the threads
    parents: dict[int, int | None] = {}
    stack: list[int | None] = []  # the message of each open <li>
    for closing, tag, anchor in _TAG.findall(html):
        if anchor:
            enclosing = [m for m in stack[:-1] if m is not None]
            stack[-1] = int(anchor)
            parents[int(anchor)] = enclosing[-1] if enclosing else None
        elif tag.lower() == "li":
            stack.pop() if closing else stack.append(None)
    return parents
