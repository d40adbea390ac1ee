"""Sending one notice to one chat, per platform, and reading the platform's answer as one of a few
outcomes the broadcaster acts on."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import LinkPreviewOptions

from bot.announcements import plain_message, telegram_message
from bot.zalo import ZaloClient, ZaloError, ZaloUnreachable
from models.chat import ChatPlatform
from models.services.chats import NoticeSummary
from models.site import Site


class Result(StrEnum):
    SENT = "sent"
    BLOCKED = "blocked"  # the person blocked the bot or left: the row fails and the chat is stopped
    REFUSED = "refused"  # this message will never be accepted: the row fails
    RETRY_AFTER = "retry_after"  # too fast: the channel pauses and the same message is tried again
    SERVER_ERROR = "server_error"  # 5xx: the channel backs off and the row is tried again later
    UNREACHABLE = "unreachable"  # no answer at all: the row goes back without counting an attempt


@dataclass(frozen=True)
class Attempt:
    result: Result
    answer: str
    retry_after: float = 0.0


class Sender(Protocol):
    platform: ChatPlatform

    async def send(self, chat_id: str, notice: NoticeSummary) -> Attempt: ...


class TelegramSender:
    platform = ChatPlatform.TELEGRAM

    def __init__(self, bot: Bot, site: Site) -> None:
        self.bot, self.site = bot, site
        self.rendered: dict[int, dict[str, Any]] = {}

    async def send(self, chat_id: str, notice: NoticeSummary) -> Attempt:
        if notice.id not in self.rendered:
            self.rendered = {notice.id: telegram_message(notice, self.site)}  # one notice at a time, mostly
        try:
            sent = await self.bot.send_message(
                chat_id=int(chat_id),
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                **self.rendered[notice.id],
            )
        except TelegramRetryAfter as error:
            return Attempt(Result.RETRY_AFTER, error.message, float(error.retry_after))
        except TelegramForbiddenError as error:
            return Attempt(Result.BLOCKED, f"403 {error.message}")
        except TelegramBadRequest as error:
            chat_gone = "chat not found" in error.message.lower()
            return Attempt(Result.BLOCKED if chat_gone else Result.REFUSED, f"400 {error.message}")
        except (TelegramServerError, TelegramUnauthorizedError) as error:
            return Attempt(Result.SERVER_ERROR, f"{type(error).__name__}: {error.message}")
        except TelegramNetworkError as error:
            return Attempt(Result.UNREACHABLE, error.message)
        return Attempt(Result.SENT, f"message_id {sent.message_id}")


class ZaloSender:
    platform = ChatPlatform.ZALO

    def __init__(self, client: ZaloClient, site: Site) -> None:
        self.client, self.site = client, site
        self.rendered: dict[int, str] = {}

    async def send(self, chat_id: str, notice: NoticeSummary) -> Attempt:
        if notice.id not in self.rendered:
            self.rendered = {notice.id: plain_message(notice, self.site)}
        try:
            message_id = await self.client.send_text(chat_id, self.rendered[notice.id])
        except ZaloUnreachable as error:
            return Attempt(Result.UNREACHABLE, str(error))
        except ZaloError as error:
            return Attempt(ZALO_RESULTS.get(error.kind, Result.REFUSED), str(error), error.retry_after)
        return Attempt(Result.SENT, f"message_id {message_id}")


ZALO_RESULTS = {
    "rate": Result.RETRY_AFTER,
    "blocked": Result.BLOCKED,
    "server": Result.SERVER_ERROR,
    "token": Result.SERVER_ERROR,
}
