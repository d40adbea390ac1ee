"""The bot's settings and its Telegram webhook: a webhook needs https and a secret, requests without the
secret are refused, and with no platform configured the bot process has nothing to do."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp.test_utils import TestClient, TestServer
from flask import Flask

from bot.process import BotProcess
from tests.chat_updates import message, run_async
from tests.conftest import environment
from tests.servers.telegram import FakeTelegram
from wiring import ConfigError, load_settings
from wiring.processes import run_bot

SECRET = "webhook-secret-0123456789"


def test_a_webhook_needs_https_and_a_secret(tmp_path) -> None:
    base = environment("sqlite:///x.db", tmp_path, TELEGRAM_BOT_TOKEN="1:x")
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_SECRET"):
        load_settings({**base, "TELEGRAM_WEBHOOK_URL": "https://bot.moet.edu.vn/telegram/webhook"})
    with pytest.raises(ConfigError, match="https"):
        load_settings(
            {**base, "TELEGRAM_WEBHOOK_URL": "http://bot/telegram/webhook", "TELEGRAM_WEBHOOK_SECRET": SECRET}
        )
    with pytest.raises(ConfigError, match="ZALO_OA_SECRET"):
        load_settings({**base, "ZALO_APP_ID": "1", "ZALO_APP_SECRET": "s", "ZALO_REFRESH_TOKEN": "r"})
    assert load_settings(base).bot.telegram.rate == 28.5


def test_the_webhook_checks_its_secret(make_app, bot_env: dict[str, str], telegram: FakeTelegram) -> None:
    telegram.per_chat = 0
    app: Flask = make_app(
        **bot_env,
        TELEGRAM_WEBHOOK_URL="https://bot.moet.edu.vn/telegram/webhook",
        TELEGRAM_WEBHOOK_SECRET=SECRET,
    )

    async def run() -> list[int]:
        process = BotProcess(app.extensions["nhomthu.settings"].bot, app.app_context)
        statuses = []
        async with TestClient(TestServer(process.web_app())) as client:
            for secret in ("wrong-secret-0000000000", SECRET):
                answer = await client.post(
                    "/telegram/webhook",
                    json=message(5001, "/trogiup"),
                    headers={"X-Telegram-Bot-Api-Secret-Token": secret},
                )
                statuses.append(answer.status)
            await asyncio.sleep(0.3)  # the update is handled in the background, as Telegram wants
        await process.close()
        return statuses

    assert run_async(run()) == [401, 200]
    (webhook,) = telegram.calls_to("setWebhook")
    assert webhook.params["secret_token"] == SECRET and "my_chat_member" in webhook.params["allowed_updates"]
    (answer,) = telegram.sent(5001)
    assert "/nhom" in answer.params["text"]


def test_without_a_platform_the_bot_has_nothing_to_send(make_app) -> None:
    assert run_bot(make_app(), drain=True) == 0
