"""Public test material nobody here wrote: `shared/corpora/` beside the repository (see its README)."""

import gzip
import mailbox
import os
import re
from collections.abc import Iterator
from pathlib import Path


def _find_corpora() -> Path:
    """`shared/corpora` beside the repository, or beside any folder above it (a worktree kept under
    the workplace finds the same material); `NHOMTHU_CORPORA` names it outright."""
    if named := os.environ.get("NHOMTHU_CORPORA"):
        return Path(named)
    for folder in Path(__file__).resolve().parents[1:]:
        if (folder / "shared" / "corpora").is_dir():
            return folder / "shared" / "corpora"
    return Path(__file__).resolve().parents[2] / "shared" / "corpora"


CORPORA = _find_corpora()

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


def fixture_messages() -> list[tuple[str, bytes]]:
    """Every message under fixtures/: single files, and each message of each mbox, named for reports."""
    fixtures = CORPORA / "fixtures"
    found: list[tuple[str, bytes]] = []
    for path in sorted(fixtures.rglob("*")):
        if (
            not path.is_file()
            or path.suffix in (".html", ".md")
            or path.name in ("README", "2010-January.txt")
        ):
            continue
        name = str(path.relative_to(fixtures))
        if path.suffix in (".txt", ".eml"):
            found.append((name, path.read_bytes()))
            continue
        box = mailbox.mbox(path, create=False)
        found += [(f"{name}#{n}", box.get_bytes(key)) for n, key in enumerate(box.keys())]
        box.close()
    return found
