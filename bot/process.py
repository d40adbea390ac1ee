"""The bot process: Telegram by long polling (embedded default) or webhook (production), the Zalo
webhook, and one broadcaster per configured platform, all on one event loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

from aiogram import Bot
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.broadcaster import Broadcaster, Counts
from bot.conversation import Conversation
from bot.limits import Limits
from bot.senders import TelegramSender, ZaloSender
from bot.settings import BotSettings
from bot.telegram import build_bot, build_dispatcher
from bot.transactions import AppContext
from bot.zalo import TokenPair, ZaloClient
from bot.zalo_webhook import ZaloWebhook
from models import db, utcnow
from models.chat import ChatPlatform
from models.services.chats import load_credential, save_credential

log = logging.getLogger(__name__)
TELEGRAM_WEBHOOK_PATH = "/telegram/webhook"
ZALO_WEBHOOK_PATH = "/zalo/webhook"


class DatabaseTokens:
    """Zalo's token pair in the chat_credential table, so a restart or another process uses the new one."""

    def __init__(self, context: AppContext) -> None:
        self.context = context

    def load(self) -> TokenPair | None:
        with self.context():
            row = load_credential(db.session, ChatPlatform.ZALO)
            return None if row is None else TokenPair(row.access_token, row.refresh_token, row.expires_at)

    def save(self, pair: TokenPair) -> None:
        with self.context():
            save_credential(
                db.session,
                ChatPlatform.ZALO,
                pair.access_token,
                pair.refresh_token,
                pair.expires_at,
                utcnow(),
            )
            db.session.commit()


class BotProcess:
    def __init__(self, settings: BotSettings, context: AppContext) -> None:
        self.settings, self.context = settings, context
        self.bot: Bot | None = build_bot(settings.telegram) if settings.telegram else None
        self.zalo = ZaloClient(settings.zalo, DatabaseTokens(context)) if settings.zalo else None
        self.broadcasters: list[Broadcaster] = []
        if self.bot is not None and settings.telegram is not None:
            limits = Limits(settings.telegram.rate, settings.telegram.per_chat_interval)
            self.broadcasters.append(self._broadcaster(TelegramSender(self.bot, settings.site), limits))
        if self.zalo is not None and settings.zalo is not None:
            limits = Limits(settings.zalo.rate, settings.zalo.per_chat_interval)
            self.broadcasters.append(self._broadcaster(ZaloSender(self.zalo, settings.site), limits))

    def _broadcaster(self, sender: Any, limits: Limits) -> Broadcaster:
        s = self.settings
        return Broadcaster(sender, limits, self.context, lease=s.lease, batch=s.batch, in_flight=s.in_flight)

    async def serve(self) -> None:
        work: list[Awaitable[Any]] = [b.serve() for b in self.broadcasters]
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

    async def drain(self) -> Counts:
        """Send what is due on every platform, then return (tests, benchmarks, catching up by hand)."""
        total = Counts()
        try:
            for counts in await asyncio.gather(*(b.drain() for b in self.broadcasters)):
                total.add(counts)
        finally:
            await self.close()
        return total

    async def close(self) -> None:
        if self.bot is not None:
            await self.bot.session.close()
        if self.zalo is not None:
            await self.zalo.close()

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
