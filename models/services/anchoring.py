"""Reading a reply to a draft as comments: split into its numbered items, each tied to the provisions it
cites (or, citing none, to the provision whose words it quotes), with how sure that is.

Pure functions on strings and a list of the draft's provisions; models.services.comments stores the result.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from functools import lru_cache

from models.services.citations import AFTER, PARTIAL, Citation, last_article, read_citations
from models.services.search import fold

SURE_ENOUGH = 0.7  # below this, the drafting unit confirms where the comment belongs
_ORDINAL = r"(?:ý kiến\s+)?thứ\s+(?:nhất|hai|ba|tư|năm|sáu|bảy|tám|chín|mười)\s*[,:.]"
_ITEM = re.compile(rf"^[ \t]*(?:\d{{1,2}}[.)]|[-–•*+]|{_ORDINAL})[ \t]+", re.IGNORECASE | re.MULTILINE)
_CLOSING = re.compile(
    r"^\s*(?:trân trọng|kính thư|xin (?:chân thành )?cảm ơn|xin trân trọng cảm ơn|thanks|regards|--\s*$)",
    re.IGNORECASE | re.MULTILINE,
)
_QUOTED = re.compile(r"[“\"«']([^”\"»']{12,})[”\"»']")
_WORD = re.compile(r"\w+")
SHINGLE = 5
SHORT = 160  # a segment citing nothing and shorter than this, beside anchored ones, is a greeting


@dataclass(frozen=True)
class Passage:
    """A provision as anchoring sees it: its canonical citation and its own words."""

    citation: str
    text: str


@dataclass(frozen=True)
class Reading:
    """One comment read out of a reply: the provision it is on ("" for general), what was cited, how sure."""

    text: str
    citation: str  # a provision of the draft, or "" (general, or not found)
    cited: str  # what the text names ("khoản 3 Điều 12", "khoản 3"), or "" when anchored by a quote
    confidence: float

    @property
    def is_sure(self) -> bool:
        return self.confidence >= SURE_ENOUGH


def segments(text: str) -> list[str]:
    """The numbered (or dashed) items of a reply, the text before the first one kept as its own segment;
    without items, its paragraphs. Greetings and signatures after "Trân trọng" are left out."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n")
    closing = _CLOSING.search(text)
    if closing:
        text = text[: closing.start()]
    starts = [m.start() for m in _ITEM.finditer(text)]
    if len(starts) < 2:
        parts = re.split(r"\n\s*\n", text)
    else:
        parts = [text[: starts[0]]] + [
            text[a:b] for a, b in zip(starts, starts[1:] + [len(text)], strict=True)
        ]
    return [part.strip() for part in parts if part.strip()]


def read_reply(text: str, passages: list[Passage]) -> list[Reading]:
    """The comments of one reply, in order. A reply that anchors nothing is one general comment."""
    known = {p.citation for p in passages}
    readings: list[Reading] = []
    context: Citation | None = None
    for segment in segments(text):
        citations = read_citations(segment, context)
        if citations and _is_heading(segment):
            context = last_article(citations)  # "Góp ý Điều 7:" introduces the items below it
            continue
        # A sibling item's article is only a guess for the next ("2. Điều 8 …  3. bỏ khoản 3").
        found = last_article(citations)
        if found is not None and (context is None or found.parts[-1] != context.parts[-1]):
            context = replace(found, confidence=AFTER)
        if citations:
            readings += [_cited(segment, c, known) for c in _distinct(citations)]
        else:
            readings.append(_quoted(segment, passages))
    anchored = [r for r in readings if r.citation or r.cited]
    if not anchored:
        whole = "\n\n".join(r.text for r in readings).strip()
        return [Reading(whole, "", "", 1.0)] if whole else []
    return [r for r in readings if r.citation or r.cited or not _is_aside(r.text)]


def _is_heading(text: str) -> bool:
    return len(text) < 60 and text.rstrip().endswith(":") and "\n" not in text.strip()


def _is_aside(text: str) -> bool:
    return len(text) < SHORT or text.rstrip().endswith(":")


def _distinct(citations: list[Citation]) -> list[Citation]:
    seen: dict[str, Citation] = {}
    for citation in citations:
        if citation.text not in seen:
            seen[citation.text] = citation
    return list(seen.values())


def _cited(segment: str, citation: Citation, known: set[str]) -> Reading:
    """The provision the citation names; one that is not in the draft falls back to the nearest
    provision above it that is, for the drafting unit to confirm."""
    if not citation.complete:
        return Reading(segment, "", citation.text, min(citation.confidence, AFTER))
    if citation.text in known:
        return Reading(segment, citation.text, citation.text, citation.confidence)
    for cut in range(1, len(citation.parts)):
        wider = Citation(citation.parts[cut:])
        if wider.text in known:
            return Reading(segment, wider.text, citation.text, min(citation.confidence, PARTIAL))
    return Reading(segment, "", citation.text, 0.0)


def _quoted(segment: str, passages: list[Passage]) -> Reading:
    """A comment that cites nothing but quotes (or repeats) a provision's words is about that provision."""
    folded_passages = [_folded(p.text) for p in passages]
    for quote in _QUOTED.findall(segment):
        wanted = _folded(quote)
        hits = [n for n, words in enumerate(folded_passages) if wanted and wanted in words]
        if hits:
            return Reading(segment, passages[hits[-1]].citation, "", 0.9 if len(hits) == 1 else 0.6)
    mine = _shingles(segment)
    best, shared = -1, 0
    for n, passage in enumerate(passages):
        count = len(mine & _shingles(passage.text))
        if count > shared:
            best, shared = n, count
    if shared == 0:
        return Reading(segment, "", "", 1.0)
    return Reading(segment, passages[best].citation, "", min(0.85, 0.4 + 0.1 * shared))


@lru_cache(maxsize=4096)  # a draft's provisions are read again for every comment on it
def _folded(text: str) -> str:
    return " ".join(_WORD.findall(fold(text)))


@lru_cache(maxsize=4096)
def _shingles(text: str) -> frozenset[tuple[str, ...]]:
    words = _WORD.findall(fold(text))
    return frozenset(tuple(words[n : n + SHINGLE]) for n in range(len(words) - SHINGLE + 1))
