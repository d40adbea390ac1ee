"""Trimming of quoted text from email replies, so a reply becomes a forum post of what the person wrote.

A reply body is read line by line, once. Lines quoted with ``>`` and the attribution lines that
introduce them ("On … wrote:", "Vào … đã viết:") are dropped wherever they are, so bottom-posted and
inline answers survive. A tail marker — a signature separator, a mobile-client signature, an "Original
message" or forward separator, an Outlook header block, or an attribution followed by unquoted text —
drops everything from that line on. Every dropped line is kept, in order, in ``Trimmed.removed``.
"""

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Trimmed:
    text: str  # what the person wrote (never empty if the input had any non-quoted text)
    removed: str  # what was removed (quotes, attribution, forwarded original, signature)


# "On Thu, Nov 19, 2026 at 9:12 AM An <an@x> wrote:", "Vào lúc 09:12 19/11/2026, An đã viết:",
# Zimbra's "----- Vào …, lúc …, … đã viết:". Case-sensitive, so a wrapped "vào lúc" is not a start.
_ATTRIBUTION_START = re.compile(r"(?:-{2,} ?)?(?:On|Vào|Le|Am) \S")
_ATTRIBUTION_END = re.compile(r"(?:wrote|writes|said|đã viết|a écrit|schrieb) ?:(?: ?-{2,})?$", re.IGNORECASE)
# "Rahul Sundaram wrote:" with no date, accepted only when a quote follows it.
_BARE_ATTRIBUTION = re.compile(r"(?:wrote|writes):$", re.IGNORECASE)
_ATTRIBUTION_MAX_LINES = 3
_ATTRIBUTION_MAX_CHARS = 400
_BARE_ATTRIBUTION_MAX_CHARS = 120

_SEPARATOR = re.compile(
    r"-*\s*(?:original message|reply message|thư gốc|tin nhắn gốc|forwarded message|begin forwarded message"
    r"|thư đã chuyển tiếp|thư chuyển tiếp|tin nhắn đã được chuyển tiếp|tin nhắn chuyển tiếp"
    r"|bắt đầu tin nhắn được chuyển tiếp)\s*:?\s*-*",
    re.IGNORECASE,
)
_MOBILE_SIGNATURE = re.compile(
    r"(?:sent (?:from|via|with) (?:my |yahoo|mail for|outlook|samsung|huawei|xiaomi|blackberry|aol)"
    r"|get outlook for (?:ios|android)"
    r"|(?:được )?gửi từ (?:iphone|ipad|điện thoại|thiết bị|yahoo|outlook|samsung|android|ứng dụng)"
    r"|(?:tải|nhận) outlook cho (?:ios|android))",
    re.IGNORECASE,
)
_MOBILE_SIGNATURE_MAX_CHARS = 80
_UNDERSCORES = re.compile(r"_{8,}")

# Outlook's block above the original: "Từ: … / Đã gửi: … / Đến: … / Chủ đề: …", also bolded "*From:*".
_HEADER_KEY = re.compile(r"\*{0,2}([^\W\d_][^\W\d_ ]*(?: [^\W\d_]+)?)\*{0,2} ?:")
_FROM_KEYS = frozenset({"from", "từ"})
_CONFIRMING_KEYS = frozenset({"sent", "date", "subject", "đã gửi", "ngày gửi", "chủ đề", "tiêu đề"})
_HEADER_BLOCK_REACH = 4
# "[...]", "<snip>", "... snip ..." stand for quoted text the person cut out.
_SNIP = re.compile(r"\[(?:\.\.\.|…)\]|<\s*snip\s*>|\[\s*snip\s*\]|[.…]*\s*snip\s*[.…]*", re.IGNORECASE)
_QUOTE_REACH = 6


