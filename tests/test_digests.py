"""The daily digest: members who choose it get one email a day per group instead of each post, and
still get at once the notices that ask for something by a date."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select

from models import Membership, db, utcnow
from models.notices import NoticeKind
from models.roles import RoleName
from models.services.digests import send_digests
from models.services.fanout import deliver_post
from models.services.memberships import find_group
from models.services.notices import NoticeDraft, publish_notice
from models.services.roles import grant
from models.site import VIETNAM
from tests.conftest import DOMAIN
from tests.factories import make_member, make_post, open_discussion
from tests.test_forum import csrf, sign_in


def membership_of(person) -> Membership:
    return db.session.scalars(select(Membership).where(Membership.person_id == person.id)).one()


def yesterday_at(hour: int) -> datetime:
    day = utcnow().astimezone(VIETNAM).date() - timedelta(days=1)
    return datetime.combine(day, time(hour), tzinfo=VIETNAM)


def notice(kind: NoticeKind, title: str, publisher, at: datetime, **extra) -> None:
    groups = (find_group(db.session, "so"),)
    draft = NoticeDraft(kind=kind, title=title, body="Kính gửi các Sở.", groups=groups, **extra)
    publish_notice(db.session, draft, publisher, unit=None, domain=DOMAIN, now=at)
    db.session.commit()


@pytest.fixture
def day_of_mail(app):
    """Yesterday in the "so" group: a discussion post, an information notice, a report request."""
    open_discussion("so")
    publisher = make_member("VanPhongBo", "so")
    grant(db.session, publisher, RoleName.PUBLISHER, group=find_group(db.session, "so"))
    each, digest = make_member("TungThu", "so"), make_member("BanTin", "so")
    membership_of(digest).digest = True
    db.session.commit()
    post = make_post("Sở Huế chia sẻ kế hoạch.", subject="Kế hoạch năm học", slug="so", at=yesterday_at(9))
    deliver_post(db.session, post, find_group(db.session, "so"), yesterday_at(9))
    notice(NoticeKind.NOTICE, "Lịch nghỉ Tết", publisher, yesterday_at(10))
    deadline = {"deadline": utcnow() + timedelta(days=5)}
    notice(NoticeKind.REPORT_REQUESTED, "Báo cáo tuyển sinh", publisher, yesterday_at(11), **deadline)
    return each, digest


def test_digest_members_get_at_once_only_what_asks_for_an_answer(day_of_mail, gate, smtp):
    each, digest = day_of_mail
    gate.drain()
    assert sorted(str(m["Subject"]) for m in smtp.to(each.email)) == [
        "Kế hoạch năm học",
        "[Thông báo] Lịch nghỉ Tết",
        "[Yêu cầu báo cáo] Báo cáo tuyển sinh",
    ]
    assert [str(m["Subject"]) for m in smtp.to(digest.email)] == ["[Yêu cầu báo cáo] Báo cáo tuyển sinh"]


def test_one_digest_a_day_lists_the_days_posts_with_links(day_of_mail, gate, smtp):
    each, digest = day_of_mail
    gate.drain()
    smtp.reset()
    assert send_digests(db.session, utcnow(), DOMAIN) == 1
    assert send_digests(db.session, utcnow(), DOMAIN) == 0, "once per member and day"
    db.session.commit()
    gate.drain()
    assert smtp.to(each.email) == []
    [mail] = smtp.to(digest.email)
    day = yesterday_at(0).strftime("%d/%m/%Y")
    assert str(mail["Subject"]) == f"Bản tin nhóm {find_group(db.session, 'so').name_vi} ngày {day}"
    text = mail.get_body(("plain",)).get_content()
    titles = re.findall(r"^\d+\. (.+)$", text, re.MULTILINE)
    assert titles == ["Kế hoạch năm học", "[Thông báo] Lịch nghỉ Tết", "[Yêu cầu báo cáo] Báo cáo tuyển sinh"]
    assert "Sở Huế chia sẻ kế hoạch." in text and "https://nhomthu.test/chu-de/" in text
    assert mail.get_body(("html",)) is not None
    assert mail["List-Id"] and mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = re.search(r"<https://nhomthu\.test(/huy-dang-ky/[^>]+)>", str(mail["List-Unsubscribe"]))
    assert unsubscribe and unsubscribe.group(1).split("/")[-1].startswith(f"{membership_of(digest).id}-")


def test_no_digest_for_a_quiet_day(app):
    membership_of(make_member("BanTin", "so")).digest = True
    make_post("Hôm nay mới viết.", slug="so")
    assert send_digests(db.session, utcnow(), DOMAIN) == 0


def test_members_choose_the_digest_on_the_group_page(make_app):
    client = make_app().test_client()
    member = make_member("Hoa", "so")
    sign_in(client, member)
    page = client.get("/nhom/so").get_data(as_text=True)
    assert "Cách nhận thư" in page and 'value="tung-thu" checked' in page
    answer = client.post("/nhom/so/cach-nhan-thu", data={"csrf_token": csrf(page), "cach": "ban-tin"})
    assert answer.status_code == 200 and "bản tin tổng hợp" in answer.get_data(as_text=True)
    assert membership_of(member).digest
    page = client.get("/nhom/so").get_data(as_text=True)
    assert 'value="ban-tin" checked' in page
    client.post("/nhom/so/cach-nhan-thu", data={"csrf_token": csrf(page), "cach": "tung-thu"})
    db.session.expire_all()
    assert not membership_of(member).digest
    assert client.post("/nhom/thpt/cach-nhan-thu", data={"csrf_token": csrf(page)}).status_code == 403
    assert client.post("/nhom/so/cach-nhan-thu", data={"cach": "ban-tin"}).status_code == 400, "CSRF"
