"""Reading a raw message into the few fields the pipeline decides on.

The standard library's compat32 policy is used on purpose: on real archives it parses about ten times
faster than policy.default and never raises on broken headers (shared/corpora/README.md); headers are
decoded here, one at a time, with every declared charset honoured and the result in NFC.
"""

from __future__ import annotations

import email.errors
import email.header
import email.parser
import email.policy
import email.utils
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message

_PARSER = email.parser.BytesParser(policy=email.policy.compat32)
_MSGID = re.compile(r"<[^<>\s]+>")
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")


class Unreadable(Exception):
    """The bytes are not a message we can act on; the reason goes to the quarantine."""


@dataclass(frozen=True)
class ParsedMail:
    message: Message = field(repr=False)
    sender: str | None  # the From address, lower-cased
    sender_name: str
    subject: str
    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    date: datetime | None  # the Date header, when it is a real date

    def header(self, name: str) -> str:
        return decode_header(raw_header(self.message, name))


def parse(raw: bytes) -> ParsedMail:
    if not raw.strip():
        raise Unreadable("thư rỗng (empty message)")
    try:
        message = _PARSER.parsebytes(raw)
    except RecursionError as error:  # thousands of nested parts: an attack or a broken generator
        raise Unreadable("cấu trúc MIME lồng quá sâu (MIME nesting too deep)") from error
    if not message.keys():
        raise Unreadable("không có phần đầu thư (no headers)")
    name, address = read_from(raw_header(message, "From"))
    return ParsedMail(
        message=message,
        sender=address,
        sender_name=name,
        subject=decode_header(raw_header(message, "Subject")),
        message_id=first_message_id(message.get("Message-ID", "")),
        in_reply_to=first_message_id(message.get("In-Reply-To", "")),
        references=tuple(_MSGID.findall(str(message.get("References", "")))),
        date=read_date(raw_header(message, "Date")),
    )


def stand_in_id(raw: bytes) -> str:
    """A message without a Message-ID still gets a stable one, so a copy of it is recognised."""
    return f"<{hashlib.sha256(raw).hexdigest()[:32]}@khong-co-message-id.invalid>"


def read_from(value: str) -> tuple[str, str | None]:
    """(display name, lower-cased address) of a From header.

    The address is read with every encoded word masked, and only the display name is decoded:
    decoding first would let an encoded word such as =?utf-8?q?Foo_<victim@x>?= pose as the address.
    """
    masked = _ENCODED_WORD.sub(lambda word: "x" * len(word.group(0)), value)
    _, address = email.utils.parseaddr(masked)
    if "@" not in address:
        return "", None
    cut = masked.find("<")
    name = value[:cut] if cut >= 0 else email.utils.parseaddr(value)[0]
    return decode_header(name).strip().strip('"').strip(), address.strip().lower()


def read_date(value: str) -> datetime | None:
    try:
        moment = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:  # "-0000": the time is UTC, the zone unknown (RFC 5322 3.3)
        moment = moment.replace(tzinfo=UTC)
    return moment if 1970 <= moment.year <= 9999 else None


def decode_header(value: object) -> str:
    """An RFC 2047 header as text; unknown charsets fall back to UTF-8 with replacement, never raise.

    Raw 8-bit headers (RFC 6532, or old clients) reach us as surrogate escapes: read as UTF-8,
    or windows-1252 when they are not UTF-8.
    """
    text = _unescape(value.encode() if isinstance(value, email.header.Header) else str(value))
    try:
        parts = email.header.decode_header(text)
    except email.errors.HeaderParseError:
        parts = [(text, None)]
    decoded = "".join(_decode_part(chunk, charset) for chunk, charset in parts)
    return unicodedata.normalize("NFC", " ".join(decoded.split()))


def raw_header(message: Message, name: str) -> str:
    """The first `name` header as written, 8-bit bytes read as UTF-8 (compat32's get() wraps them in a
    Header whose text loses them)."""
    wanted = name.lower()
    value = next((str(v) for k, v in message.raw_items() if k.lower() == wanted), "")
    return _unescape(value)


def _unescape(text: str) -> str:
    if text.isascii() or not any("\udc80" <= char <= "\udcff" for char in text):
        return text
    raw = text.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("windows-1252", "replace")


def _decode_part(chunk: bytes | str, charset: str | None) -> str:
    if isinstance(chunk, str):
        return chunk
    for candidate in (charset or "ascii", "utf-8"):
        try:
            return chunk.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return chunk.decode("utf-8", errors="replace")


def first_message_id(value: object) -> str | None:
    found = _MSGID.search(str(value or ""))
    return found.group(0) if found else None
