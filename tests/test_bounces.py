"""Bounces: a DSN to bounces+<key>@ names the delivery; permanent ones add up until the member is disabled."""

from __future__ import annotations

from sqlalchemy import select

from mailgate.addresses import bounce_address
from models import Delivery, Membership, db, utcnow
from models.bounces import Bounce
from models.groups import MembershipState
from models.services import outbox
from tests.conftest import DOMAIN
from tests.factories import make_member, open_discussion

REPORT = """\
From: Mail Delivery System <MAILER-DAEMON@mx.truong.edu.vn>
To: {to}
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

Your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.truong.edu.vn

Final-Recipient: rfc822; {recipient}
Action: {action}
Status: {status}
Diagnostic-Code: smtp; {code}

--B--
"""


def bounce_for(delivery: Delivery, site, permanent: bool = True) -> bytes:
    return REPORT.format(
        to=bounce_address(delivery.id, site),
        recipient=delivery.recipient,
        action="failed" if permanent else "delayed",
        status="5.1.1" if permanent else "4.2.2",
        code="550 5.1.1 User unknown" if permanent else "452 4.2.2 Mailbox full",
    ).encode()


def queued_to(person, n: int) -> Delivery:
    delivery = outbox.enqueue(
        db.session,
        key=f"post:{n}",
        recipient=person.email,
        person=person,
        template="post",
        domain=DOMAIN,
        now=utcnow(),
    )
    delivery.state = "sent"
    db.session.commit()
    return delivery


def test_three_permanent_bounces_disable_the_member_and_tell_them(imap, smtp, gate):
    open_discussion()
    member = make_member("An")
    site = gate.settings.site
    for n in range(3):
        imap.append(bounce_for(queued_to(member, n), site))
        gate.drain()
    db.session.expire_all()
    assert db.session.scalar(select(Membership)).state == MembershipState.DISABLED
    assert [b.permanent for b in db.session.scalars(select(Bounce))] == [True, True, True]
    [notice] = smtp.to(member.email)
    assert "tạm dừng" in notice["Subject"]


def test_temporary_bounces_and_forged_keys_change_nothing(imap, smtp, gate):
    member = make_member("Binh")
    site = gate.settings.site
    delivery = queued_to(member, 1)
    imap.append(bounce_for(delivery, site, permanent=False))
    forged = bounce_for(delivery, site).replace(
        bounce_address(delivery.id, site).encode(),
        f"bounces+{delivery.id}-aaaaaaaaaaaaaaaa@{DOMAIN}".encode(),
    )
    imap.append(forged)
    gate.drain()
    db.session.expire_all()
    assert member.bounce_score == 0
    assert [b.permanent for b in db.session.scalars(select(Bounce))] == [False]
    assert db.session.scalar(select(Membership)).state == MembershipState.ACTIVE


def test_a_refusal_while_sending_counts_as_a_bounce(imap, smtp, gate):
    from tests.factories import make_mail, ours

    imap.append(make_mail("moi@truong.edu.vn", ours("dangky-THPT")))
    smtp.fail_next("550 5.1.1 No such user")
    gate.drain()
    [bounce] = db.session.scalars(select(Bounce)).all()
    assert (bounce.source, bounce.permanent) == ("smtp", True) and "550" in bounce.detail
