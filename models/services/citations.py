"""Citations of provisions in free text: "điểm a khoản 2 Điều 5", "Điều 5, khoản 2, điểm a", "Đ5 K2",
"Tại Điều 12, đề nghị bỏ khoản 3" all name the same kind of thing, written in its canonical form,
smallest first.

The text is read as mentions (one level and its numbers: "khoản 1, 2"), mentions written next to each
other make a chain (in either order), and a chain that lacks its article borrows it from the chain beside
it in a list ("khoản 1, khoản 2 Điều 3"), else from the last one before it in the paragraph ("Tại Điều
12, … khoản 3"), else from the next one, else from the context the caller gives (an earlier comment of
the same email). Each citation carries how sure that reading is.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace

# Levels, smallest first; a citation is written in this order.
POINT, CLAUSE, ARTICLE, SUBSECTION, SECTION, CHAPTER, PART = range(7)
WORDS = {POINT: "điểm", CLAUSE: "khoản", ARTICLE: "Điều", SUBSECTION: "Tiểu mục", SECTION: "Mục"}
WORDS |= {CHAPTER: "Chương", PART: "Phần"}
LETTERS = "a b c d đ e g h i k l m n o p q r s t u v x y".split()  # the order of points in a legal text

_ROMAN = r"[IVXLC]+"
_SEP = r"\s*(?:,|;|và|hoặc|/)\s*"
_PATTERNS: tuple[tuple[int, str, str], ...] = (
    (SUBSECTION, r"tiểu\s+mục\s+", r"\d+"),
    (SECTION, r"(?<!tiểu )mục\s+", r"\d+"),
    (CHAPTER, r"chương\s+", _ROMAN + r"|\d+"),
    (PART, r"phần\s+", r"thứ\s+\w+|" + _ROMAN + r"|\d+"),
    (ARTICLE, r"điều\s+|đ\.?\s*(?=\d)", r"\d+[a-zđ]?"),
    (CLAUSE, r"khoản\s+|k\.?\s*(?=\d)", r"\d+[a-zđ]?"),
    (POINT, r"điểm\s+", r"[a-zđ]\d?"),
)
_MENTION = re.compile(
    "|".join(
        rf"(?P<m{level}>(?<!\w)(?:{word})(?P<v{level}>(?:{value})(?!\w)(?:{_SEP}(?:{value})(?!\w))*))"
        for level, word, value in _PATTERNS
    ),
    re.IGNORECASE,
)
_TIGHT = re.compile(r"^[\s,]*(?:(?:của|tại|thuộc|trong|ở)\s+)?$", re.IGNORECASE)
_SPACE = re.compile(r"^\s*$")
_LIST = re.compile(r"^\s*(?:,|;|và|hoặc|cùng)\s*$", re.IGNORECASE)
_PARAGRAPH = re.compile(r"\n\s*\n")
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")

SURE, LISTED, BEFORE, AFTER, OUTSIDE, PARTIAL = 1.0, 0.95, 0.9, 0.6, 0.8, 0.5


@dataclass(frozen=True)
class Mention:
    level: int
    values: tuple[str, ...]
    start: int
    end: int
    abbreviated: bool


@dataclass(frozen=True)
class Citation:
    """One provision named: its numbers by level (article "5a", clause "2", point "a"), and how sure."""

    parts: tuple[tuple[int, str], ...]  # (level, number), smallest first
    confidence: float = SURE
    start: int = 0

    @property
    def text(self) -> str:
        return " ".join(f"{WORDS[level]} {number}" for level, number in self.shown_parts)

    @property
    def shown_parts(self) -> tuple[tuple[int, str], ...]:
        """An article is unique in its document: above it, chapters and sections are left out."""
        if self.has(ARTICLE):
            return tuple(p for p in self.parts if p[0] <= ARTICLE)
        return self.parts

    @property
    def complete(self) -> bool:
        """Names one provision of the document: an article is numbered through the whole document, and
        so are chapters and parts; a clause needs its article, a section its chapter."""
        return self.has(ARTICLE) or self.top >= CHAPTER

    def has(self, level: int) -> bool:
        return any(p[0] == level for p in self.parts)

    @property
    def top(self) -> int:
        return self.parts[-1][0]

    @property
    def bottom(self) -> int:
        return self.parts[0][0]

    def under(self, outer: Citation) -> Citation:
        """This citation completed by the levels of `outer` above its own top."""
        above = tuple(p for p in outer.parts if p[0] > self.top)
        return replace(self, parts=self.parts + above)


def find_provisions(text: str) -> list[str]:
    """The canonical citations in `text`, each smallest first, listed smallest first: points, then
    clauses, then articles, then sections and chapters, each in the draft's order."""
    found = [c for c in read_citations(text) if c.complete]
    return [c.text for c in sorted(unique(found), key=size_then_order)]


