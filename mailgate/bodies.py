"""Getting the readable content out of a parsed message: its text and HTML bodies and its attachments.

Nothing here raises on bad bytes. Every declared charset is honoured through Python's codecs, with the
aliases real mailers use; text that does not fit falls back to UTF-8 (kept, with U+FFFD, when only a few
bytes are damaged), then windows-1252, each fallback noted in `Body.problems`. Text comes out in NFC with
\\n line endings; NFC matters for Vietnamese, as windows-1258 spells many toned letters as a base letter
plus a combining tone mark ("a\\u0301" for "á"). Only a message with no headers, or a multipart with no
parts and nothing in it, is `Malformed`.
"""

from __future__ import annotations

import codecs
import email.errors
import email.generator
import io
import mimetypes
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from email.message import Message
from functools import lru_cache
from typing import cast

from mailgate.parsing import decode_header

# Labels mailers send that Python does not know, or knows as something narrower than what is meant.
_ALIASES = {
    "utf8": "utf-8",
    "windows-1258": "cp1258",
    "unicode-1-1-utf-7": "utf-7",
    "ks_c_5601-1987": "cp949",
    "windows-874": "cp874",
    "x-gbk": "gbk",
    "x-sjis": "shift_jis",
    "x-mac-ce": "mac_latin2",
    "x-mac-centraleurroman": "mac_latin2",
    "x-mac-ukrainian": "mac_cyrillic",
}
# Charsets mailers use as labels for a larger one: tried as declared first, then widened (with a note).
_WIDER = {"gb2312": "gb18030", "gbk": "gb18030", "euc_kr": "cp949", "shift_jis": "cp932"}
# Python text codecs that are not charsets; punycode is also quadratic on long input.
_NOT_CHARSETS = frozenset({"punycode", "idna", "unicode_escape", "raw_unicode_escape", "undefined"})
_FALLBACKS = ("utf-8", "windows-1252")
_BIDI_SUFFIX = re.compile(r"^(iso-8859-\d+)-[ie]$")
_SEPARATORS = re.compile(r"[/\\]")
_CONTENT_TYPE = re.compile(r"[!#$%&'*+\-.^_`{|}~0-9a-z]+/[!#$%&'*+\-.^_`{|}~0-9a-z]+")
_MIME_TYPES = mimetypes.MimeTypes(filenames=())  # the built-in table only, the same on every machine
_MAX_FILENAME_BYTES = 200
_BODY_TYPES = ("text/plain", "text/html")
_NO_BODY_YET = object()


class Malformed(Exception):
    """Input with nothing usable in it; the message says why, in Vietnamese then English."""


@dataclass(frozen=True)
class Attachment:
    filename: str  # decoded, NFC, without directories or leading dots, never empty
    content_type: str  # lower-case
    data: bytes
    content_id: str | None  # for inline cid: images, without the angle brackets


@dataclass(frozen=True)
class Body:
    text: str | None  # the text/plain body, decoded, NFC, \n line endings
    html: str | None  # the text/html body, decoded, NFC, not sanitised
    attachments: tuple[Attachment, ...]
    problems: tuple[str, ...]  # non-fatal notes on how the content was read


@dataclass
class _Found:
    text: str | None = None
    html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    broken: bool = False
    body_from: object = _NO_BODY_YET  # the multipart/alternative the body came from, or None


def extract_body(message: Message) -> Body:
    """The text, HTML and attachments of `message`; `Malformed` only when nothing in it can be used."""
    if not message.keys():
        raise Malformed("thư không có phần đầu (message has no headers)")
    found = _Found()
    for part, parent, alternative in _leaves(message):
        _take(part, parent, alternative, found)
    if found.broken and found.text is None and found.html is None and not found.attachments:
        raise Malformed("thư nhiều phần trống, không có phần nào (multipart with no parts and no content)")
    return Body(found.text, found.html, tuple(found.attachments), tuple(found.problems))


