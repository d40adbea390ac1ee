"""The web pages of the foundation: groups, confirming and leaving by link, the test mailbox."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from models import Delivery, InboundMessage, Membership, db, utcnow
from models.groups import MembershipSource, MembershipState
from models.services.memberships import (
    JoinRules,
    find_group,
    request_leave,
    request_membership,
    unsubscribe_key,
)
from tests.conftest import DOMAIN, SECRET
from tests.factories import address
from wiring.processes import build_gate

RULES = JoinRules(domain=DOMAIN)


@pytest.fixture
def client(make_app):
    return make_app().test_client()


def csrf_token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def pending(person: str = address("Hoa")) -> tuple[Membership, str]:
    answer = request_membership(
        db.session,
        find_group(db.session, "thpt"),
        person,
        source=MembershipSource.EMAIL,
        rules=RULES,
        now=utcnow(),
    )
    db.session.commit()
    return answer.membership, answer.delivery.secret


def active(person: str = address("Hoa")) -> Membership:
    membership, token = pending(person)
    membership.state = MembershipState.ACTIVE
    db.session.commit()
    return membership


def test_groups_page_lists_the_eleven_with_their_registration_addresses(client):
    page = client.get("/").get_data(as_text=True)
    assert page.count('class="card"') == 11
    assert f"dangky-THPT@{DOMAIN}" in page and "Trường cao đẳng" in page
    assert 'name="viewport"' in page and 'lang="vi"' in page
    assert client.get("/nhom/thpt").status_code == 200
    assert client.get("/nhom/khong-co").status_code == 404


def test_confirmation_link_asks_first_and_confirms_on_post(client):
    membership, token = pending()
    page = client.get(f"/xac-nhan/{token}")
    assert page.status_code == 200 and "Xác nhận tham gia" in page.get_data(as_text=True)
    assert db.session.get(Membership, membership.id).state == MembershipState.PENDING, "a GET changes nothing"

    assert client.post(f"/xac-nhan/{token}").status_code == 400, "no CSRF token, no change"
    done = client.post(f"/xac-nhan/{token}", data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    assert done.status_code == 200
    db.session.expire_all()
    assert db.session.get(Membership, membership.id).state == MembershipState.ACTIVE
    assert db.session.scalar(select(Delivery).where(Delivery.template == "welcome")) is not None
    assert "đã được dùng" in client.get(f"/xac-nhan/{token}").get_data(as_text=True)


def test_wrong_token_gets_a_clear_page(client):
    response = client.get("/xac-nhan/khongphaima")
    assert response.status_code == 400 and "Liên kết không đúng" in response.get_data(as_text=True)


def test_one_click_unsubscribe_needs_no_cookie_or_form_token(client):
    membership = active()
    key = unsubscribe_key(membership, SECRET)
    response = client.post(f"/huy-dang-ky/{key}", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(Membership, membership.id).state == MembershipState.LEFT
    assert db.session.scalar(select(Delivery).where(Delivery.template == "goodbye")) is not None
    assert client.post(f"/huy-dang-ky/{key}", data={"List-Unsubscribe": "One-Click"}).status_code == 404


def test_unsubscribe_page_asks_then_leaves_with_a_form_token(client):
    membership = active()
    key = unsubscribe_key(membership, SECRET)
    page = client.get(f"/huy-dang-ky/{key}").get_data(as_text=True)
    assert "Rời nhóm" in page
    assert client.post(f"/huy-dang-ky/{key}").status_code == 400
    assert client.post(f"/huy-dang-ky/{key}", data={"csrf_token": csrf_token(page)}).status_code == 200
    db.session.expire_all()
    assert db.session.get(Membership, membership.id).state == MembershipState.LEFT


def test_forged_unsubscribe_key_does_nothing(client):
    membership = active()
    response = client.post(
        f"/huy-dang-ky/{membership.id}-aaaaaaaaaaaaaaaaaaaaaaaa", data={"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 404
    assert db.session.get(Membership, membership.id).state == MembershipState.ACTIVE


def test_test_mailbox_shows_the_whole_flow_without_a_mail_server(make_app):
    app = make_app()
    client = app.test_client()
    page = client.get("/quan-tri/hop-thu-thu-nghiem/").get_data(as_text=True)
    form = {
        "csrf_token": csrf_token(page),
        "sender": "co.hoa@gmail.com",
        "recipient": f"dangky-THPT@{DOMAIN}",
        "subject": "Đăng ký",
        "body": "Xin tham gia",
    }
    assert client.post("/quan-tri/hop-thu-thu-nghiem/gui", data=form).status_code == 302
    assert db.session.scalar(select(InboundMessage)).mailbox == "local"

    build_gate(app.extensions["nhomthu.settings"]).drain()
    page = client.get("/quan-tri/hop-thu-thu-nghiem/").get_data(as_text=True)
    assert "Xác nhận đăng ký nhóm thư Trường THPT" in page
    assert "recipient=xacnhan%2B" in page, "the Reply button answers to the confirmation address"


def test_confirmation_link_to_leave_asks_then_leaves(client):
    membership = active()
    answer = request_leave(db.session, membership.group, membership.person.email, rules=RULES, now=utcnow())
    db.session.commit()
    token = db.session.scalar(select(Delivery).where(Delivery.template == "confirm_leave")).secret
    page = client.get(f"/xac-nhan/{token}").get_data(as_text=True)
    assert answer == "confirmation_sent" and "Xác nhận rời nhóm" in page
    assert client.post(f"/xac-nhan/{token}", data={"csrf_token": csrf_token(page)}).status_code == 200
    db.session.expire_all()
    assert db.session.get(Membership, membership.id).state == MembershipState.LEFT


def test_absurd_unsubscribe_key_is_a_clean_404(client):
    assert (
        client.post(
            "/huy-dang-ky/99999999999999999999999-x", data={"List-Unsubscribe": "One-Click"}
        ).status_code
        == 404
    )


def test_test_mailbox_is_absent_when_a_mail_server_is_configured(app):
    assert app.test_client().get("/quan-tri/hop-thu-thu-nghiem/").status_code == 404


def test_joining_from_the_web_sends_the_same_confirmation(make_app):
    app = make_app()
    client = app.test_client()
    page = client.get("/nhom/thpt").get_data(as_text=True)
    done = client.post(
        "/nhom/thpt/dang-ky", data={"csrf_token": csrf_token(page), "email": "Co.Hoa@Gmail.com"}
    )
    assert done.status_code == 200 and "Kiểm tra hộp thư" in done.get_data(as_text=True)
    delivery = db.session.scalar(select(Delivery).where(Delivery.template == "confirm"))
    assert delivery.recipient == "co.hoa@gmail.com"
    membership = db.session.scalar(select(Membership))
    assert (membership.state, membership.source) == (MembershipState.PENDING, MembershipSource.WEB)
    bad = client.post(
        "/nhom/thpt/dang-ky", data={"csrf_token": csrf_token(page), "email": "khong-phai-dia-chi"}
    )
    assert bad.status_code == 400


def test_health_reports_the_database_and_queue_ages(client):
    answer = client.get("/health")
    assert answer.status_code == 200
    assert answer.get_json() | {"jobs": {}} == {
        "status": "ok",
        "database": "ok",
        "mail": {"imap_last_fetch_seconds": None, "smtp_last_send_seconds": None},
        "inbound_waiting": 0,
        "inbound_oldest_seconds": 0,
        "outbox_waiting": {},
        "outbox_oldest_seconds": 0,
        "jobs": {},
    }
