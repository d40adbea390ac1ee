"""The synthesis as files the drafting unit files with the draft: DOCX (python-docx) and XLSX (openpyxl)."""

from __future__ import annotations

import io
from typing import Any

from models.services.synthesis import COLUMNS, Row, Synthesis
from models.site import VIETNAM

TITLE = "BẢN TỔNG HỢP, TIẾP THU, GIẢI TRÌNH Ý KIẾN"
GENERAL = "I. Ý KIẾN CHUNG"
SPECIFIC = "II. Ý KIẾN VỀ CÁC ĐIỀU, KHOẢN CỤ THỂ"


def counts(synthesis: Synthesis) -> list[str]:
    made = synthesis.made_at.astimezone(VIETNAM).strftime("%H:%M ngày %d/%m/%Y")
    return [
        f"Dự thảo: {synthesis.title}",
        f"Tình trạng: {synthesis.state}; lập lúc {made}",
        f"Số cơ quan, đơn vị được lấy ý kiến: {synthesis.consulted}",
        f"Số cơ quan, đơn vị có ý kiến: {synthesis.answered}",
        f"Số ý kiến: {synthesis.comments}",
    ]


def to_docx(synthesis: Synthesis) -> bytes:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm

    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for margin in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, margin, Cm(1.5))
    document.add_heading(TITLE, level=1)
    for line in counts(synthesis):
        document.add_paragraph(line)
    for heading, rows in ((GENERAL, synthesis.general), (SPECIFIC, synthesis.by_provision)):
        document.add_heading(heading, level=2)
        _docx_table(document, rows)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _docx_table(document: Any, rows: tuple[Row, ...]) -> None:
    table = document.add_table(rows=1, cols=len(COLUMNS))
    table.style = "Table Grid"
    for cell, name in zip(table.rows[0].cells, COLUMNS, strict=True):
        cell.text = name
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for row in rows:
        for cell, value in zip(table.add_row().cells, row.cells(), strict=True):
            cell.text = value


def to_xlsx(synthesis: Synthesis) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = "Tổng hợp ý kiến"
    sheet.append([TITLE])
    sheet["A1"].font = Font(bold=True, size=13)
    for line in counts(synthesis):
        sheet.append([line])
    for heading, rows in ((GENERAL, synthesis.general), (SPECIFIC, synthesis.by_provision)):
        sheet.append([])
        sheet.append([heading])
        sheet.cell(sheet.max_row, 1).font = Font(bold=True)
        sheet.append(list(COLUMNS))
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([row.number, *row.cells()[1:]])
    for column, width in zip("ABCDEF", (5, 24, 30, 60, 16, 40), strict=True):
        sheet.column_dimensions[column].width = width
    for line in sheet.iter_rows(min_row=8):
        for cell in line:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