def unique(citations: list[Citation]) -> list[Citation]:
    seen: dict[str, Citation] = {}
    for citation in citations:
        if citation.text not in seen or seen[citation.text].confidence < citation.confidence:
            seen[citation.text] = citation
    return list(seen.values())


def size_then_order(citation: Citation) -> tuple:
    return (citation.bottom, order_key(citation))


def order_key(citation: Citation) -> tuple:
    """Where the provision sits in a draft: by article, clause, point, biggest level first."""
    return tuple(number_key(level, number) for level, number in reversed(citation.shown_parts))


def number_key(level: int, number: str) -> tuple[int, int, int]:
    if level == POINT:
        letter, digit = number[0], number[1:]
        return (level, LETTERS.index(letter) if letter in LETTERS else 99, int(digit or 0))
    digits = re.match(r"\d+", number)
    if digits:
        suffix = number[digits.end() :]
        return (level, int(digits.group()), LETTERS.index(suffix) + 1 if suffix in LETTERS else 0)
    return (level, roman_value(number) or 0, 0)


def read_citations(text: str, context: Citation | None = None) -> list[Citation]:
    """Every citation in `text`, paragraph by paragraph, completed where it can be; `context` is what an
    earlier part of the same message cited, used last, as sure as its confidence says."""
    text = unicodedata.normalize("NFC", text)
    citations: list[Citation] = []
    offset = 0
    for paragraph in _PARAGRAPH.split(text):
        for citation in _paragraph_citations(paragraph, context):
            citations.append(replace(citation, start=citation.start + offset))
        offset += len(paragraph) + 2
    return citations


def last_article(citations: list[Citation]) -> Citation | None:
    """The article (with the clause, if named) the last complete citation names: context for what follows."""
    for citation in reversed(citations):
        if citation.has(ARTICLE):
            parts = tuple(p for p in citation.parts if p[0] >= CLAUSE)
            return replace(citation, parts=parts, confidence=OUTSIDE)
    return None


def _paragraph_citations(paragraph: str, context: Citation | None) -> list[Citation]:
    chains = _chains(paragraph, list(_mentions(paragraph)))
    expanded = [_expand(chain) for chain in chains]
    lenders: dict[int, tuple[int, float]] = {}
    for n, citations in enumerate(expanded):
        if not citations[0].complete:
            found = _lender(paragraph, chains, expanded, n)
            if found is not None:
                lenders[n] = found
    # "Tại Điều 12, … khoản 3": the article only set the scene for the clause, it is not cited apart.
    absorbed = {i for n, (i, _) in lenders.items() if expanded[i][-1].bottom > expanded[n][0].top}
    result: list[Citation] = []
    for n, citations in enumerate(expanded):
        if n in absorbed:
            continue
        for citation in citations:
            if not citation.complete and n in lenders:
                index, confidence = lenders[n]
                citation = replace(citation.under(expanded[index][-1]), confidence=confidence)
            elif not citation.complete and context is not None and context.top > citation.top:
                citation = replace(citation.under(context), confidence=context.confidence)
            if not _is_abbreviated_alone(chains[n], citation):
                result.append(citation)
    return result


def _is_abbreviated_alone(chain: list[tuple[Mention, float]], citation: Citation) -> bool:
    """ "K12" alone is a school year, not a clause: abbreviations count only beside an article."""
    return all(m.abbreviated for m, _ in chain) and not citation.has(ARTICLE)


