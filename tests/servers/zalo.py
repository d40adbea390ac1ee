"""A fake Zalo Official Account API on loopback: consultation messages (`/v3.0/oa/message/cs`) and the
token endpoint (`/v4/oa/access_token`). It records calls, keeps a per-second limit (error -32), refuses
unfollowed users (-213) and stale access tokens (-216), and honours each refresh token once."""

from __future__ import annotations

import collections
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.servers.loop import ServedApp


@dataclass
class ZaloCall:
    path: str
    body: dict[str, Any]
    at: float
    error: int


class FakeZalo:
    def __init__(self, app_id: str, app_secret: str, rate: int = 50) -> None:
        self.app_id, self.app_secret, self.rate = app_id, app_secret, rate
        self.access_token, self.refresh_token = "access-0", "refresh-0"
        self.spent: set[str] = set()  # refresh tokens already used
        self.calls: list[ZaloCall] = []
        self.unfollowed: set[str] = set()
        self.failures: list[int] = []  # HTTP statuses for the next message calls
        self.recent: collections.deque[float] = collections.deque()
        self.lock = threading.Lock()
        app = web.Application()
        app.router.add_post("/v3.0/oa/message/cs", self.message)
        app.router.add_post("/v4/oa/access_token", self.token)
        self.server = ServedApp(app)

    def __enter__(self) -> FakeZalo:
        self.server.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.stop()

    @property
    def url(self) -> str:
        return self.server.url

    def reset(self) -> None:
        with self.lock:
            self.access_token, self.refresh_token = "access-0", "refresh-0"
            self.spent.clear()
            self.calls.clear()
            self.unfollowed.clear()
            self.failures.clear()
            self.recent.clear()

    def expire_access_token(self) -> None:
        self.access_token = "expired-" + secrets.token_hex(4)

    def sent(self, user: str | None = None) -> list[ZaloCall]:
        with self.lock:
            return [
                c
                for c in self.calls
                if c.path == "message" and c.error == 0 and user in (None, c.body["recipient"]["user_id"])
            ]

    def refreshes(self) -> list[ZaloCall]:
        with self.lock:
            return [c for c in self.calls if c.path == "token"]

    async def message(self, request: web.Request) -> web.Response:
        body = await request.json()
        with self.lock:
            if self.failures:
                status = self.failures.pop(0)
                self.calls.append(ZaloCall("message", body, time.monotonic(), status))
                return web.Response(status=status, text="server error")
            error, text = self._check(request, body)
            self.calls.append(ZaloCall("message", body, time.monotonic(), error))
        if error:
            return web.json_response({"error": error, "message": text})
        return web.json_response(
            {"error": 0, "message": "Success", "data": {"message_id": secrets.token_hex(8)}}
        )

    def _check(self, request: web.Request, body: dict[str, Any]) -> tuple[int, str]:
        if request.headers.get("access_token") != self.access_token:
            return -216, "Access token is invalid"
        now = time.monotonic()
        while self.recent and now - self.recent[0] >= 1.0:
            self.recent.popleft()
        if len(self.recent) >= self.rate:
            return -32, "The OA has exceeded the request limit"
        if body["recipient"]["user_id"] in self.unfollowed:
            return -213, "User has not followed the OA"
        self.recent.append(now)
        return 0, ""

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        with self.lock:
            self.calls.append(ZaloCall("token", dict(form), time.monotonic(), 0))
            given = str(form.get("refresh_token", ""))
            if request.headers.get("secret_key") != self.app_secret or form.get("app_id") != self.app_id:
                return web.json_response({"error": -14002, "error_name": "Invalid app"})
            if given != self.refresh_token or given in self.spent:
                return web.json_response({"error": -14014, "error_name": "Invalid refresh token"})
            self.spent.add(given)
            number = len(self.spent)
            self.access_token, self.refresh_token = f"access-{number}", f"refresh-{number}"
        return web.json_response(
            {"access_token": self.access_token, "refresh_token": self.refresh_token, "expires_in": "90000"}
        )
