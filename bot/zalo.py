"""A thin async client of the Zalo Official Account Open API v3: consultation messages and tokens.

The access token is sent in an `access_token` header; when the API says it is invalid or expired, the
refresh token buys a new pair. A refresh token works once, so refreshes happen one at a time under a
lock, and whoever waited on the lock first looks whether the pair it failed with was already replaced.
The pair lives in a store (the database, in the bot process) so a restart carries on with it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import aiohttp

from bot.settings import ZaloSettings
from models import utcnow

log = logging.getLogger(__name__)

# Error codes of the OA API's JSON answers that mean something to us; anything else refuses the message.
TOKEN_ERRORS = {-216: "access token invalid", -124: "access token expired"}
RATE_ERRORS = {-32: "too many requests"}
BLOCKED_ERRORS = {-213: "user has not followed the OA", -211: "user not found"}


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_at: datetime | None = None


class TokenStore(Protocol):
    def load(self) -> TokenPair | None: ...

    def save(self, pair: TokenPair) -> None: ...


class ZaloUnreachable(Exception):
    """No answer from the API (connection refused, timeout)."""


class ZaloError(Exception):
    """The API answered with an error: `kind` says what the broadcaster should make of it."""

    def __init__(self, code: int, message: str, kind: str, retry_after: float = 0.0) -> None:
        super().__init__(f"{code} {message}")
        self.code, self.kind, self.retry_after = code, kind, retry_after


class ZaloClient:
    def __init__(self, settings: ZaloSettings, store: TokenStore, timeout: float = 30.0) -> None:
        self.settings, self.store = settings, store
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.lock = asyncio.Lock()
        self.pair: TokenPair | None = None
        self.refreshes = 0
        self._http: aiohttp.ClientSession | None = None

    async def send_text(self, user_id: str, text: str) -> str:
        """A consultation message (`message/cs`) to one follower; the message id."""
        body = {"recipient": {"user_id": user_id}, "message": {"text": text}}
        data = await self._call("/v3.0/oa/message/cs", body)
        return str(data.get("message_id", ""))

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def _call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        pair = await self._current()
        for _ in range(2):
            answer = await self._post(self.settings.api_url + path, json=body, access_token=pair.access_token)
            code = int(answer.get("error", 0))
            if code == 0:
                data: dict[str, Any] = answer.get("data") or {}
                return data
            if code in TOKEN_ERRORS:
                pair = await self._refresh(failed=pair)
                continue
            raise _error(code, str(answer.get("message", "")))
        raise ZaloError(code, "access token refused after a refresh", "token")

    async def _current(self) -> TokenPair:
        if self.pair is None:
            self.pair = self.store.load() or TokenPair(
                self.settings.access_token, self.settings.refresh_token, None
            )
        if self.pair.expires_at is not None and self.pair.expires_at <= utcnow() + timedelta(minutes=1):
            return await self._refresh(failed=self.pair)
        return self.pair

    async def _refresh(self, failed: TokenPair) -> TokenPair:
        async with self.lock:
            stored = self.store.load()
            if stored is not None and stored.access_token != failed.access_token:
                self.pair = stored  # another task or process refreshed while this one waited
                return stored
            current = stored or failed
            answer = await self._post(
                self.settings.oauth_url + "/v4/oa/access_token",
                data={
                    "refresh_token": current.refresh_token,
                    "app_id": self.settings.app_id,
                    "grant_type": "refresh_token",
                },
                secret_key=self.settings.app_secret,
            )
            if "access_token" not in answer:
                raise ZaloError(int(answer.get("error", -1)), str(answer.get("error_name", answer)), "token")
            seconds = int(answer.get("expires_in") or 90000)
            self.pair = TokenPair(
                str(answer["access_token"]),
                str(answer.get("refresh_token") or current.refresh_token),
                utcnow() + timedelta(seconds=seconds),
            )
            self.store.save(self.pair)  # at once: the old refresh token is spent
            self.refreshes += 1
            log.info("zalo: access token refreshed")
            return self.pair

    async def _post(self, url: str, **request: Any) -> dict[str, Any]:
        headers: dict[str, str] = {
            name: request.pop(name) for name in ("access_token", "secret_key") if name in request
        }
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=self.timeout)
        try:
            async with self._http.post(url, headers=headers, **request) as response:
                if response.status == 429:
                    raise ZaloError(429, "HTTP 429", "rate", float(response.headers.get("Retry-After", 1)))
                if response.status >= 500:
                    raise ZaloError(response.status, f"HTTP {response.status}", "server")
                answer: dict[str, Any] = await response.json(content_type=None)
                return answer
        except (TimeoutError, aiohttp.ClientConnectionError) as error:
            raise ZaloUnreachable(f"{type(error).__name__}: {error}") from error


def _error(code: int, message: str) -> ZaloError:
    if code in RATE_ERRORS:
        return ZaloError(code, message, "rate", 1.0)
    if code in BLOCKED_ERRORS:
        return ZaloError(code, message, "blocked")
    return ZaloError(code, message, "refused")
