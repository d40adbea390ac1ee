"""Notices: publish once, reach every member once, know who answered, remind the rest."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models import Delivery, Membership, Organisation, db, utcnow
from models.groups import MembershipSource, MembershipState
from models.notices import Answer, Notice, NoticeKind
from models.people import OrganisationKind
from models.posts import PostState
from models.roles import RoleName
from models.services import outbox
from models.services.memberships import find_group
from models.services.moderation import approve
from models.services.notices import NotAllowed, NoticeDraft, answer_table, publish_notice, remind_due
from models.services.roles import grant
from models.services.webposts import reply_on_web
from tests.conftest import DOMAIN, environment
from tests.factories import address, make_mail, make_member, make_post

NHOMTHU = str(Path(sys.executable).parent / "nhomthu")


def organisation(name: str) -> Organisation:
    found = Organisation(name=name, kind=OrganisationKind.PROVINCE)
    db.session.add(found)
    db.session.commit()
    return found


def join(person, slug: str) -> None:
    db.session.add(
        Membership(
            person=person,
            group=find_group(db.session, slug),
            state=MembershipState.ACTIVE,
            source=MembershipSource.IMPORT,
            unsubscribe_nonce="t",
            requested_at=utcnow(),
        )
    )
    db.session.commit()


@pytest.fixture
def ministry_unit():
    publisher = make_member("VanPhongBo", "so")
    for slug in ("so", "phong"):
        grant(db.session, publisher, RoleName.PUBLISHER, group=find_group(db.session, slug))
    unit = organisation("Văn phòng Bộ")
    db.session.commit()
    return publisher, unit


def draft(kind=NoticeKind.REPLY_REQUESTED, **extra) -> NoticeDraft:
    groups = (find_group(db.session, "so"), find_group(db.session, "phong"))
    return NoticeDraft(
        kind=kind,
        title="Báo cáo tổng kết năm học",
        body="Đề nghị các Sở gửi báo cáo.",
        groups=groups,
        **extra,
    )


def publish(publisher, unit, kind=NoticeKind.REPLY_REQUESTED, now=None, **extra) -> Notice:
    """A notice from the ministry's unit to both groups, committed."""
    notice = publish_notice(
        db.session, draft(kind, **extra), publisher, unit=unit, domain=DOMAIN, now=now or utcnow()
    )
    db.session.commit()
    return notice


def test_notice_reaches_each_member_once_with_every_header(app, gate, smtp, ministry_unit):
    publisher, unit = ministry_unit
    hanoi, hue = organisation("Sở GD&ĐT Hà Nội"), organisation("Sở GD&ĐT Huế")
    clerk = make_member("VanThuHaNoi", "so")
    clerk.organisation = hanoi
    join(clerk, "phong")  # in both groups: gets it once
    make_member("VanThuHue", "so").organisation = hue
    db.session.commit()
    notice = publish(publisher, unit, deadline=utcnow() + timedelta(days=5))
    gate.drain()
    copies = smtp.to(clerk.email)
    assert len(copies) == 1
    [copy] = copies
    assert copy["Subject"] == "[Yêu cầu phúc đáp] Báo cáo tổng kết năm học"
    assert "Văn phòng Bộ" in str(copy["From"]) and copy["From"].addresses[0].addr_spec == f"so@{DOMAIN}"
    assert str(copy["Reply-To"]).startswith("traloi+") and copy["List-Id"] and copy["List-Unsubscribe-Post"]
    assert copy["List-Archive"] and copy["Message-ID"] == notice.post.message_id
    assert smtp.received[0].sender.startswith("bounces+")
    assert {p.get_content_type() for p in copy.walk()} >= {"text/plain", "text/html"}
    assert f"https://nhomthu.test/chu-de/{notice.thread_id}" in copy.get_body(("plain",)).get_content()
    assert "Hạn chót" in copy.get_body(("plain",)).get_content()


