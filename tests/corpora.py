"""Public test material nobody here wrote: `shared/corpora/` beside the repository (see its README)."""

import gzip
import re
from collections.abc import Iterator
from pathlib import Path

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"

_MBOXRD_ESCAPED = re.compile(rb"^>+From ")


def mboxrd_messages(path: Path) -> Iterator[bytes]:
    """The messages of a gzipped mboxrd file: split at "From " lines after a blank line, ">From "
    unescaped one level."""
    lines: list[bytes] = []
    after_blank = True
    with gzip.open(path, "rb") as archive:
        for line in archive:
            if after_blank and line.startswith(b"From "):
                if lines:
                    yield b"".join(lines).removesuffix(b"\n")
                lines = []
            else:
                lines.append(line[1:] if _MBOXRD_ESCAPED.match(line) else line)
            after_blank = line in (b"\n", b"\r\n")
    if lines:
        yield b"".join(lines).removesuffix(b"\n")
