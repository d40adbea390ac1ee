"""A fake Telegram Bot API server on loopback: it records every call, enforces the limits (30 messages a
second in all, one a second per chat) by answering 429 with retry_after, answers 403 for chats that
blocked the bot, 400 for chats it does not know, and 5xx when told to. Reached with
`AiohttpSession(api=TelegramAPIServer.from_base(url))` (form fields) or bot/telegram_api.py (JSON).
"""

from __future__ import annotations

import asyncio
import collections
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.servers.loop import ServedApp

BOT_USER = {"id": 4242, "is_bot": True, "first_name": "Nhóm thư", "username": "nhomthu_bot"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float  # time.monotonic() on arrival
    status: int


class FakeTelegram:
    def __init__(self, rate: int = 30, per_chat: float = 1.0, retry_after: int = 1) -> None:
        self.rate, self.per_chat, self.retry_after = rate, per_chat, retry_after
        self.calls: list[Call] = []
        self.blocked: set[int] = set()
        self.missing: set[int] = set()  # chats Telegram does not know (deleted accounts, wrong ids)
        self.failures: list[int] = []  # HTTP statuses answered to the next sendMessage calls
        self.updates: collections.deque[dict[str, Any]] = collections.deque()
        self.lock = threading.Lock()
        self.recent: collections.deque[float] = collections.deque()
        self.last_to: dict[int, float] = {}
        self.messages = 0
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self.handle)
        self.server = ServedApp(app)

    def __enter__(self) -> FakeTelegram:
        self.server.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.stop()

    @property
    def url(self) -> str:
        return self.server.url

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.blocked.clear()
            self.missing.clear()
            self.failures.clear()
            self.updates.clear()
            self.recent.clear()
            self.last_to.clear()

    def sent(self, chat_id: int | None = None) -> list[Call]:
        """Messages accepted, to one chat or to all."""
        with self.lock:
            return [
                c
                for c in self.calls
                if c.method == "sendmessage" and c.status == 200 and chat_id in (None, c.params["chat_id"])
            ]

    def answered(self, status: int) -> int:
        with self.lock:
            return sum(1 for c in self.calls if c.method == "sendmessage" and c.status == status)

    def calls_to(self, method: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.method == method.lower()]

    def max_in_window(self, seconds: float = 1.0, *, tried: bool = False) -> int:
        """The most messages accepted (or, `tried`, asked for) within any window of `seconds`."""
        calls = self.calls_to("sendMessage") if tried else self.sent()
        times = sorted(c.at for c in calls)
        best, first = 0, 0
        for last, moment in enumerate(times):
            while moment - times[first] >= seconds:
                first += 1
            best = max(best, last - first + 1)
        return best

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"].lower()
        if request.content_type == "application/json":  # the broadcaster's own client
            params = await request.json()
        else:  # aiogram's
            params = {key: _decoded(value) for key, value in (await request.post()).items()}
        if method == "getupdates":
            return await self._updates(params)
        with self.lock:
            status, body = self._answer(method, params)
            self.calls.append(Call(method, params, time.monotonic(), status))
        return web.json_response(body, status=status)

    def _answer(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method == "getme":
            return 200, {"ok": True, "result": BOT_USER}
        if method == "sendmessage":
            return self._send(params)
        if method in ("editmessagereplymarkup", "editmessagetext"):
            return 200, {"ok": True, "result": self._message(params)}
        return 200, {"ok": True, "result": True}  # answerCallbackQuery, setWebhook, deleteWebhook, …

    def _send(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        chat, now = int(params["chat_id"]), time.monotonic()
        if self.failures:
            status = self.failures.pop(0)
            return status, {"ok": False, "error_code": status, "description": "Internal Server Error"}
        if chat in self.missing:
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
        if chat in self.blocked:
            return 403, {
                "ok": False,
                "error_code": 403,
                "description": "Forbidden: bot was blocked by the user",
            }
        while self.recent and now - self.recent[0] >= 1.0:
            self.recent.popleft()
        if len(self.recent) >= self.rate or now - self.last_to.get(chat, -10.0) < self.per_chat:
            return 429, {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {self.retry_after}",
                "parameters": {"retry_after": self.retry_after},
            }
        self.recent.append(now)
        self.last_to[chat] = now
        return 200, {"ok": True, "result": self._message(params)}

    def _message(self, params: dict[str, Any]) -> dict[str, Any]:
        self.messages += 1
        return {
            "message_id": self.messages,
            "date": int(time.time()),
            "chat": {"id": int(params.get("chat_id", 0)), "type": "private"},
            "text": params.get("text", ""),
        }

    async def _updates(self, params: dict[str, Any]) -> web.Response:
        deadline = time.monotonic() + min(float(params.get("timeout", 0)), 0.5)
        while not self.updates and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        with self.lock:
            batch = list(self.updates)
            self.updates.clear()
            self.calls.append(Call("getupdates", params, time.monotonic(), 200))
        return web.json_response({"ok": True, "result": batch})


def _decoded(value: Any) -> Any:
    """aiogram sends scalars as text and objects as JSON in form fields."""
    text = str(value)
    try:
        scalar = text.lstrip("-").isdigit() or text in ("true", "false")
        return json.loads(text) if text[:1] in "{[" or scalar else text
    except ValueError:
        return text