def test_invitation_carries_a_calendar_file(app, gate, smtp, ministry_unit):
    publisher, unit = ministry_unit
    member = make_member("GiamDoc", "so")
    start = utcnow() + timedelta(days=3)
    publish(
        publisher,
        unit,
        NoticeKind.INVITATION,
        meeting_start=start,
        meeting_place="Phòng họp A, 35 Đại Cồ Việt",
    )
    gate.drain()
    [copy] = smtp.to(member.email)
    [ics] = [p for p in copy.walk() if p.get_content_type() == "text/calendar"]
    text = ics.get_content()
    assert "BEGIN:VEVENT" in text and f"DTSTART:{start.strftime('%Y%m%dT%H%M%SZ')}" in text
    assert "LOCATION:Phòng họp A\\, 35 Đại Cồ Việt" in text


def test_only_publishers_publish(app, ministry_unit):
    stranger = make_member("GiaoVien", "so")
    with pytest.raises(NotAllowed):
        publish_notice(db.session, draft(), stranger, unit=None, domain=DOMAIN, now=utcnow())


def test_replies_are_answers_per_organisation_and_the_rest_are_reminded_once(
    app, gate, smtp, imap, ministry_unit
):
    publisher, unit = ministry_unit
    hanoi, hue = organisation("Sở GD&ĐT Hà Nội"), organisation("Sở GD&ĐT Huế")
    clerk, director, other = (
        make_member("VanThu", "so"),
        make_member("GiamDoc", "so"),
        make_member("Hue", "so"),
    )
    clerk.organisation = director.organisation = hanoi
    other.organisation = hue
    db.session.commit()
    notice = publish(publisher, unit, deadline=utcnow() + timedelta(days=1))
    gate.drain()
    [copy] = smtp.to(clerk.email)
    imap.append(
        make_mail(clerk.email, str(copy["Reply-To"]), subject="Re: Báo cáo", body="Sở Hà Nội gửi báo cáo.")
    )
    gate.drain()

    table = {row.organisation: row for row in answer_table(db.session, notice)}
    assert table["Sở GD&ĐT Hà Nội"].answered and [
        a.person.email for a in table["Sở GD&ĐT Hà Nội"].answers
    ] == [clerk.email]
    assert (table["Sở GD&ĐT Hà Nội"].recipients, table["Sở GD&ĐT Hà Nội"].waiting) == (2, 1)
    assert not table["Sở GD&ĐT Huế"].answered
    assert (table["Sở GD&ĐT Huế"].recipients, table["Sở GD&ĐT Huế"].waiting) == (1, 1)

    assert remind_due(db.session, utcnow(), DOMAIN) == 1, "Huế only: Hà Nội answered through its clerk"
    assert remind_due(db.session, utcnow(), DOMAIN) == 0, "once"
    db.session.commit()
    gate.drain()
    [reminder] = smtp.to(other.email)[1:]
    assert reminder["Subject"].startswith("Nhắc:")
    assert smtp.to(director.email)[1:] == []


def test_reminders_go_once_to_each_recipient_of_an_organisation_that_has_not_answered(app, ministry_unit):
    publisher, unit = ministry_unit
    hanoi, hue = organisation("Sở GD&ĐT Hà Nội"), organisation("Sở GD&ĐT Huế")
    clerk, director = make_member("VanThu", "so"), make_member("GiamDoc", "phong")
    hue_clerk, hue_director = make_member("VanThuHue", "so"), make_member("GiamDocHue", "phong")
    unplaced = make_member("ChuaRo", "phong")
    clerk.organisation = director.organisation = hanoi
    hue_clerk.organisation = hue_director.organisation = hue
    db.session.commit()
    notice = publish(publisher, unit, deadline=utcnow() + timedelta(days=1))
    reply_on_web(
        db.session, notice.thread, notice.post, clerk, "Sở Hà Nội đã gửi.", domain=DOMAIN, now=utcnow()
    )
    db.session.commit()

    table = [
        (row.organisation, row.answered, row.recipients, row.waiting)
        for row in answer_table(db.session, notice)
    ]
    assert table == [
        ("(chưa rõ đơn vị)", False, 1, 1),
        ("Sở GD&ĐT Huế", False, 2, 2),
        ("Sở GD&ĐT Hà Nội", True, 2, 1),
    ], "the publisher is not awaited"
    assert remind_due(db.session, utcnow(), DOMAIN) == 3
    db.session.commit()
    assert remind_due(db.session, utcnow(), DOMAIN) == 0, "once"
    reminded = db.session.scalars(select(Delivery.recipient).where(Delivery.template == "reminder"))
    assert sorted(reminded) == sorted([hue_clerk.email, hue_director.email, unplaced.email])


