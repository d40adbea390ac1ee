"""The fixture drafts (tests/fixtures/drafts/), one of them made into a DOCX as a drafting unit would
type it, and the citation sentences with the anchors they should get."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

from docx import Document

FIXTURES = Path(__file__).parent / "fixtures"
DRAFTS = FIXTURES / "drafts"
LIBREOFFICE = shutil.which("libreoffice") or shutil.which("soffice")


def draft(name: str) -> str:
    return (DRAFTS / f"{name}.txt").read_text(encoding="utf-8")


def docx_draft(name: str) -> bytes:
    """The draft as a Word document: headings centred and bold, articles bold, clauses as paragraphs."""
    document = Document()
    for line in draft(name).splitlines():
        if not line.strip():
            continue
        paragraph = document.add_paragraph()
        run = paragraph.add_run(line)
        if re.match(r"^(Chương|Mục|Tiểu mục|Điều)\s", line) or line.isupper():
            run.bold = True
        if re.match(r"^(Chương|Mục|Tiểu mục)\s", line) or line.isupper():
            paragraph.alignment = 1  # centred
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def to_pdf(path: Path) -> Path:
    """LibreOffice (Debian libreoffice-writer) converts the file; the PDF beside it."""
    assert LIBREOFFICE, "libreoffice-writer is in the Makefile's TEST_PACKAGES"
    profile = path.parent / "lo-profile"
    subprocess.run(
        [
            LIBREOFFICE,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(path.parent),
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return path.with_suffix(".pdf")


def citation_cases() -> list[tuple[str, list[str]]]:
    cases = []
    for line in (FIXTURES / "citations.tsv").read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        sentence, _, expected = line.partition("\t")
        cases.append((sentence, [e.strip() for e in expected.split("|") if e.strip()]))
    return cases
