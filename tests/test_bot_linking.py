"""Telegram, through the dispatcher and the fake Bot API: a chat linked by a deep-link token, groups
joined and left with buttons, help in Vietnamese (English for English apps), a blocked bot noticed."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import select

from bot.telegram import deep_link
from models import ChatLink, Membership, db, utcnow
from models.groups import MembershipSource, MembershipState
from models.services.chats import offer_link
from models.services.memberships import find_group
from tests.chat_updates import blocked, feed, message, press
from tests.factories import make_member
from tests.servers.telegram import FakeTelegram

AN = 5001


@pytest.fixture(autouse=True)
def conversation_pace(telegram: FakeTelegram) -> None:
    """Answers to a person's own commands come as fast as they type; the one-a-second limit is for
    broadcasts (tests/test_bot_broadcast.py)."""
    telegram.per_chat = 0


def last_text(telegram: FakeTelegram, chat: int = AN) -> str:
    return str(telegram.sent(chat)[-1].params["text"])


def link(app: Flask, name: str = "An", chat: int = AN) -> ChatLink:
    person = make_member(name)
    token = offer_link(db.session, person, utcnow())
    db.session.commit()
    feed(app, message(chat, f"/start {token}"))
    db.session.commit()
    found = db.session.scalar(select(ChatLink).where(ChatLink.chat_id == str(chat)))
    assert found is not None
    return found


def test_deep_link_token_links_the_chat_and_names_nobody(bot_app: Flask, telegram: FakeTelegram) -> None:
    person = make_member("An")
    token = offer_link(db.session, person, utcnow())
    db.session.commit()
    url = deep_link("nhomthu_bot", token)
    assert re.fullmatch(r"https://t\.me/nhomthu_bot\?start=[a-z2-7]{24}", url)
    assert "@" not in url and "an" not in url.split("start=")[0].split("/")[-1].replace("nhomthu_bot?", "")

    feed(bot_app, message(AN, f"/start {token}"))
    db.session.commit()
    assert "Đã liên kết với an@truong.edu.vn" in last_text(telegram)
    linked = db.session.scalar(select(ChatLink).where(ChatLink.chat_id == str(AN)))
    assert linked is not None and linked.active and linked.person_id == person.id
    assert linked.name == "An Nguyễn"

    feed(bot_app, message(6002, f"/start {token}"))  # the same link from another chat: used once only
    assert "đã được dùng" in last_text(telegram, 6002)
    assert db.session.scalar(select(ChatLink).where(ChatLink.chat_id == "6002")) is None


def test_start_without_a_token_or_with_a_wrong_one_says_how_to_link(
    bot_app: Flask, telegram: FakeTelegram
) -> None:
    feed(bot_app, message(AN, "/start"), message(AN, "/start khongdungmaaaaaaaaaaaaaaa"))
    first, second = (str(c.params["text"]) for c in telegram.sent(AN))
    assert "Nhận thông báo qua Telegram/Zalo" in first and "https://nhomthu.test/toi" in first
    assert "Liên kết không đúng" in second


def test_groups_need_a_linked_chat(bot_app: Flask, telegram: FakeTelegram) -> None:
    thpt = find_group(db.session, "thpt")
    feed(bot_app, message(AN, "/nhom"), press(AN, f"nhom:vao:{thpt.id}"))
    assert "liên kết trò chuyện này" in last_text(telegram)
    assert "reply_markup" not in telegram.sent(AN)[-1].params
    (alert,) = telegram.calls_to("answerCallbackQuery")
    assert "liên kết" in alert.params["text"] and alert.params["show_alert"] is True
    assert db.session.scalar(select(Membership).where(Membership.group_id == thpt.id)) is None


def test_buttons_join_and_leave_at_once(bot_app: Flask, telegram: FakeTelegram) -> None:
    chat = link(bot_app)  # An is a member of thpt
    thcs = find_group(db.session, "thcs")
    feed(bot_app, message(AN, "/nhom"))
    keyboard = telegram.sent(AN)[-1].params["reply_markup"]["inline_keyboard"]
    buttons = {row[0]["callback_data"]: row[0]["text"] for row in keyboard}
    assert buttons[f"nhom:vao:{thcs.id}"].startswith("Tham gia")
    thpt_leave = next(data for data, text in buttons.items() if text.startswith("✓ Rời"))

    feed(bot_app, press(AN, f"nhom:vao:{thcs.id}"), press(AN, thpt_leave))
    db.session.commit()
    states = {
        m.group.slug: (m.state, m.source)
        for m in db.session.scalars(select(Membership).where(Membership.person_id == chat.person_id))
    }
    assert states["thcs"] == (MembershipState.ACTIVE, MembershipSource.BOT)
    assert states["thpt"][0] == MembershipState.LEFT
    answers = [c.params["text"] for c in telegram.calls_to("answerCallbackQuery")]
    assert answers[0].startswith("Bạn đã tham gia nhóm") and answers[1].startswith("Bạn đã rời nhóm")
    edited = telegram.calls_to("editMessageReplyMarkup")[-1].params["reply_markup"]["inline_keyboard"]
    assert any(row[0]["text"].startswith("✓ Rời") and "THCS" in row[0]["text"].upper() for row in edited)


def test_help_in_vietnamese_and_in_english(bot_app: Flask, telegram: FakeTelegram) -> None:
    feed(bot_app, message(AN, "/trogiup"), message(AN, "/help", language="en"), message(AN, "xin chào"))
    vietnamese, english, other = (str(c.params["text"]) for c in telegram.sent(AN))
    assert "/nhom: xem các nhóm thư" in vietnamese
    assert "/nhom: the groups" in english
    assert "Gõ /trogiup" in other


def test_blocking_the_bot_stops_the_chat_and_a_new_link_restarts_it(
    bot_app: Flask, telegram: FakeTelegram
) -> None:
    chat = link(bot_app)
    feed(bot_app, blocked(AN))
    db.session.commit()
    db.session.refresh(chat)
    assert not chat.active and chat.blocked_at is not None

    token = offer_link(db.session, chat.person, utcnow())
    db.session.commit()
    feed(bot_app, message(AN, f"/start {token}"))
    db.session.commit()
    db.session.refresh(chat)
    assert chat.active and chat.blocked_at is None


def test_stop_command_unlinks(bot_app: Flask, telegram: FakeTelegram) -> None:
    chat = link(bot_app)
    feed(bot_app, message(AN, "/huy"))
    db.session.commit()
    db.session.refresh(chat)
    assert not chat.active
    assert "Đã ngừng gửi thông báo" in last_text(telegram)
