"""The registration addresses are an open door: no answer to robots, loops or floods."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models import Delivery, InboundMessage, db
from tests.corpora import CORPORA
from tests.factories import address, make_mail, ours

CORPUS = CORPORA / "fixtures" / "cpython-test_email"
TEACHER = address("Lan")


def outcomes() -> list[tuple[str, str]]:
    return [(row.outcome, row.reason or "") for row in db.session.scalars(select(InboundMessage))]


@pytest.mark.parametrize(
    ("sender", "headers"),
    [
        (TEACHER, {"Auto-Submitted": "auto-replied"}),
        (TEACHER, {"Precedence": "bulk"}),
        (TEACHER, {"Precedence": "junk"}),
        (TEACHER, {"X-Autoreply": "yes"}),
        (TEACHER, {"List-Id": "Other list <other.example.org>"}),
        (TEACHER, {"X-Loop": ours("noreply")}),
        ("MAILER-DAEMON@mail.truong.edu.vn", {}),
        ("postmaster@truong.edu.vn", {}),
        (ours("noreply"), {}),
        (ours("dangky-thcs"), {}),
        (ours("bounces+12"), {}),
    ],
)
def test_automatic_mail_to_dangky_gets_no_answer(imap, smtp, gate, sender, headers):
    imap.append(
        make_mail(sender, ours("dangky-THPT"), **{k.replace("-", "_"): v for k, v in headers.items()})
    )
    gate.drain()
    assert smtp.received == []
    [(outcome, reason)] = outcomes()
    assert outcome == "ignored" and reason


@pytest.mark.parametrize("name", ["msg_16.txt", "msg_25.txt", "msg_43.txt"])
def test_real_bounces_to_dangky_get_no_answer(imap, smtp, gate, name):
    """Delivery reports from the CPython email tests, as if they had come back to dangky-THPT@."""
    lines = (CORPUS / name).read_bytes().splitlines(keepends=True)
    raw = b"".join(lines[1:] if lines[0].startswith(b"From ") else lines)
    imap.append(f"Delivered-To: {ours('dangky-thpt')}\r\n".encode() + raw)
    gate.drain()
    assert smtp.received == []
    assert [outcome for outcome, _ in outcomes()] == ["ignored"]


def test_a_hundred_registrations_in_a_day_send_no_more_than_the_limit(imap, smtp, gate):
    with imap.client() as client:
        for n in range(100):
            client.append("INBOX", make_mail(TEACHER, ours("dangky-THPT"), subject=f"Đăng ký {n}"))
    gate.drain()
    limit = gate.settings.join.confirmations_per_day
    assert 1 <= len(smtp.to(TEACHER)) <= limit
    assert db.session.scalar(select(func.count(Delivery.id))) <= limit
    assert len(outcomes()) == 100, "every message is stored and has an outcome"


def test_answers_carry_headers_that_stop_auto_responders(imap, smtp, gate):
    imap.append(make_mail(TEACHER, ours("dangky-THPT")))
    gate.drain()
    [confirmation] = smtp.to(TEACHER)
    assert confirmation["Auto-Submitted"] == "auto-replied"
    assert confirmation["X-Loop"] == ours("noreply")
    assert smtp.received[0].sender.startswith("bounces+")