def trim_quotes(text: str) -> Trimmed:
    """Split a reply body into what the person wrote and what they quoted or appended."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept = _mark_kept(lines)
    written = _join_kept(lines, kept)
    if not written:
        return Trimmed(text=_strip_blank_edges(lines), removed="")
    dropped = [line for line, keep in zip(lines, kept, strict=True) if not keep]
    return Trimmed(text=written, removed=_strip_blank_edges(dropped))


def _mark_kept(lines: list[str]) -> list[bool]:
    """One pass over the lines: True for each line the person wrote."""
    kept = [True] * len(lines)
    i = 0
    while i < len(lines):
        if _is_blank(lines[i]):
            i += 1
        elif _is_quote(lines[i]):
            kept[i] = False
            i += 1
        elif _starts_tail(lines, i):
            kept[i:] = [False] * (len(lines) - i)
            break
        elif (end := _attribution_end(lines, i)) is not None:
            if not _is_quote_ahead(lines, end):
                kept[i:] = [False] * (len(lines) - i)
                break
            kept[i:end] = [False] * (end - i)
            i = end
        else:
            i += 1
    return kept


def _is_quote(line: str) -> bool:
    """A line quoted with ">", or a marker standing for quoted text the person cut."""
    stripped = line.strip()
    return stripped.startswith(">") or _SNIP.fullmatch(stripped) is not None


def _is_blank(line: str) -> bool:
    return not line.strip()


def _starts_tail(lines: list[str], i: int) -> bool:
    """Whether everything from line i on is signature, forwarded or original message."""
    line = lines[i].strip()
    return (
        line == "--"  # "-- " signature separator, also without its space
        or _is_mobile_signature(line)
        or _SEPARATOR.fullmatch(line) is not None
        or _is_header_block(lines, i)
        or (_UNDERSCORES.fullmatch(line) is not None and _is_header_block_ahead(lines, i + 1))
    )


def _is_mobile_signature(line: str) -> bool:
    return len(line) <= _MOBILE_SIGNATURE_MAX_CHARS and _MOBILE_SIGNATURE.match(line) is not None


def _header_key(line: str) -> str | None:
    match = _HEADER_KEY.match(line.strip())
    return match.group(1).casefold() if match else None


def _is_header_block(lines: list[str], i: int) -> bool:
    """A From/Từ line with a Sent/Date/Subject (or Vietnamese) header in the next few lines."""
    if _header_key(lines[i]) not in _FROM_KEYS:
        return False
    following = lines[i + 1 : i + 1 + _HEADER_BLOCK_REACH]
    return any(_header_key(line) in _CONFIRMING_KEYS for line in following)


def _is_header_block_ahead(lines: list[str], start: int) -> bool:
    for j in range(start, min(start + 2, len(lines))):
        if not _is_blank(lines[j]):
            return _is_header_block(lines, j)
    return False


def _attribution_end(lines: list[str], i: int) -> int | None:
    """The index just past an attribution starting at line i (wrapped over up to 3 lines), if any."""
    first = lines[i].strip()
    if _ATTRIBUTION_START.match(first):
        joined = ""
        for j in range(i, min(i + _ATTRIBUTION_MAX_LINES, len(lines))):
            part = lines[j].strip()
            if not part or (j > i and _is_quote(part)):
                return None
            joined = f"{joined} {part}"
            if _ATTRIBUTION_END.search(part):
                is_short = len(joined) <= _ATTRIBUTION_MAX_CHARS
                return j + 1 if is_short and any(c.isdigit() for c in joined) else None
        return None
    if len(first) <= _BARE_ATTRIBUTION_MAX_CHARS and _BARE_ATTRIBUTION.search(first):
        return i + 1 if _is_quote_ahead(lines, i + 1) else None
    return None


def _is_quote_ahead(lines: list[str], start: int) -> bool:
    """Whether a quoted line comes within the next few lines (a snip marker may come first)."""
    return any(_is_quote(line) for line in lines[start : start + _QUOTE_REACH])


def _join_kept(lines: list[str], kept: list[bool]) -> str:
    """The kept lines, with blank lines left around a removed block merged into one."""
    out: list[str] = []
    removed_since_text = False
    for line, keep in zip(lines, kept, strict=True):
        if not keep:
            removed_since_text = True
        elif not _is_blank(line):
            out.append(line)
            removed_since_text = False
        elif not (removed_since_text and out and _is_blank(out[-1])):
            out.append(line)
    return _strip_blank_edges(out)


def _strip_blank_edges(lines: list[str]) -> str:
    start, end = 0, len(lines)
    while start < end and _is_blank(lines[start]):
        start += 1
    while end > start and _is_blank(lines[end - 1]):
        end -= 1
    return "\n".join(lines[start:end])
