"""Splitting a draft's text into its provisions: Phần, Chương, Mục, Tiểu mục, Điều, Khoản, Điểm.

Read line by line, as the drafts are written: a heading opens a provision ("Chương II", "Mục 1",
"Điều 5a. Tên điều"), inside an article "2. …" opens a clause and "đ) …" a point; any other line
continues the provision open above it. What comes before the first provision (the title and the
"Căn cứ …" lines) is the preamble; "Nơi nhận:" ends the draft.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from models.consultations import ProvisionKind
from models.services.citations import (
    ARTICLE,
    CHAPTER,
    CLAUSE,
    PART,
    POINT,
    SECTION,
    SUBSECTION,
    Citation,
    to_roman,
)
from models.services.search import fold

LEVELS = {
    ProvisionKind.POINT: POINT,
    ProvisionKind.CLAUSE: CLAUSE,
    ProvisionKind.ARTICLE: ARTICLE,
    ProvisionKind.SUBSECTION: SUBSECTION,
    ProvisionKind.SECTION: SECTION,
    ProvisionKind.CHAPTER: CHAPTER,
    ProvisionKind.PART: PART,
}
_ROMAN = r"[IVXLC]+"
_HEADINGS = (
    (ProvisionKind.PART, re.compile(r"^phần\s+(thứ\s+\w+|[IVXLC]+|\d+)(?!\w)[.:]?\s*(.*)$", re.I)),
    (ProvisionKind.CHAPTER, re.compile(rf"^chương\s+({_ROMAN}|\d+)(?!\w)[.:]?\s*(.*)$", re.I)),
    (ProvisionKind.SUBSECTION, re.compile(r"^tiểu\s+mục\s+(\d+)(?!\w)[.:]?\s*(.*)$", re.I)),
    (ProvisionKind.SECTION, re.compile(r"^mục\s+(\d+)(?!\w)[.:]?\s*(.*)$", re.I)),
    (ProvisionKind.ARTICLE, re.compile(r"^điều\s+(\d+[a-zđ]?)(?!\w)\s*(?:[.:]\s*(.*))?$", re.I)),
)
_CLAUSE = re.compile(r"^(\d+[a-zđ]?)\.\s+(.*)$")
_POINT = re.compile(r"^([a-zđ]\d?)\)\s+(.*)$")
_END = re.compile(r"^nơi\s+nhận\s*:", re.I)


@dataclass
class Piece:
    """A provision before it is stored: `parent` is the index of its parent in the list."""

    kind: ProvisionKind
    number: str
    label: str
    citation: Citation
    parent: int | None
    heading: str = ""
    lines: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.lines).strip()

    @property
    def level(self) -> int:
        return LEVELS[self.kind]

    @property
    def anchor(self) -> str:
        words = " ".join(f"{fold(word)} {fold(number)}" for word, number in _anchor_parts(self.citation))
        return re.sub(r"[^a-z0-9]+", "-", words.replace("đ", "dd")).strip("-")


def _anchor_parts(citation: Citation) -> list[tuple[str, str]]:
    names = {POINT: "diem", CLAUSE: "khoan", ARTICLE: "dieu", SUBSECTION: "tieu-muc", SECTION: "muc"}
    names |= {CHAPTER: "chuong", PART: "phan"}
    # đ must not fold into d: "điểm đ" and "điểm d" are two points.
    return [(names[level], number.replace("đ", "dd")) for level, number in reversed(citation.shown_parts)]


@dataclass
class Split:
    preamble: str
    pieces: list[Piece]


def split_provisions(text: str) -> Split:
    """The provisions of a draft's text, in order, each with its parent."""
    pieces: list[Piece] = []
    preamble: list[str] = []
    open_: dict[int, int] = {}  # level → index of the provision open at that level
    for raw in unicodedata.normalize("NFC", text).splitlines():
        line = " ".join(raw.split())
        if not line:
            continue
        if _END.match(line):
            break
        piece = _opening(line, pieces, open_)
        if piece is None:
            _continue(line, pieces, open_, preamble)
            continue
        for level in [lv for lv in open_ if lv <= piece.level]:
            del open_[level]
        open_[piece.level] = len(pieces)
        pieces.append(piece)
    _unique_anchors(pieces)
    return Split("\n".join(preamble), pieces)


def _opening(line: str, pieces: list[Piece], open_: dict[int, int]) -> Piece | None:
    for kind, pattern in _HEADINGS:
        match = pattern.match(line)
        if match:
            return _heading_piece(kind, match.group(1), match.group(2) or "", pieces, open_)
    if ARTICLE not in open_:
        return None
    article = open_[ARTICLE]
    clause = _CLAUSE.match(line)
    if clause:
        number = clause.group(1).lower()
        citation = Citation(((CLAUSE, number),) + pieces[article].citation.parts)
        return Piece(ProvisionKind.CLAUSE, number, f"{number}.", citation, article, lines=[clause.group(2)])
    point = _POINT.match(line)
    if point:
        parent = open_.get(CLAUSE, article)
        number = point.group(1).lower()
        citation = Citation(((POINT, number),) + pieces[parent].citation.parts)
        return Piece(ProvisionKind.POINT, number, f"{number})", citation, parent, lines=[point.group(2)])
    return None


def _heading_piece(
    kind: ProvisionKind, raw_number: str, title: str, pieces: list[Piece], open_: dict[int, int]
) -> Piece:
    level = LEVELS[kind]
    number = _number(kind, raw_number)
    above = [index for lv, index in open_.items() if lv > level]
    parent = max(above) if above else None
    outer: tuple[tuple[int, str], ...] = ()
    if parent is not None and kind != ProvisionKind.ARTICLE and kind != ProvisionKind.CHAPTER:
        outer = pieces[parent].citation.parts  # "Mục 1 Chương II"; an article stands alone
    word = {"phan": "Phần", "chuong": "Chương", "muc": "Mục", "tieu_muc": "Tiểu mục", "dieu": "Điều"}[kind]
    return Piece(kind, number, f"{word} {number}", Citation(((level, number),) + outer), parent, title)


def _number(kind: ProvisionKind, raw: str) -> str:
    if kind in (ProvisionKind.CHAPTER, ProvisionKind.PART):
        if raw.isdigit():
            return to_roman(int(raw))
        return raw.upper() if re.fullmatch(_ROMAN, raw, re.I) else " ".join(raw.lower().split())
    return raw.lower()


def _continue(line: str, pieces: list[Piece], open_: dict[int, int], preamble: list[str]) -> None:
    """A line that opens nothing: a chapter's title on its own line, or more words of the provision."""
    if not open_:
        preamble.append(line)
        return
    current = pieces[max(open_.values())]
    if current.level > ARTICLE and not current.heading and not current.lines:
        current.heading = line
    else:
        current.lines.append(line)


def _unique_anchors(pieces: list[Piece]) -> None:
    """A draft that repeats a number (a typing slip) still gets one anchor per provision."""
    seen: dict[str, int] = {}
    for piece in pieces:
        anchor = piece.anchor
        seen[anchor] = seen.get(anchor, 0) + 1
        if seen[anchor] > 1:
            piece.label = f"{piece.label} ({seen[anchor]})"
            piece.number = f"{piece.number}-{seen[anchor]}"
            piece.citation = Citation(((piece.level, piece.number),) + piece.citation.parts[1:])