def test_a_reminder_is_the_personal_letter_enqueue_would_queue(app, ministry_unit):
    publisher, unit = ministry_unit
    member = make_member("VanThu", "so")
    notice = publish(publisher, unit, deadline=utcnow() + timedelta(days=1))
    now = utcnow()
    assert remind_due(db.session, now, DOMAIN) == 1
    one_by_one = outbox.enqueue(
        db.session,
        key="one-by-one",
        recipient=member.email,
        template="reminder",
        domain=DOMAIN,
        now=now,
        params={"notice": notice.id},
    )
    db.session.commit()
    reminder = db.session.scalar(select(Delivery).where(Delivery.message_key == f"reminder:{notice.id}"))
    same = [c.key for c in Delivery.__table__.columns if c.key not in ("id", "message_key", "message_id")]
    assert {c: getattr(reminder, c) for c in same} == {c: getattr(one_by_one, c) for c in same}
    assert re.fullmatch(rf"<[0-9a-f]{{24}}@{DOMAIN}>", reminder.message_id), "a Message-ID of its own"


def test_notice_publish_command(make_app, mail_env, database_url, tmp_path):
    make_app(**mail_env)
    publisher = make_member("VanPhong", "so")
    grant(db.session, publisher, RoleName.PUBLISHER, group=find_group(db.session, "so"))
    make_member("Nhan", "so")
    db.session.commit()
    body = tmp_path / "noi-dung.txt"
    body.write_text("Kính gửi các Sở GD&ĐT,\nĐề nghị báo cáo trước ngày 30.", encoding="utf-8")
    env = {**os.environ, **environment(database_url, tmp_path, **mail_env)}
    result = subprocess.run(
        [
            NHOMTHU,
            "notice",
            "publish",
            "--group",
            "so",
            "--kind",
            "yeu_cau_bao_cao",
            "--title",
            "Báo cáo",
            "--body-file",
            str(body),
            "--as",
            publisher.email,
            "--deadline",
            "2026-12-30 17:00",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "2 thư" in result.stdout, "the member and the publishing unit's own copy"
    assert db.session.scalar(select(func.count(Delivery.id)).where(Delivery.template == "notice")) == 2
    refused = subprocess.run(
        [
            NHOMTHU,
            "notice",
            "publish",
            "--group",
            "so",
            "--kind",
            "thong_bao",
            "--title",
            "X",
            "--body-file",
            str(body),
            "--as",
            address("Nhan"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode != 0 and "không được đăng" in refused.stderr


def test_a_held_answer_counts_once_approved_and_is_not_late_for_the_moderators_delay(app, ministry_unit):
    publisher, unit = ministry_unit
    clerk = make_member("VanThuHaNoi", "so")
    written = utcnow()
    notice = publish(publisher, unit, deadline=written + timedelta(hours=1), now=written)
    held = make_post(
        "Sở Hà Nội xin gửi báo cáo.",
        subject="Re: Báo cáo tổng kết năm học",
        reply_to=notice.post,
        author=clerk,
        slug="so",
        state=PostState.HELD,
        reason="nhóm có kiểm duyệt",
        at=written + timedelta(minutes=10),
    )
    assert db.session.scalar(select(func.count(Answer.id))) == 0
    moderator = make_member("KiemDuyet", "so")
    grant(db.session, moderator, RoleName.MODERATOR, group=find_group(db.session, "so"))
    approve(db.session, held, moderator, written + timedelta(days=2))  # approved after the deadline
    db.session.commit()
    [answer] = db.session.scalars(select(Answer)).all()
    assert answer.person_id == clerk.id and answer.post_id == held.id and not answer.late
