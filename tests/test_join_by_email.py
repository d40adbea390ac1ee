"""Letter 60/CNTT's promise: send any mail to dangky-THPT@, press Reply on the answer, and you are a member.

Every test here goes through the real Dovecot (IMAP) and the real SMTP server.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from mailgate.gate import Gate
from models import Delivery, InboundMessage, Membership, Person, db, utcnow
from models.groups import MembershipState
from tests.factories import address, make_mail, ours, reply_to
from tests.servers.dovecot import Dovecot
from tests.servers.smtp import SmtpServer

TEACHER = address("Hoa")


def membership_state(person: str, slug: str = "thpt") -> MembershipState | None:
    for membership in db.session.scalars(select(Membership)):
        if membership.person.email == person and membership.group.slug == slug:
            return membership.state
    return None


def join(imap: Dovecot, smtp: SmtpServer, gate: Gate, sender: str = TEACHER, to: str = "dangky-THPT"):
    imap.append(make_mail(f"Cô Hoa <{sender}>", ours(to)))
    gate.drain()
    return smtp.to(sender)[-1]


def test_mail_to_dangky_then_reply_makes_an_active_member(imap, smtp, gate):
    confirmation = join(imap, smtp, gate)

    assert confirmation["From"].addresses[0].addr_spec == ours("noreply")
    assert re.fullmatch(r"xacnhan\+[a-z2-7]{24}@nhomthu\.test", str(confirmation["Reply-To"]))
    assert "Trường THPT" in confirmation["Subject"]
    assert "https://nhomthu.test/xac-nhan/" in confirmation.get_body(("plain",)).get_content()
    assert membership_state(TEACHER) == MembershipState.PENDING

    imap.append(reply_to(confirmation, TEACHER))
    gate.drain()

    assert membership_state(TEACHER) == MembershipState.ACTIVE
    welcome = smtp.to(TEACHER)[-1]
    assert "Chào mừng" in welcome["Subject"]
    assert ours("huydangky-thpt") in welcome.get_body(("plain",)).get_content()
    assert welcome["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "https://nhomthu.test/huy-dang-ky/" in welcome["List-Unsubscribe"]
    assert imap.uids("INBOX") == []
    assert len(imap.uids("nhomthu-da-xu-ly")) == 2


def test_registration_address_is_case_insensitive_and_any_domain_joins(imap, smtp, gate):
    sender = "someone@yahoo.com.vn"
    confirmation = join(imap, smtp, gate, sender=sender, to="DangKy-thpt")
    assert confirmation["To"] == sender
    assert membership_state(sender) == MembershipState.PENDING


def test_reply_that_lost_reply_to_confirms_by_its_subject(imap, smtp, gate):
    confirmation = join(imap, smtp, gate)
    imap.append(reply_to(confirmation, TEACHER, honour_reply_to=False))  # goes to noreply@
    gate.drain()
    assert membership_state(TEACHER) == MembershipState.ACTIVE


def test_second_registration_of_an_active_member_says_so(imap, smtp, gate):
    imap.append(reply_to(join(imap, smtp, gate), TEACHER))
    gate.drain()
    again = join(imap, smtp, gate)
    assert "đã là thành viên" in again["Subject"]
    assert membership_state(TEACHER) == MembershipState.ACTIVE


def test_token_is_single_use(imap, smtp, gate):
    confirmation = join(imap, smtp, gate)
    imap.append(reply_to(confirmation, TEACHER))
    gate.drain()
    imap.append(reply_to(confirmation, TEACHER, body="Gửi lại lần nữa"))
    gate.drain()
    assert "đã được xác nhận" in smtp.to(TEACHER)[-1]["Subject"]
    assert len(db.session.scalars(select(Membership)).all()) == 1


def test_pending_confirmation_expires_after_seven_days(imap, smtp, gate):
    confirmation = join(imap, smtp, gate)
    later = replace(gate, clock=lambda: utcnow() + timedelta(days=7, minutes=1))
    imap.append(reply_to(confirmation, TEACHER))
    later.drain()
    assert membership_state(TEACHER) == MembershipState.PENDING
    assert "hết hạn" in smtp.to(TEACHER)[-1]["Subject"]


def test_huydangky_then_reply_ends_the_membership(imap, smtp, gate):
    imap.append(reply_to(join(imap, smtp, gate), TEACHER))
    gate.drain()
    imap.append(make_mail(TEACHER, ours("huydangky-thpt"), subject="Hủy"))
    gate.drain()
    question = smtp.to(TEACHER)[-1]
    assert "Xác nhận rời nhóm" in question["Subject"]
    assert membership_state(TEACHER) == MembershipState.ACTIVE, "a forged From must not remove anyone"

    imap.append(reply_to(question, TEACHER))
    gate.drain()
    assert membership_state(TEACHER) == MembershipState.LEFT
    goodbye = smtp.to(TEACHER)[-1]
    assert "rời nhóm" in goodbye["Subject"]
    assert ours("dangky-THPT") in goodbye.get_body(("plain",)).get_content()


def test_unknown_group_gets_one_polite_answer_a_day(imap, smtp, gate):
    for _ in range(4):
        imap.append(make_mail(TEACHER, ours("dangky-khongco")))
    gate.drain()
    answers = smtp.to(TEACHER)
    assert len(answers) == 1
    assert "Không có nhóm thư" in answers[0]["Subject"]
    outcomes = {row.outcome for row in db.session.scalars(select(InboundMessage))}
    assert outcomes == {"rejected"}


def test_leaving_a_group_one_is_not_in_is_answered_once(imap, smtp, gate):
    imap.append(make_mail(TEACHER, ours("huydangky-thcs")))
    imap.append(make_mail(TEACHER, ours("huydangky-thcs")))
    gate.drain()
    assert len(smtp.to(TEACHER)) == 1
    assert "không có trong nhóm" in smtp.to(TEACHER)[0]["Subject"]


def test_member_who_leaves_before_the_mail_goes_out_still_gets_an_answer(imap, smtp, gate):
    """The welcome is rendered after the membership ended: no unsubscribe link, and no crash."""
    imap.append(reply_to(join(imap, smtp, gate), TEACHER))
    gate.run_once()  # confirmed; the welcome is queued (and sent in the same iteration)
    imap.append(make_mail(TEACHER, ours("dangky-THPT")))
    imap.append(make_mail(TEACHER, ours("huydangky-thpt")))
    gate.drain()
    imap.append(reply_to(smtp.to(TEACHER)[-1], TEACHER))
    gate.drain()
    assert membership_state(TEACHER) == MembershipState.LEFT
    assert {d.state for d in db.session.scalars(select(Delivery))} == {"sent"}


def test_forged_from_in_an_encoded_word_cannot_pose_as_the_sender(imap, smtp, gate):
    forged = b"From: =?utf-8?q?Foo_<victim@truong.edu.vn>?= <attacker@evil.test>"
    imap.append(
        make_mail("attacker@evil.test", ours("dangky-THPT")).replace(b"From: attacker@evil.test", forged)
    )
    gate.drain()
    assert smtp.to("victim@truong.edu.vn") == []
    assert len(smtp.to("attacker@evil.test")) == 1


def test_vietnamese_name_in_a_raw_utf8_header_is_kept(imap, smtp, gate):
    raw = make_mail(TEACHER, ours("dangky-THPT")).replace(
        f"From: {TEACHER}".encode(), f"From: Nguyễn Thị Hoa <{TEACHER}>".encode()
    )
    imap.append(raw)
    gate.drain()
    assert db.session.scalar(select(Person)).name == "Nguyễn Thị Hoa"


def test_internationalised_sender_address_is_ignored_not_crashed(imap, smtp, gate):
    raw = make_mail(TEACHER, ours("dangky-THPT")).replace(
        f"From: {TEACHER}".encode(), "From: <người@truong.edu.vn>".encode()
    )
    imap.append(raw)
    gate.drain()
    [row] = db.session.scalars(select(InboundMessage))
    assert (row.outcome, smtp.received) == ("ignored", [])
    assert "địa chỉ người gửi" in row.reason


def test_a_bounce_with_a_forged_key_is_ignored_and_answered_by_no_one(imap, smtp, gate):
    imap.append(make_mail(TEACHER, ours("bounces+12-xyz"), Auto_Submitted="auto-replied"))
    gate.drain()
    [row] = db.session.scalars(select(InboundMessage))
    assert row.outcome == "ignored" and "bounce key" in row.reason
    assert smtp.received == []
