"""Sending one notice to one chat, per platform, and reading the platform's answer as one of a few
outcomes the broadcaster acts on."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from bot.announcements import plain_message, telegram_message
from bot.telegram_api import TelegramApi, TelegramRefusal, TelegramUnreachable
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

    def __init__(self, api: TelegramApi, site: Site) -> None:
        self.api, self.site = api, site
        self.rendered: dict[int, dict[str, Any]] = {}

    async def send(self, chat_id: str, notice: NoticeSummary) -> Attempt:
        if notice.id not in self.rendered:
            self.rendered = {notice.id: telegram_message(notice, self.site)}  # one notice at a time, mostly
        message = self.rendered[notice.id]
        try:
            message_id = await self.api.send_message(int(chat_id), message["text"], message["entities"])
        except TelegramUnreachable as error:
            return Attempt(Result.UNREACHABLE, str(error))
        except TelegramRefusal as error:
            return telegram_refusal(error)
        return Attempt(Result.SENT, f"message_id {message_id}")


def telegram_refusal(error: TelegramRefusal) -> Attempt:
    """429: pause and try again; 403 (blocked, kicked, deactivated) and 400 "chat not found": the chat is
    gone; 401 (a revoked token) and 5xx: back off and retry later; any other refusal fails the message."""
    status, description = error.status, error.description
    if status == 429:
        return Attempt(Result.RETRY_AFTER, f"429 {description}", error.retry_after or 1.0)
    if status == 403:
        return Attempt(Result.BLOCKED, f"403 {description}")
    if status == 400 and "chat not found" in description.lower():
        return Attempt(Result.BLOCKED, f"400 {description}")
    if status == 401 or status >= 500:
        return Attempt(Result.SERVER_ERROR, f"{status} {description}")
    return Attempt(Result.REFUSED, f"{status} {description}")


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
