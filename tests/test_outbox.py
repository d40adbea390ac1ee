"""The outbox: one reused SMTP connection, every answer recorded, temporary failures retried with backoff."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from models import Delivery, db, utcnow
from models.mail import DeliveryState
from models.notices import NoticeKind
from models.roles import RoleName
from models.services.memberships import find_group
from models.services.notices import NoticeDraft, publish_notice
from models.services.roles import grant
from tests.conftest import DOMAIN
from tests.factories import address, make_mail, make_member, ours
from tests.servers.dovecot import free_port


def request_confirmations(imap, count: int) -> list[str]:
    senders = [address(f"gv{n}") for n in range(count)]
    for sender in senders:
        imap.append(make_mail(sender, ours("dangky-THPT")))
    return senders


def deliveries() -> list[Delivery]:
    db.session.expire_all()
    return list(db.session.scalars(select(Delivery).order_by(Delivery.id)))


def test_several_messages_go_over_one_connection_with_answers_recorded(imap, smtp, gate):
    request_confirmations(imap, 5)
    gate.drain()
    assert len(smtp.received) == 5
    assert smtp.recorder.connections == 1
    assert [d.last_answer for d in deliveries()] == [f"250 2.0.0 Ok: queued as T{n}" for n in range(1, 6)]
    assert all(d.state == DeliveryState.SENT and d.secret is None for d in deliveries())


def test_temporary_refusal_is_retried_later_with_backoff(imap, smtp, gate):
    request_confirmations(imap, 1)
    smtp.fail_next("451 4.3.0 Try again later", "452 4.2.2 Mailbox full")
    gate.drain()
    [delivery] = deliveries()
    assert delivery.state == DeliveryState.PENDING
    assert delivery.attempts == 1 and delivery.last_answer == "451 4.3.0 Try again later"
    assert delivery.next_attempt_at > utcnow() + timedelta(seconds=50)

    replace(gate, clock=lambda: utcnow() + timedelta(minutes=2)).drain()
    [delivery] = deliveries()
    assert (delivery.attempts, delivery.last_answer) == (2, "452 4.2.2 Mailbox full")
    assert delivery.next_attempt_at > utcnow() + timedelta(minutes=3), "the second wait is longer"

    replace(gate, clock=lambda: utcnow() + timedelta(minutes=10)).drain()
    [delivery] = deliveries()
    assert delivery.state == DeliveryState.SENT and len(smtp.received) == 1


def test_permanent_refusal_settles_the_row(imap, smtp, gate):
    request_confirmations(imap, 1)
    smtp.fail_next("550 5.1.1 No such user")
    gate.drain()
    [delivery] = deliveries()
    assert delivery.state == DeliveryState.FAILED
    assert delivery.last_answer == "550 5.1.1 No such user"
    assert delivery.secret is None, "no readable token outlives a settled row"


def test_unreachable_server_leaves_the_outbox_waiting(imap, smtp, gate):
    request_confirmations(imap, 2)
    gate.transport.server = replace(gate.transport.server, port=free_port())
    gate.drain()
    assert all(d.state == DeliveryState.PENDING and d.attempts == 0 for d in deliveries()), (
        "not the rows' fault"
    )
    assert "không kết nối được" in deliveries()[0].last_answer
    gate.transport.server = replace(gate.transport.server, port=smtp.port)
    replace(gate, clock=lambda: utcnow() + timedelta(minutes=2)).drain()
    assert all(d.state == DeliveryState.SENT for d in deliveries())
    assert len(smtp.received) == 2


def test_refused_for_days_the_message_is_given_up(imap, smtp, gate):
    request_confirmations(imap, 1)
    smtp.fail_next("451 4.3.0 Try again later", "451 4.3.0 Try again later")
    gate.drain()
    replace(gate, clock=lambda: utcnow() + timedelta(days=4)).drain()
    [delivery] = deliveries()
    assert delivery.state == DeliveryState.FAILED and delivery.secret is None


def test_envelope_sender_names_the_delivery_unforgeably(imap, smtp, gate):
    request_confirmations(imap, 1)
    gate.drain()
    [delivery] = deliveries()
    sender = smtp.received[0].sender
    assert sender.startswith(f"bounces+{delivery.id}-") and len(sender.split("+")[1].split("@")[0]) > 10


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelined", "one-by-one"])
def test_a_refusal_mid_stream_settles_that_row_only(imap, smtp, gate, pipelining):
    smtp.recorder.pipelining = pipelining
    senders = request_confirmations(imap, 4)
    smtp.fail_next("250 2.0.0 Ok: queued as A", "550 5.1.1 No such user")  # the second is refused
    gate.drain()
    assert [(d.recipient, d.state) for d in deliveries()] == [
        (sender, DeliveryState.FAILED if n == 1 else DeliveryState.SENT) for n, sender in enumerate(senders)
    ]
    assert deliveries()[1].last_answer == "550 5.1.1 No such user"
    assert {r.recipients[0] for r in smtp.received} == {senders[2], senders[3]}
    assert smtp.recorder.connections == 1, "a refusal does not cost the connection"


def test_lines_starting_with_a_dot_arrive_intact(app, smtp, gate):
    publisher = make_member("VanPhong", "so")
    grant(db.session, publisher, RoleName.PUBLISHER, group=find_group(db.session, "so"))
    reader = make_member("Doc", "so")
    body = "Dòng đầu\n.\n..hai chấm\n.cuối thư"
    draft = NoticeDraft(NoticeKind.NOTICE, "Dấu chấm", body, (find_group(db.session, "so"),))
    publish_notice(db.session, draft, publisher, unit=None, domain=DOMAIN, now=utcnow())
    db.session.commit()
    gate.drain()
    [copy] = smtp.to(reader.email)
    assert body in copy.get_body(("plain",)).get_content().replace("\r\n", "\n")


def test_a_row_due_before_where_the_last_claim_ended_is_still_sent(imap, smtp, gate):
    """Each claim goes on from where the last ended; a row behind it (a lagging clock) is not lost."""
    request_confirmations(imap, 3)
    one_at_a_time = replace(gate, settings=replace(gate.settings, send_batch=1))
    one_at_a_time.run_once()
    assert len(smtp.received) == 1
    last = deliveries()[-1]
    last.next_attempt_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    one_at_a_time.drain()
    assert all(d.state == DeliveryState.SENT for d in deliveries()) and len(smtp.received) == 3
