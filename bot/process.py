"""The bot process: Telegram by long polling (embedded default) or webhook (production), the Zalo
webhook, and (unless `--no-broadcast`, when `nhomthu bot --broadcast-only` runs them in a process of
their own) the broadcasters of bot/broadcasting.py, all on one event loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

from aiogram import Bot
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.broadcasting import Broadcasting, DatabaseTokens
from bot.conversation import Conversation
from bot.settings import BotSettings
from bot.telegram import build_bot, build_dispatcher
from bot.transactions import AppContext
from bot.zalo import ZaloClient
from bot.zalo_webhook import ZaloWebhook
from models.chat import ChatPlatform

log = logging.getLogger(__name__)
TELEGRAM_WEBHOOK_PATH = "/telegram/webhook"
ZALO_WEBHOOK_PATH = "/zalo/webhook"


class BotProcess:
    def __init__(self, settings: BotSettings, context: AppContext, *, broadcast: bool = True) -> None:
        self.settings, self.context = settings, context
        self.bot: Bot | None = build_bot(settings.telegram) if settings.telegram else None
        self.zalo = ZaloClient(settings.zalo, DatabaseTokens(context)) if settings.zalo else None
        self.broadcasting = Broadcasting(settings, context, zalo=self.zalo) if broadcast else None

    async def serve(self) -> None:
        work: list[Awaitable[Any]] = [self.broadcasting.serve()] if self.broadcasting else []
        runner = await self._start_web_server() if self.settings.needs_web_server else None
        telegram = self.settings.telegram
        if self.bot is not None and telegram is not None and not telegram.webhook_url:
            dispatcher = build_dispatcher(self.settings, self.context)
            await self.bot.delete_webhook()
            work.append(dispatcher.start_polling(self.bot, handle_signals=False))
        try:
            await asyncio.gather(*work)
        finally:
            if runner is not None:
                await runner.cleanup()
            await self.close()

    async def close(self) -> None:
        if self.bot is not None:
            await self.bot.session.close()
        if self.zalo is not None:
            await self.zalo.close()
        if self.broadcasting is not None:
            await self.broadcasting.close()

    def web_app(self) -> web.Application:
        app = web.Application()
        telegram = self.settings.telegram
        if self.bot is not None and telegram is not None and telegram.webhook_url:
            dispatcher = build_dispatcher(self.settings, self.context)
            handler = SimpleRequestHandler(dispatcher, self.bot, secret_token=telegram.webhook_secret or None)
            handler.register(app, path=TELEGRAM_WEBHOOK_PATH)
            app.on_startup.append(self._set_webhook(dispatcher))
        if self.zalo is not None and self.settings.zalo is not None:
            conversation = Conversation(self.settings, ChatPlatform.ZALO, prefix="")
            webhook = ZaloWebhook(self.settings.zalo, conversation, self.zalo, self.context)
            app.router.add_post(ZALO_WEBHOOK_PATH, webhook.handle)
        return app

    def _set_webhook(self, dispatcher: Any) -> Any:
        async def set_webhook(app: web.Application) -> None:
            assert self.bot is not None and self.settings.telegram is not None
            await self.bot.set_webhook(
                self.settings.telegram.webhook_url,
                secret_token=self.settings.telegram.webhook_secret or None,
                allowed_updates=dispatcher.resolve_used_update_types(),
            )

        return set_webhook

    async def _start_web_server(self) -> web.AppRunner:
        runner = web.AppRunner(self.web_app())
        await runner.setup()
        await web.TCPSite(runner, self.settings.listen_host, self.settings.listen_port).start()
        log.info("bot: webhooks on %s:%s", self.settings.listen_host, self.settings.listen_port)
        return runner
