"""Telegram: linking a chat to a person (`/start <token>` from a deep link), help, stopping, and
noticing when the person blocks the bot."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import KICKED, ChatMemberUpdatedFilter, Command, CommandObject, CommandStart
from aiogram.types import ChatMemberUpdated, Message
from sqlalchemy.orm import Session

from bot.conversation import Conversation
from bot.texts import language_of
from models import utcnow
from models.chat import ChatPlatform
from models.services.chats import mark_blocked


async def start(
    message: Message, command: CommandObject, session: Session, conversation: Conversation
) -> Any:
    user = message.from_user
    reply = conversation.start(
        session,
        str(message.chat.id),
        command.args or "",
        name=user.full_name if user else "",
        language=language_of(user.language_code if user else None),
        now=utcnow(),
    )
    return message.answer(reply.text)


async def show_help(message: Message, conversation: Conversation) -> Any:
    user = message.from_user
    return message.answer(conversation.help(language=language_of(user.language_code if user else None)).text)


async def stop(message: Message, session: Session, conversation: Conversation) -> Any:
    user = message.from_user
    language = language_of(user.language_code if user else None)
    reply = conversation.stop(session, str(message.chat.id), language=language, now=utcnow())
    return message.answer(reply.text)


async def blocked(update: ChatMemberUpdated, session: Session) -> None:
    """The person blocked the bot: notices stop until a new link (relinking clears it)."""
    mark_blocked(session, ChatPlatform.TELEGRAM, str(update.chat.id), utcnow(), "my_chat_member: kicked")


def build_router() -> Router:
    """A fresh router each time: an aiogram router belongs to one dispatcher."""
    router = Router(name="linking")
    router.message.register(start, CommandStart(), F.chat.type == "private")
    router.message.register(show_help, Command("trogiup", "help"))
    router.message.register(stop, Command("huy", "stop"))
    router.my_chat_member.register(blocked, ChatMemberUpdatedFilter(KICKED))
    return router
