"""A notice as a chat message: its kind, title, unit, deadline or meeting, a short excerpt, the forum link.

Telegram's is built with aiogram's formatting nodes (text plus entities: nothing to escape, nothing that
a title with `<` or `*` in it can break); Zalo's consultation messages are plain text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiogram.utils.formatting import Bold, Text, TextLink, as_key_value, as_line, as_list

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
    """Keyword arguments for send_message: text and entities, no parse mode."""
    parts: list[Text] = [as_line(Bold(notice.kind.label_vi.upper(), ": ", notice.title))]
    parts += [as_key_value(label, value) for label, value in facts(notice, language)]
    if notice.excerpt:
        parts.append(Text("\n", notice.excerpt))
    parts.append(Text("\n", TextLink(say("read_more", language), url=thread_url(notice, site))))
    return as_list(*parts).as_kwargs()


def plain_message(notice: NoticeSummary, site: Site, language: str = "vi") -> str:
    """The same message as plain text, cut to fit one Zalo message."""
    head = f"{notice.kind.label_vi.upper()}: {notice.title}"
    lines = [head, *(f"{label}: {value}" for label, value in facts(notice, language))]
    link = f"{say('read_more', language)}: {thread_url(notice, site)}"
    room = ZALO_LIMIT - len("\n".join(lines)) - len(link) - 4
    excerpt = notice.excerpt if len(notice.excerpt) <= room else notice.excerpt[: max(room - 1, 0)] + "…"
    return "\n".join([*lines, "", excerpt, "", link]) if excerpt else "\n".join([*lines, "", link])
