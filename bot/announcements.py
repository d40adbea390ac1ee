"""A notice as a chat message: its kind, title, unit, deadline or meeting, a short excerpt, the forum link.

Telegram's is text plus message entities (bot/entities.py: nothing to escape, nothing that a title with
`<` or `*` in it can break); Zalo's consultation messages are plain text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.entities import Segment, render
from bot.texts import say
from models.services.chats import NoticeSummary
from models.site import VIETNAM, Site

ZALO_LIMIT = 2000  # characters in one consultation message


def when(moment: datetime) -> str:
    return moment.astimezone(VIETNAM).strftime("%H:%M %d/%m/%Y")


def facts(notice: NoticeSummary, language: str = "vi") -> list[tuple[str, str]]:
    found = [(say("from", language), notice.unit)] if notice.unit else []
    if notice.meeting_start:
        found.append((say("meeting", language), when(notice.meeting_start)))
    if notice.meeting_place:
        found.append((say("place", language), notice.meeting_place))
    if notice.deadline:
        found.append((say("deadline", language), when(notice.deadline)))
    return found


def thread_url(notice: NoticeSummary, site: Site) -> str:
    return site.url(f"/chu-de/{notice.thread_id}")


def telegram_message(notice: NoticeSummary, site: Site, language: str = "vi") -> dict[str, Any]:
    """The Bot API's `text` and `entities` for sendMessage: the head in bold, then a blank line, each fact
    with its label in bold, the excerpt and the link each after a blank line."""
    segments = [Segment(f"{notice.kind.label_vi.upper()}: {notice.title}", "bold"), Segment("\n\n")]
    for label, value in facts(notice, language):
        segments += [Segment(f"{label}:", "bold"), Segment(f" {value}\n")]
    if notice.excerpt:
        segments.append(Segment(f"\n{notice.excerpt}\n"))
    segments += [Segment("\n"), Segment(say("read_more", language), "text_link", thread_url(notice, site))]
    return render(segments)


def plain_message(notice: NoticeSummary, site: Site, language: str = "vi") -> str:
    """The same message as plain text, cut to fit one Zalo message."""
    head = f"{notice.kind.label_vi.upper()}: {notice.title}"
    lines = [head, *(f"{label}: {value}" for label, value in facts(notice, language))]
    link = f"{say('read_more', language)}: {thread_url(notice, site)}"
    room = ZALO_LIMIT - len("\n".join(lines)) - len(link) - 4
    excerpt = notice.excerpt if len(notice.excerpt) <= room else notice.excerpt[: max(room - 1, 0)] + "…"
    return "\n".join([*lines, "", excerpt, "", link]) if excerpt else "\n".join([*lines, "", link])
