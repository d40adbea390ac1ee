"""Zalo Official Account: the webhook (its `X-ZEvent-Signature` checked), follow and unfollow, and the
bot's commands written as text ("nhom", "vao thpt", "roi thpt", "huy", "trogiup", or the link code).

Zalo signs each event as sha256(app_id + body + timestamp + OA secret key), hex, after "mac=".
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import unicodedata
from typing import Any

from aiohttp import web

from bot.conversation import Conversation, Reply
from bot.settings import ZaloSettings
from bot.texts import say
from bot.transactions import AppContext
from bot.zalo import ZaloClient, ZaloError, ZaloUnreachable
from models import db, utcnow
from models.chat import ChatPlatform
from models.services.chats import mark_blocked

log = logging.getLogger(__name__)
TOKEN = re.compile(r"^[a-z2-7]{24}$")  # models.services.tokens.new_token: 120 bits in base32


def signature(settings: ZaloSettings, body: bytes, app_id: str, timestamp: str) -> str:
    signed = app_id.encode() + body + timestamp.encode() + settings.oa_secret.encode()
    return "mac=" + hashlib.sha256(signed).hexdigest()


def plain_words(text: str) -> list[str]:
    """Lower case without diacritics, so "Vào THPT" and "vao thpt" are the same command."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower().lstrip("/").split()


class ZaloWebhook:
    def __init__(
        self, settings: ZaloSettings, conversation: Conversation, client: ZaloClient, context: AppContext
    ) -> None:
        self.settings, self.conversation, self.client, self.context = settings, conversation, client, context

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            event = json.loads(body)
            expected = signature(self.settings, body, str(event["app_id"]), str(event["timestamp"]))
        except (ValueError, KeyError, TypeError):
            return web.Response(status=400, text="bad event")
        given = request.headers.get("X-ZEvent-Signature", "")
        if str(event["app_id"]) != self.settings.app_id or not hmac.compare_digest(given, expected):
            return web.Response(status=403, text="bad signature")
        user = (event.get("follower") or event.get("sender") or {}).get("id")
        if user:
            await self.on_event(str(event.get("event_name", "")), str(user), event)
        return web.Response(text="ok")

    async def on_event(self, name: str, user: str, event: dict[str, Any]) -> None:
        with self.context():
            if name == "unfollow":
                mark_blocked(db.session, ChatPlatform.ZALO, user, utcnow(), "unfollow")
                reply = None
            elif name == "follow":
                reply = self.conversation.start(db.session, user, "", name="", language="vi", now=utcnow())
            elif name == "user_send_text":
                reply = self.answer(user, str((event.get("message") or {}).get("text", "")))
            else:
                return
            db.session.commit()
        if reply is not None:
            await self.send(user, reply)

    def answer(self, user: str, text: str) -> Reply:
        words, session, now = plain_words(text), db.session, utcnow()
        command, rest = (words[0], " ".join(words[1:])) if words else ("", "")
        said = unicodedata.normalize("NFC", text).strip()
        if command in ("lienket", "start") or TOKEN.match(said.lower()):
            token = rest if command in ("lienket", "start") else said.lower()
            return self.conversation.start(session, user, token, name="", language="vi", now=now)
        if command == "nhom":
            return self.conversation.groups(session, user, language="vi")
        if command == "vao" and rest:
            return self.conversation.join(session, user, rest, language="vi", now=now)
        if command == "roi" and rest:
            return self.conversation.leave(session, user, rest, language="vi", now=now)
        if command == "huy":
            return self.conversation.stop(session, user, language="vi", now=now)
        if command in ("trogiup", "help"):
            return self.conversation.help(language="vi")
        return Reply(say("unknown_command", "vi", prefix=""))

    async def send(self, user: str, reply: Reply) -> None:
        lines = [reply.text]
        for choice in reply.choices:
            lines.append(f"{'✓' if choice.member else '•'} {choice.slug}: {choice.name_vi}")
        if reply.choices:
            lines.append(say("groups_text_hint", "vi"))
        try:
            await self.client.send_text(user, "\n".join(lines))
        except (ZaloError, ZaloUnreachable) as error:
            log.warning("zalo: no answer sent to %s: %s", user, error)
