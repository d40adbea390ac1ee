"""A thin async client of the Telegram Bot API for the broadcaster: `sendMessage` with a JSON body, over
aiohttp, without aiogram (whose pydantic models cost a process some 140 MB).

The Bot API answers `{"ok": true, "result": …}` or `{"ok": false, "error_code": …, "description": …,
"parameters": {"retry_after": …}}`; an error becomes a `TelegramRefusal` carrying those, and no answer at
all (connection refused, timeout) a `TelegramUnreachable`.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp

DEFAULT_API = "https://api.telegram.org"


class TelegramUnreachable(Exception):
    """No answer from the Bot API."""


class TelegramRefusal(Exception):
    """The Bot API answered with an error."""

    def __init__(self, status: int, description: str, retry_after: float = 0.0) -> None:
        super().__init__(f"{status} {description}")
        self.status, self.description, self.retry_after = status, description, retry_after


class TelegramApi:
    def __init__(self, token: str, api_url: str = "", timeout: float = 30.0) -> None:
        self.base = f"{(api_url or DEFAULT_API).rstrip('/')}/bot{token}/"
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._http: aiohttp.ClientSession | None = None

    async def send_message(self, chat_id: int, text: str, entities: list[dict[str, Any]]) -> int:
        """A text message with its entities and no link preview; the message's id in that chat."""
        body = {
            "chat_id": chat_id,
            "text": text,
            "entities": entities,
            "link_preview_options": {"is_disabled": True},
        }
        result = await self.call("sendMessage", body)
        return int(result["message_id"])

    async def call(self, method: str, body: dict[str, Any]) -> Any:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=self.timeout)
        try:
            async with self._http.post(self.base + method, json=body) as response:
                raw = await response.read()
                status = response.status
        except (TimeoutError, aiohttp.ClientError) as error:
            raise TelegramUnreachable(f"{type(error).__name__}: {error}") from error
        answer = _decoded(raw)
        if status == 200 and answer.get("ok"):
            return answer.get("result")
        parameters = answer.get("parameters") or {}
        raise TelegramRefusal(
            int(answer.get("error_code") or status),
            str(answer.get("description") or f"HTTP {status}"),
            float(parameters.get("retry_after") or 0),
        )

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None


def _decoded(raw: bytes) -> dict[str, Any]:
    """The answer's JSON object; a proxy's HTML error page (a 502 from nginx) reads as empty."""
    try:
        answer = json.loads(raw)
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}
