"""A Telegram message as text plus message entities, built from segments: nothing to escape, and nothing
that a title with `<` or `*` in it can break (no parse mode).

Telegram counts an entity's offset and length in UTF-16 code units: Vietnamese letters (even the
precomposed ones with two diacritics, `ộ`) are one unit each, an emoji outside the BMP (`📢`) is two.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple


class Segment(NamedTuple):
    text: str
    kind: str = ""  # an entity type (`bold`, `italic`, `text_link`, …); empty: plain text
    url: str = ""  # for `text_link`


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def render(segments: Iterable[Segment]) -> dict[str, Any]:
    """The Bot API's `text` and `entities` (in order of offset) for the segments, one after another."""
    text: list[str] = []
    entities: list[dict[str, Any]] = []
    offset = 0
    for segment in segments:
        length = utf16_length(segment.text)
        if segment.kind and length:
            entity: dict[str, Any] = {"type": segment.kind, "offset": offset, "length": length}
            if segment.url:
                entity["url"] = segment.url
            entities.append(entity)
        text.append(segment.text)
        offset += length
    return {"text": "".join(text), "entities": entities}