def _leaves(message: Message) -> Iterator[tuple[Message, Message | None, Message | None]]:
    """The parts holding content, in order, each with its parent and its nearest multipart/alternative.
    Forwarded messages (message/*) are leaves: their insides stay theirs."""
    stack: list[tuple[Message, Message | None, Message | None]] = [(message, None, None)]
    while stack:
        part, parent, alternative = stack.pop()
        if part.is_multipart() and part.get_content_maintype() != "message":
            inner = part if part.get_content_subtype() == "alternative" else alternative
            children = cast(list[Message], part.get_payload())
            stack.extend((child, part, inner) for child in reversed(children))
        else:
            yield part, parent, alternative


def _take(part: Message, parent: Message | None, alternative: Message | None, found: _Found) -> None:
    """The first text part is the body; its other rendition (text/plain beside text/html) is taken only
    from the same multipart/alternative. Any other part is an attachment, except further renditions."""
    kind = part.get_content_type()
    inline = kind in _BODY_TYPES and not _is_attachment(part)
    same_body = found.body_from is _NO_BODY_YET or (
        alternative is not None and found.body_from is alternative
    )
    if part.get_content_maintype() == "multipart":
        _take_broken_multipart(part, found)
    elif inline and same_body and kind == "text/plain" and found.text is None:
        found.text, found.body_from = _part_text(part, found.problems), alternative
    elif inline and same_body and kind == "text/html" and found.html is None:
        found.html, found.body_from = _part_text(part, found.problems), alternative
    elif not (inline and alternative is not None and parent is alternative):
        found.attachments.append(_attachment(part, len(found.attachments) + 1, found.problems))


def _take_broken_multipart(part: Message, found: _Found) -> None:
    """A multipart whose parts were not found (no or wrong boundary): its raw body is read as text."""
    found.broken = True
    if not _payload_bytes(part).strip():
        return
    found.problems.append(f"{part.get_content_type()} has no parts (missing or wrong boundary), read as text")
    if found.text is None:
        found.text = _part_text(part, found.problems)
    else:
        found.attachments.append(_attachment(part, len(found.attachments) + 1, found.problems))


def _is_attachment(part: Message) -> bool:
    return part.get_content_disposition() == "attachment" or bool(part.get_filename())


def _payload_bytes(part: Message) -> bytes:
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _part_text(part: Message, problems: list[str]) -> str:
    notes: list[str] = []
    text = _cleaned(decode_text(_payload_bytes(part), part.get_content_charset(), notes), notes)
    problems.extend(f"{part.get_content_type()}: {note}" for note in notes)
    return text


def decode_text(data: bytes, declared: str | None, problems: list[str]) -> str:
    """`data` as text in its declared charset, or the first fallback that fits; never raises. How it was
    read, when that is not simply as declared, is appended to `problems`."""
    label = (declared or "").strip().strip("\"'").lower()
    codec = _codec(label) if label else None
    chain = [c for c in dict.fromkeys((codec, _WIDER.get(codec or ""), *_FALLBACKS)) if c]
    text, used = _first_fit(data, chain)
    if not label and used != "utf-8":
        problems.append(f"no charset declared and not UTF-8, read as {used}")
    elif label and codec is None:
        problems.append(f"charset {label!r} unknown, read as {used}")
    elif label and used != codec:
        problems.append(f"text does not fit charset {label!r}, read as {used}")
    return text


@lru_cache(maxsize=256)
def _codec(label: str) -> str | None:
    """Python's codec for a declared charset label, or None when there is no such text codec."""
    name = _ALIASES.get(label) or _BIDI_SUFFIX.sub(r"\1", label)
    if name.startswith("x-mac-"):
        name = "mac_" + name.removeprefix("x-mac-")
    try:
        b"".decode(name)  # LookupError for unknown names and for bytes-to-bytes codecs such as base64
        canonical = codecs.lookup(name).name
    except (LookupError, ValueError):
        return None
    if canonical in _NOT_CHARSETS:
        return None
    return "windows-1252" if canonical == "iso8859-1" else canonical  # as mail clients and browsers do


