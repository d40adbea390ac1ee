"""Telegram through aiogram 3: the Bot on the configured API server, and the dispatcher composed of one
router per feature with the services injected as workflow data."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message

from bot import choosing, linking
from bot.conversation import Conversation
from bot.settings import BotSettings, TelegramSettings
from bot.texts import language_of, say
from bot.transactions import AppContext, Transaction
from models.chat import ChatPlatform


async def not_understood(message: Message) -> Any:
    language = language_of(message.from_user.language_code if message.from_user else None)
    return message.answer(say("unknown_command", language, prefix="/"))


def build_bot(settings: TelegramSettings) -> Bot:
    api = TelegramAPIServer.from_base(settings.api_url) if settings.api_url else None
    session = AiohttpSession(api=api) if api else AiohttpSession()
    return Bot(settings.token, session=session)


def build_dispatcher(settings: BotSettings, context: AppContext) -> Dispatcher:
    dispatcher = Dispatcher(conversation=Conversation(settings, ChatPlatform.TELEGRAM, prefix="/"))
    dispatcher.update.outer_middleware(Transaction(context))
    fallback = Router(name="fallback")
    fallback.message.register(not_understood)
    dispatcher.include_routers(linking.build_router(), choosing.build_router(), fallback)
    return dispatcher


def deep_link(username: str, token: str) -> str:
    """What the web offers: opens the bot and sends `/start <token>`; never an address in it."""
    return f"https://t.me/{username}?start={token}"
