"""Notices to linked chats: one outbox row per (notice, chat) written with the notice, sent at the
platform's pace, a blocked chat stopped, "retry after" obeyed, 5xx retried later."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from bot.broadcaster import Broadcaster, Counts
from bot.limits import Limits
from bot.senders import TelegramSender
from bot.telegram_api import TelegramApi
from models import ChatLink, Delivery, Person, db, utcnow
from models.chat import ChatPlatform
from models.mail import DeliveryState
from models.notices import Notice, NoticeKind
from models.roles import RoleName
from models.services.memberships import find_group
from models.services.notices import NoticeDraft, publish_notice
from models.services.roles import grant
from models.site import VIETNAM
from tests.chat_updates import drain, make_chat, run_async
from tests.factories import make_member
from tests.servers.dovecot import free_port
from tests.servers.telegram import FakeTelegram
from tests.servers.zalo import FakeZalo

DEADLINE = datetime(2026, 11, 30, 17, 0, tzinfo=VIETNAM)


@pytest.fixture
def publisher() -> Person:
    person = make_member("VanPhongBo", "so")
    for slug in ("so", "phong"):
        grant(db.session, person, RoleName.PUBLISHER, group=find_group(db.session, slug))
    db.session.commit()
    return person


def publish(publisher: Person, title: str = "Báo cáo tổng kết năm học", slugs=("so", "phong")) -> Notice:
    draft = NoticeDraft(
        kind=NoticeKind.REPLY_REQUESTED,
        title=title,
        body="Đề nghị các Sở gửi báo cáo tổng kết năm học 2025-2026 trước ngày 30/11. " * 12,
        groups=tuple(find_group(db.session, slug) for slug in slugs),
        deadline=DEADLINE,
    )
    notice = publish_notice(db.session, draft, publisher, unit=None, domain="nhomthu.test", now=utcnow())
    db.session.commit()
    return notice


def rows(channel: str) -> list[Delivery]:
    db.session.commit()
    return list(db.session.scalars(select(Delivery).where(Delivery.channel == channel).order_by(Delivery.id)))


def member_of_both(name: str) -> Person:
    person = make_member(name, "so")
    make_member(name, "phong")
    return person


def test_a_notice_reaches_each_active_chat_of_its_recipients_once(
    bot_app: Flask, telegram: FakeTelegram, zalo: FakeZalo, publisher: Person
) -> None:
    an = member_of_both("An")  # two target groups, one chat: one message
    binh = make_member("Binh", "so")  # Telegram and Zalo: one message on each
    chi = make_member("Chi", "so")  # stopped chat: nothing
    dung = make_member("Dung", "thpt")  # not a recipient
    make_chat(an, 101)
    make_chat(binh, 102)
    make_chat(binh, "zalo-binh", ChatPlatform.ZALO)
    make_chat(chi, 103).active = False
    make_chat(dung, 104)
    db.session.commit()

    notice = publish(publisher, title="<b>Lịch thi</b> & *báo cáo* _năm_ [2026]")
    emails = db.session.scalar(
        select(func.count(Delivery.id)).where(
            Delivery.channel == "email", Delivery.message_key.like("notice:%")
        )
    )
    assert emails == 4  # the email fan-out is unchanged: VanPhongBo, An, Binh and Chi, once each
    assert sorted(r.recipient for r in rows("telegram")) == ["101", "102"]
    assert [r.recipient for r in rows("zalo")] == ["zalo-binh"]

    counts = drain(bot_app)
    assert (counts.sent, counts.failed, counts.deferred) == (3, 0, 0)
    assert {c.params["chat_id"] for c in telegram.sent()} == {101, 102}
    message = telegram.sent(101)[0].params
    text = message["text"]
    assert text.startswith("YÊU CẦU PHÚC ĐÁP: <b>Lịch thi</b> & *báo cáo* _năm_ [2026]")
    assert "Hạn chót: 17:00 30/11/2026" in text
    assert "Đề nghị các Sở gửi báo cáo tổng kết" in text and "…" in text and len(text) < 600
    assert "parse_mode" not in message  # entities, not markup: nothing to escape
    kinds = {e["type"]: e for e in message["entities"]}
    assert kinds["text_link"]["url"] == f"https://nhomthu.test/chu-de/{notice.thread_id}"
    assert "bold" in kinds
    (zalo_message,) = zalo.sent("zalo-binh")
    assert zalo_message.body["message"]["text"].startswith("YÊU CẦU PHÚC ĐÁP: <b>Lịch thi</b>")
    assert f"https://nhomthu.test/chu-de/{notice.thread_id}" in zalo_message.body["message"]["text"]
    assert all(r.state == DeliveryState.SENT for r in rows("telegram") + rows("zalo"))


def test_a_chat_that_blocked_the_bot_is_stopped(
    bot_app: Flask, telegram: FakeTelegram, publisher: Person
) -> None:
    an = make_member("An", "so")
    make_chat(an, 101)
    telegram.blocked.add(101)
    publish(publisher)
    assert drain(bot_app).failed == 1
    (row,) = rows("telegram")
    assert row.state == DeliveryState.FAILED and row.last_answer.startswith("403 Forbidden")
    link = db.session.scalar(select(ChatLink))
    assert not link.active and link.blocked_at is not None
    publish(publisher, title="Thông báo thứ hai")
    assert len(rows("telegram")) == 1  # nothing more is queued for the stopped chat


def test_a_chat_telegram_does_not_know_is_stopped(
    bot_app: Flask, telegram: FakeTelegram, publisher: Person
) -> None:
    make_chat(make_member("An", "so"), 101)
    make_chat(make_member("Binh", "so"), 102)
    telegram.missing.add(101)
    publish(publisher, slugs=("so",))
    counts = drain(bot_app)
    assert (counts.sent, counts.failed) == (1, 1)
    gone = db.session.scalar(select(ChatLink).where(ChatLink.chat_id == "101"))
    assert not gone.active and "chat not found" in (gone.blocked_reason or "")
    assert db.session.scalar(select(ChatLink).where(ChatLink.chat_id == "102")).active


def test_an_unreachable_api_leaves_the_message_queued(bot_app: Flask, publisher: Person) -> None:
    make_chat(make_member("An", "so"), 101)
    publish(publisher, slugs=("so",))
    counts = broadcast(bot_app, rate=28.5, api_url=f"http://127.0.0.1:{free_port()}")
    assert (counts.sent, counts.deferred) == (0, 1)
    (row,) = rows("telegram")
    assert row.state == DeliveryState.PENDING and row.attempts == 0  # no answer is not a refusal
    assert "ClientConnectorError" in row.last_answer


def broadcast(
    app: Flask, rate: float, per_chat: float = 1.1, in_flight: int = 8, api_url: str = ""
) -> Counts:
    settings = app.extensions["nhomthu.settings"].bot

    async def run() -> Counts:
        api = TelegramApi(settings.telegram.token, api_url or settings.telegram.api_url)
        sender = TelegramSender(api, settings.site)
        broadcaster = Broadcaster(sender, Limits(rate, per_chat), app.app_context, in_flight=in_flight)
        try:
            return await broadcaster.drain()
        finally:
            await api.close()

    return run_async(run())


def many_chats(count: int) -> None:
    for n in range(count):
        make_chat(make_member(f"Gv{n:03d}", "so"), 1000 + n)


def test_the_pace_stays_under_thirty_a_second(
    bot_app: Flask, telegram: FakeTelegram, publisher: Person
) -> None:
    many_chats(60)
    publish(publisher, slugs=("so",))
    counts = broadcast(bot_app, rate=28.5)
    assert counts.sent == 60 and counts.too_fast == 0
    assert telegram.answered(429) == 0
    assert telegram.max_in_window(1.0) <= 30
    times = sorted(c.at for c in telegram.sent())
    assert 59 / (times[-1] - times[0]) > 26  # and not much slower than asked


def test_retry_after_pauses_the_channel_and_nothing_is_lost_or_repeated(
    bot_app: Flask, telegram: FakeTelegram, publisher: Person
) -> None:
    telegram.rate = 5  # the server allows less than the bot was told
    many_chats(14)
    publish(publisher, slugs=("so",))
    counts = broadcast(bot_app, rate=20)
    assert counts.sent == 14 and counts.too_fast >= 1
    assert telegram.answered(429) == counts.too_fast
    chats = [c.params["chat_id"] for c in telegram.sent()]
    assert sorted(chats) == list(range(1000, 1014))  # each once
    refusals = [c.at for c in telegram.calls_to("sendMessage") if c.status == 429]
    for refused in refusals:  # after "retry after 1", the channel is quiet for a second
        assert not [c for c in telegram.sent() if refused < c.at < refused + 0.95]


def test_one_chat_gets_one_message_a_second(
    bot_app: Flask, telegram: FakeTelegram, publisher: Person
) -> None:
    an = make_member("An", "so")
    make_chat(an, 101)
    for n in range(3):
        publish(publisher, title=f"Thông báo {n}", slugs=("so",))
    assert broadcast(bot_app, rate=28.5).sent == 3
    times = [c.at for c in telegram.sent(101)]
    assert len(times) == 3 and all(b - a >= 1.0 for a, b in zip(times, times[1:], strict=False))
    assert telegram.answered(429) == 0


def test_server_errors_are_retried_later(bot_app: Flask, telegram: FakeTelegram, publisher: Person) -> None:
    an = make_member("An", "so")
    make_chat(an, 101)
    publish(publisher, slugs=("so",))
    telegram.failures.append(502)
    assert broadcast(bot_app, rate=28.5).deferred == 1
    (row,) = rows("telegram")
    assert row.state == DeliveryState.PENDING and row.attempts == 1 and row.next_attempt_at > utcnow()
    db.session.execute(update(Delivery).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert broadcast(bot_app, rate=28.5).sent == 1
    assert len(telegram.sent(101)) == 1