def _first_fit(data: bytes, chain: Sequence[str]) -> tuple[str, str]:
    for name in chain:
        try:
            return data.decode(name), name
        except ValueError:  # UnicodeDecodeError, and UnicodeError from a few codecs
            if name == "utf-8" and _is_damaged_utf8(data):
                return data.decode("utf-8", errors="replace"), "utf-8 with replacement characters"
    return data.decode("windows-1252", errors="replace"), "windows-1252 with replacement characters"


def _is_damaged_utf8(data: bytes) -> bool:
    """UTF-8 with a few bad bytes (a letter cut in two, a stray byte from a footer) rather than text in
    another charset: more of its non-ASCII letters decode than fail."""
    text = data.decode("utf-8", errors="replace")
    damaged = text.count("\ufffd")
    return sum(1 for c in text if c > "\x7f") - damaged > damaged


def _cleaned(text: str, problems: list[str]) -> str:
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:  # never readable, and PostgreSQL refuses it in text columns
        problems.append("NUL characters removed")
        text = text.replace("\x00", "")
    return unicodedata.normalize("NFC", text)


def _attachment(part: Message, number: int, problems: list[str]) -> Attachment:
    kind = part.get_content_type()
    if not _CONTENT_TYPE.fullmatch(kind):
        problems.append(f"content type {kind!r} is not valid, kept as application/octet-stream")
        kind = "application/octet-stream"
    name = decode_header(_readable_headers(part).get_filename() or "")
    if part.get_content_maintype() == "message":
        data = _serialised(part, problems)
        subject = _SEPARATORS.sub("-", _forwarded_subject(part))
        name = f"{subject}.eml" if subject else name
    else:
        data = _payload_bytes(part)
    content_id = str(part.get("Content-ID", "")).strip().strip("<>").strip() or None
    return Attachment(safe_filename(name, kind, number), kind, data, content_id)


def _serialised(part: Message, problems: list[str]) -> bytes:
    """The forwarded message (or delivery-status blocks) as bytes, headers unfolded as they came."""
    payload = part.get_payload()
    if not isinstance(payload, list):
        return _payload_bytes(part)
    buffer = io.BytesIO()
    generator = email.generator.BytesGenerator(buffer, mangle_from_=False, maxheaderlen=0)
    try:
        for inner in payload:
            generator.flatten(inner)
    except (ValueError, TypeError, LookupError, RecursionError, email.errors.MessageError) as error:
        problems.append(f"{part.get_content_type()} could not be written out whole: {error}")
    return buffer.getvalue()


def _forwarded_subject(part: Message) -> str:
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    return decode_header(_readable_headers(inner).get("Subject", "")) if isinstance(inner, Message) else ""


def _readable_headers(part: Message) -> Message:
    """The part, or when a header holds raw 8-bit bytes (RFC 6532 UTF-8, or a legacy charset), which
    compat32 hands out as U+FFFD, a copy of its headers with those bytes read as UTF-8, else windows-1252."""
    items = [(name, str(value)) for name, value in part.raw_items()]
    read = [(name, _unescaped(value)) for name, value in items]
    if read == items:
        return part
    copy = Message()
    for name, value in read:
        copy[name] = value
    return copy


def _unescaped(text: str) -> str:
    """compat32 keeps raw 8-bit header bytes as lone surrogates: they become bytes again, read as text."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _first_fit(text.encode("utf-8", "surrogateescape"), _FALLBACKS)[0]
    return text


def safe_filename(name: str, content_type: str, number: int) -> str:
    """A name that is safe to save under: the last path component, NFC, without control or format
    characters or leading dots; "tep-dinh-kem-<number><extension>" when nothing is left."""
    base = unicodedata.normalize("NFC", _SEPARATORS.split(name)[-1])
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip().lstrip(".").strip()
    if not base:
        return f"tep-dinh-kem-{number}{_MIME_TYPES.guess_extension(content_type) or '.bin'}"
    return _shortened(base)


def _shortened(name: str) -> str:
    stem, dot, extension = name.rpartition(".")
    suffix = dot + extension if stem and len(extension) <= 16 else ""
    room = _MAX_FILENAME_BYTES - len(suffix.encode("utf-8"))
    return name[: len(name) - len(suffix)].encode("utf-8")[:room].decode("utf-8", errors="ignore") + suffix
