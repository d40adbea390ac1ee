"""Reading mailing-list archives: mbox and mboxrd, gzipped or not, streamed message by message."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

_ESCAPED_FROM = re.compile(rb"(?m)^>(>*From )")
_SEPARATOR = re.compile(rb"(?<=\n)\r?\nFrom [^\n]*\n")  # a blank line, then a "From " line
_NOT_AN_ARCHIVE = 16 << 20


@dataclass(frozen=True)
class ArchivedMessage:
    index: int  # position in the archive, from 0: the key for resuming an import
    raw: bytes
    end: int  # bytes of the (uncompressed) archive read so far, for progress


def open_archive(path: Path) -> BinaryIO:
    with path.open("rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gzipped else path.open("rb")  # type: ignore[return-value]


def read_archive(path: Path, chunk: int = 1 << 20) -> Iterator[ArchivedMessage]:
    """Messages split at "From " lines that follow a blank line (or start the file).

    ">From " lines are unescaped one level: right for mboxrd, and for mboxo the best that can be done.
    Read in large chunks and split with one regular expression: line by line was most of the time.
    """
    buffer, offset, index = b"\n\n", -2, 0  # the start of the file counts as following a blank line
    start: int | None = None  # where the current message begins in the buffer
    with open_archive(path) as archive:
        while data := archive.read(chunk):
            buffer += data
            for separator in _SEPARATOR.finditer(buffer, start or 0):
                if start is not None:
                    yield ArchivedMessage(
                        index, _message(buffer[start : separator.start()]), offset + separator.end()
                    )
                    index += 1
                start = separator.end()
            if start is None and len(buffer) > _NOT_AN_ARCHIVE:
                raise ValueError(f"{path}: không phải tệp mbox (no 'From ' line in the first 16 MB)")
            if start:
                buffer, offset, start = buffer[start:], offset + start, 0
    if start is not None and buffer[start:].strip():
        yield ArchivedMessage(index, _message(buffer[start:]), offset + len(buffer))


def _message(raw: bytes) -> bytes:
    return _ESCAPED_FROM.sub(rb"\1", raw)
