"""The broadcasters of every configured platform and the clients they send through: what
`nhomthu bot --broadcast-only` runs, and `nhomthu bot` runs beside the dispatcher.

Never imports aiogram, not even through another module (tests/test_bot_broadcast.py runs this process
and stops it at the first such import): aiogram's pydantic models would add some 140 MB to a process
whose own work, a queue of 100,000 rows included, needs a few.
"""

from __future__ import annotations

import asyncio

from bot.broadcaster import AppContext, Broadcaster, Counts
from bot.limits import Limits
from bot.senders import Sender, TelegramSender, ZaloSender
from bot.settings import BotSettings
from bot.telegram_api import TelegramApi
from bot.zalo import TokenPair, ZaloClient
from models import db, utcnow
from models.chat import ChatPlatform
from models.services.chats import load_credential, save_credential


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


class Broadcasting:
    """One broadcaster per configured platform. `zalo`: the process's Zalo client, when the webhook
    shares it; otherwise one of its own."""

    def __init__(self, settings: BotSettings, context: AppContext, zalo: ZaloClient | None = None) -> None:
        self.settings, self.context = settings, context
        telegram = settings.telegram
        self.telegram = TelegramApi(telegram.token, telegram.api_url) if telegram else None
        if zalo is None and settings.zalo is not None:
            zalo = ZaloClient(settings.zalo, DatabaseTokens(context))
        self.zalo = zalo
        self.broadcasters: list[Broadcaster] = []
        if self.telegram is not None and telegram is not None:
            limits = Limits(telegram.rate, telegram.per_chat_interval)
            self._add(TelegramSender(self.telegram, settings.site), limits)
        if self.zalo is not None and settings.zalo is not None:
            limits = Limits(settings.zalo.rate, settings.zalo.per_chat_interval)
            self._add(ZaloSender(self.zalo, settings.site), limits)

    def _add(self, sender: Sender, limits: Limits) -> None:
        s = self.settings
        self.broadcasters.append(
            Broadcaster(sender, limits, self.context, lease=s.lease, batch=s.batch, in_flight=s.in_flight)
        )

    async def serve(self) -> None:
        """For ever; this process's clients are closed when it stops."""
        try:
            await asyncio.gather(*(b.serve() for b in self.broadcasters))
        finally:
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
        if self.telegram is not None:
            await self.telegram.close()
        if self.zalo is not None:
            await self.zalo.close()
