"""Zalo Official Account: the signed webhook, following and unfollowing, the commands as text, notices
through consultation messages, and the single-use refresh token renewed once under a lock."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from flask import Flask
from sqlalchemy import select

from bot.broadcasting import DatabaseTokens
from bot.process import BotProcess
from bot.zalo import ZaloClient
from bot.zalo_webhook import signature
from models import ChatLink, Membership, db, utcnow
from models.chat import ChatCredential, ChatPlatform
from models.groups import MembershipState
from models.services.chats import offer_link
from tests.chat_updates import run_async
from tests.conftest import ZALO_APP
from tests.factories import make_member
from tests.servers.zalo import FakeZalo

USER = "8461234567890123456"


def event(name: str, **fields: Any) -> dict[str, Any]:
    return {
        "app_id": ZALO_APP["ZALO_APP_ID"],
        "event_name": name,
        "timestamp": str(int(time.time() * 1000)),
        **fields,
    }


def text(words: str, user: str = USER) -> dict[str, Any]:
    return event("user_send_text", sender={"id": user}, recipient={"id": "oa"}, message={"text": words})


def post_events(app: Flask, *events: dict[str, Any], sign: bool = True) -> list[int]:
    """POST each event to the bot's Zalo webhook as Zalo would, signed with the OA secret key."""
    settings = app.extensions["nhomthu.settings"].bot

    async def run() -> list[int]:
        process = BotProcess(settings, app.app_context)
        statuses = []
        async with TestClient(TestServer(process.web_app())) as client:
            for payload in events:
                body = json.dumps(payload, ensure_ascii=False).encode()
                mac = (
                    signature(settings.zalo, body, payload["app_id"], payload["timestamp"])
                    if sign
                    else "mac=0"
                )
                answer = await client.post("/zalo/webhook", data=body, headers={"X-ZEvent-Signature": mac})
                statuses.append(answer.status)
        await process.close()
        return statuses

    return run_async(run())


def replies(zalo: FakeZalo, user: str = USER) -> list[str]:
    return [c.body["message"]["text"] for c in zalo.sent(user)]


def test_an_unsigned_event_is_refused(bot_app: Flask, zalo: FakeZalo) -> None:
    assert post_events(bot_app, event("follow", follower={"id": USER}), sign=False) == [403]
    assert zalo.calls == []


def test_follow_link_join_and_unfollow_by_text(bot_app: Flask, zalo: FakeZalo) -> None:
    an = make_member("An", "so")
    token = offer_link(db.session, an, utcnow())
    db.session.commit()
    statuses = post_events(
        bot_app,
        event("follow", follower={"id": USER}),
        text(f"lienket {token}"),
        text("Nhóm"),
        text("Vào THPT"),
        text("rời so"),
        text("gì vậy"),
    )
    assert statuses == [200] * 6
    welcome, linked, groups, joined, left, other = replies(zalo)
    assert "Nhận thông báo qua Telegram/Zalo" in welcome
    assert "Đã liên kết với an@truong.edu.vn" in linked
    assert "✓ so:" in groups and "• thpt:" in groups and "vao <tên nhóm>" in groups
    assert joined.startswith("Bạn đã tham gia nhóm") and left.startswith("Bạn đã rời nhóm")
    assert "trogiup" in other
    db.session.commit()
    states = {m.group.slug: m.state for m in db.session.scalars(select(Membership))}
    assert states == {"so": MembershipState.LEFT, "thpt": MembershipState.ACTIVE}

    assert post_events(bot_app, event("unfollow", follower={"id": USER})) == [200]
    db.session.commit()
    link = db.session.scalar(select(ChatLink).where(ChatLink.platform == ChatPlatform.ZALO))
    assert not link.active and link.blocked_reason == "unfollow"


def test_the_bare_link_code_links_too(bot_app: Flask, zalo: FakeZalo) -> None:
    token = offer_link(db.session, make_member("An", "so"), utcnow())
    db.session.commit()
    post_events(bot_app, text(token.upper()))
    assert "Đã liên kết" in replies(zalo)[0]


def test_an_expired_access_token_is_refreshed_once_for_many_messages(bot_app: Flask, zalo: FakeZalo) -> None:
    settings = bot_app.extensions["nhomthu.settings"].bot
    zalo.expire_access_token()
    zalo.access_token, zalo.refresh_token = "access-0x", "refresh-0"  # the configured access token is stale

    async def run() -> None:
        client = ZaloClient(settings.zalo, DatabaseTokens(bot_app.app_context))
        try:
            await asyncio.gather(*(client.send_text(f"u{n}", "Xin chào") for n in range(10)))
        finally:
            await client.close()

    run_async(run())
    assert len(zalo.sent()) == 10
    assert len(zalo.refreshes()) == 1  # one refresh for ten messages: the refresh token works once
    db.session.commit()
    stored = db.session.get(ChatCredential, ChatPlatform.ZALO)
    assert (stored.access_token, stored.refresh_token) == ("access-1", "refresh-1")

    run_async(run())  # a new process starts from the stored pair, not the spent one in the settings
    assert len(zalo.refreshes()) == 1 and len(zalo.sent()) == 20