def _mentions(text: str):
    for match in _MENTION.finditer(text):
        level = int(next(name for name, value in match.groupdict().items() if value and name[0] == "m")[1:])
        raw = match.group(f"v{level}")
        values = tuple(_number(level, v) for v in re.split(_SEP, raw, flags=re.IGNORECASE) if v)
        head = match.group()[: len(match.group()) - len(raw)].strip().lower()
        yield Mention(level, values, match.start(), match.end(), abbreviated=len(head) <= 2)


def _number(level: int, value: str) -> str:
    value = " ".join(value.split())
    if level in (CHAPTER, PART) and re.fullmatch(r"\d+", value):
        return to_roman(int(value))
    if level in (CHAPTER, PART) and re.fullmatch(_ROMAN, value, re.IGNORECASE):
        return value.upper()
    return value.lower()


def _chains(text: str, mentions: list[Mention]) -> list[list[tuple[Mention, float]]]:
    """Mentions written next to each other, their levels rising ("điểm a khoản 2 Điều 5") or falling
    ("Điều 5, khoản 2, điểm a"), make one chain."""
    chains: list[list[tuple[Mention, float]]] = []
    for n, mention in enumerate(mentions):
        chain = chains[-1] if chains else None
        if chain is not None and _joins(text, chain, mention, mentions[n + 1 : n + 2]):
            chain.append((mention, SURE))
        else:
            chains.append([(mention, SURE)])
    return chains


def _joins(text: str, chain: list[tuple[Mention, float]], mention: Mention, after: list[Mention]) -> bool:
    last = chain[-1][0]
    if not _TIGHT.match(text[last.end : mention.start]) or mention.level == last.level:
        return False
    if any(m.level == mention.level for m, _ in chain):
        return False
    rising = len(chain) < 2 or chain[1][0].level > chain[0][0].level
    if mention.level > last.level:
        return rising
    if len(chain) >= 2 and rising:
        return False
    # Falling: unless the mention binds more tightly to the next one ("Điều 9, khoản 1 Điều 7").
    following = after[0] if after else None
    return not (
        following is not None
        and following.level > mention.level
        and _SPACE.match(text[mention.end : following.start])
        and not _SPACE.match(text[last.end : mention.start])
    )


def _expand(chain: list[tuple[Mention, float]]) -> list[Citation]:
    """A chain with lists in it ("điểm a, b khoản 2 Điều 5") names one provision per listed number."""
    mentions = sorted((m for m, _ in chain), key=lambda m: m.level)
    confidence = min(c for _, c in chain)
    parts: list[tuple[tuple[int, str], ...]] = [()]
    for mention in mentions:
        parts = [p + ((mention.level, v),) for p in parts for v in mention.values]
    start = min(m.start for m in mentions)
    return [Citation(p, confidence, start) for p in parts]


def _lender(
    text: str, chains: list[list[tuple[Mention, float]]], expanded: list[list[Citation]], n: int
) -> tuple[int, float] | None:
    """The chain an incomplete one borrows its article from, and how sure that is."""
    mine = expanded[n][0]

    def lends(index: int) -> bool:
        other = expanded[index][-1]
        needed = other.has(ARTICLE) if mine.top < ARTICLE else other.complete
        return needed and other.top > mine.top

    if n + 1 < len(chains) and lends(n + 1):
        gap = text[chains[n][-1][0].end : chains[n + 1][0][0].start]
        if _LIST.match(gap) and expanded[n + 1][0].bottom == mine.bottom:
            return n + 1, LISTED
    for index in range(n - 1, -1, -1):
        if lends(index):
            return index, BEFORE
    sentence_end = _SENTENCE_END.search(text, chains[n][-1][0].end)
    for index in range(n + 1, len(chains)):
        if lends(index) and (sentence_end is None or chains[index][0][0].start < sentence_end.start()):
            return index, AFTER
    return None


def to_roman(value: int) -> str:
    numerals = ((50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))
    out = ""
    for number, numeral in numerals:
        while value >= number:
            out, value = out + numeral, value - number
    return out


def roman_value(numeral: str) -> int | None:
    values = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}
    if not numeral or any(c not in values for c in numeral.upper()):
        return None
    total = 0
    digits = [values[c] for c in numeral.upper()]
    for n, digit in enumerate(digits):
        total += -digit if n + 1 < len(digits) and digits[n + 1] > digit else digit
    return total
