"""One app context and one transaction per update: the edge owns the transaction, as the web request does.

Handlers do their database work and *return* what to send (an unsent Telegram method, or several);
this middleware commits first and sends after, so a chat never hears of a change that was not stored.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from typing import Any

from aiogram import BaseMiddleware
from aiogram.exceptions import TelegramForbiddenError
from aiogram.methods.base import TelegramMethod
from aiogram.types import TelegramObject

from models import db, utcnow
from models.chat import ChatPlatform
from models.services.chats import mark_blocked

log = logging.getLogger(__name__)
AppContext = Callable[[], AbstractContextManager[Any]]


class Transaction(BaseMiddleware):
    def __init__(self, context: AppContext) -> None:
        self.context = context

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        with self.context():
            data["session"] = db.session
            try:
                result = await handler(event, data)
                db.session.commit()
            except Exception:
                db.session.rollback()
                raise
            replies = result if isinstance(result, tuple | list) else (result,)
            for reply in replies:
                if isinstance(reply, TelegramMethod):
                    await self._send(reply)
            return None if any(isinstance(r, TelegramMethod) for r in replies) else result

    async def _send(self, method: TelegramMethod[Any]) -> None:
        try:
            await method
        except TelegramForbiddenError as refusal:  # blocked between the message and the answer
            chat_id = getattr(method, "chat_id", None)
            if chat_id is not None:
                mark_blocked(db.session, ChatPlatform.TELEGRAM, str(chat_id), utcnow(), refusal.message)
                db.session.commit()
