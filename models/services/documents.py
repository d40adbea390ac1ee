"""Reading a draft's words out of the file it came in: DOCX (python-docx), PDF (pypdf) or plain text."""

from __future__ import annotations

import io
import unicodedata

DRAFT_SUFFIXES = (".docx", ".pdf", ".txt")


class UnreadableDraft(Exception):
    """The file is not a draft we can read (its name says which)."""


def is_draft_file(filename: str) -> bool:
    return filename.lower().endswith(DRAFT_SUFFIXES)


def draft_text(filename: str, data: bytes) -> str:
    """The draft's text, one paragraph a line, in NFC."""
    suffix = filename.lower().rsplit(".", 1)[-1]
    try:
        if suffix == "docx":
            text = _docx_text(data)
        elif suffix == "pdf":
            text = _pdf_text(data)
        else:
            text = data.decode("utf-8-sig", errors="replace")
    except Exception as error:  # a damaged file: whatever the library raises, say which file
        raise UnreadableDraft(filename) from error
    return unicodedata.normalize("NFC", text)


def _docx_text(data: bytes) -> str:
    from docx import Document  # python-docx: imported when a DOCX is read, not on every start

    document = Document(io.BytesIO(data))
    return "\n".join(paragraph.text for paragraph in document.paragraphs)


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() or "" for page in reader.pages)
