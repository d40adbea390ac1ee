"""Raw Telegram updates as the Bot API delivers them, for `Dispatcher.feed_raw_update`; linked chats;
the bot process's drain."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from flask import Flask

from bot.broadcaster import Counts
from bot.broadcasting import Broadcasting
from bot.telegram import build_bot, build_dispatcher
from models import ChatLink, Person, db, utcnow
from models.chat import ChatPlatform
from tests.servers.telegram import BOT_USER

_numbers = itertools.count(1)
T = TypeVar("T")


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run` on a thread of its own: Playwright's sync API (the browser tests) keeps an event loop
    running in the main thread for the whole session."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def user(chat: int, language: str = "vi") -> dict[str, Any]:
    return {"id": chat, "is_bot": False, "first_name": "An", "last_name": "Nguyễn", "language_code": language}


def message(chat: int, text: str, language: str = "vi") -> dict[str, Any]:
    number = next(_numbers)
    found: dict[str, Any] = {
        "message_id": number,
        "date": 1_790_000_000,
        "chat": {"id": chat, "type": "private", "first_name": "An"},
        "from": user(chat, language),
        "text": text,
    }
    if text.startswith("/"):
        found["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": number, "message": found}


def press(chat: int, data: str) -> dict[str, Any]:
    number = next(_numbers)
    shown = message(chat, "Các nhóm thư")["message"] | {"from": BOT_USER}
    return {
        "update_id": number,
        "callback_query": {
            "id": f"q{number}",
            "from": user(chat),
            "chat_instance": "c1",
            "data": data,
            "message": shown,
        },
    }


def blocked(chat: int) -> dict[str, Any]:
    number = next(_numbers)
    return {
        "update_id": number,
        "my_chat_member": {
            "chat": {"id": chat, "type": "private", "first_name": "An"},
            "from": user(chat),
            "date": 1_790_000_000,
            "old_chat_member": {"status": "member", "user": BOT_USER},
            "new_chat_member": {"status": "kicked", "user": BOT_USER, "until_date": 0},
        },
    }


def feed(app: Flask, *updates: dict[str, Any]) -> None:
    """Feed updates one by one to a dispatcher built as the bot process builds it."""
    settings = app.extensions["nhomthu.settings"].bot

    async def run() -> None:
        bot = build_bot(settings.telegram)
        dispatcher = build_dispatcher(settings, app.app_context)
        try:
            for update in updates:
                await dispatcher.feed_raw_update(bot, update)
        finally:
            await bot.session.close()

    run_async(run())


def make_chat(person: Person, chat_id: int | str, platform: ChatPlatform = ChatPlatform.TELEGRAM) -> ChatLink:
    """A chat the person linked earlier (as /start <token> leaves it)."""
    link = ChatLink(person=person, platform=platform, chat_id=str(chat_id), linked_at=utcnow())
    db.session.add(link)
    db.session.commit()
    return link


def drain(app: Flask) -> Counts:
    """What `nhomthu bot --drain` does: every platform's broadcaster until nothing is due."""
    return run_async(Broadcasting(app.extensions["nhomthu.settings"].bot, app.app_context).drain())
