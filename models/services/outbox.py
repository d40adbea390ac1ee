"""The outbox: every message that leaves the system is first a Delivery row, committed with its cause.

Senders (the mailgate for email, the bot for chats) claim rows, deliver them, and settle each one.
Claims carry a lease: a row claimed by a process that died is claimed again once the lease runs out,
so a crash repeats at most what was in flight and never skips a row.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from models.mail import Delivery, DeliveryState
from models.people import Person


@dataclass(frozen=True)
class RetryPolicy:
    """Like an MTA's queue: temporary refusals are retried with backoff until the message is too old."""

    max_age: timedelta = timedelta(days=3)
    first_delay: timedelta = timedelta(minutes=1)
    lease: timedelta = timedelta(minutes=5)

    def delay(self, attempts: int) -> timedelta:
        """1, 2, 4, 8 … minutes, capped at an hour."""
        return min(self.first_delay * (2 ** max(attempts - 1, 0)), timedelta(hours=1))


def new_message_id(domain: str) -> str:
    return f"<{secrets.token_hex(12)}@{domain}>"


def enqueue(
    session: Session,
    *,
    key: str,
    recipient: str,
    template: str,
    domain: str,
    now: datetime,
    person: Person | None = None,
    params: dict[str, Any] | None = None,
    secret: str | None = None,
    in_reply_to: str | None = None,
    channel: str = "email",
) -> Delivery:
    """Add a delivery unless the same (key, recipient, channel) exists; return the row either way."""
    existing = session.scalar(
        select(Delivery).where(
            Delivery.message_key == key, Delivery.recipient == recipient, Delivery.channel == channel
        )
    )
    if existing is not None:
        return existing
    delivery = Delivery(
        message_key=key,
        recipient=recipient,
        person=person,
        channel=channel,
        template=template,
        params=params or {},
        secret=secret,
        message_id=new_message_id(domain),
        in_reply_to=in_reply_to,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(delivery)
    session.flush()
    return delivery


def count_recent(session: Session, recipient: str, template: str, since: datetime) -> int:
    return (
        session.scalar(
            select(func.count(Delivery.id)).where(
                Delivery.recipient == recipient, Delivery.template == template, Delivery.created_at >= since
            )
        )
        or 0
    )


def claim_batch(
    session: Session, channel: str, now: datetime, policy: RetryPolicy, limit: int = 50
) -> list[Delivery]:
    """Claim due rows for one sender. The caller commits right away, before delivering any of them."""
    due = or_(
        (Delivery.state == DeliveryState.PENDING) & (Delivery.next_attempt_at <= now),
        (Delivery.state == DeliveryState.SENDING) & (Delivery.claimed_at <= now - policy.lease),
    )
    candidates = (
        select(Delivery.id)
        .where(Delivery.channel == channel, due)
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(session.scalars(candidates))
    if not ids:
        return []
    claim = secrets.token_hex(8)
    session.execute(
        update(Delivery)
        .where(Delivery.id.in_(ids), due)
        .values(state=DeliveryState.SENDING, claim=claim, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    claimed = select(Delivery).where(Delivery.claim == claim).order_by(Delivery.id)
    return list(session.scalars(claimed.execution_options(populate_existing=True)))


def renew_claims(session: Session, claim: str, now: datetime) -> set[int]:
    """Renew the lease of a batch still being delivered; the ids that are still this claim's."""
    session.execute(
        update(Delivery)
        .where(Delivery.claim == claim, Delivery.state == DeliveryState.SENDING)
        .values(claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    return set(session.scalars(select(Delivery.id).where(Delivery.claim == claim)))


def mark_sent(session: Session, delivery: Delivery, answer: str, now: datetime) -> bool:
    return _ours(
        session,
        delivery,
        True,
        state=DeliveryState.SENT,
        last_answer=answer,
        sent_at=now,
        secret=None,
        claim=None,
    )


def mark_failed(
    session: Session, delivery: Delivery, answer: str, now: datetime, policy: RetryPolicy, *, permanent: bool
) -> bool:
    """A permanent refusal settles the row; a temporary one is tried again later, until it is too old."""
    if permanent or now - delivery.created_at >= policy.max_age:
        return _ours(
            session, delivery, True, state=DeliveryState.FAILED, last_answer=answer, secret=None, claim=None
        )
    return _ours(
        session,
        delivery,
        True,
        state=DeliveryState.PENDING,
        last_answer=answer,
        claim=None,
        next_attempt_at=now + policy.delay(delivery.attempts + 1),
    )


def release(
    session: Session, deliveries: list[Delivery], answer: str, now: datetime, policy: RetryPolicy
) -> None:
    """Give rows back unsent, without counting an attempt (the server went away, not the recipient)."""
    for delivery in deliveries:
        _ours(
            session,
            delivery,
            False,
            state=DeliveryState.PENDING,
            claim=None,
            last_answer=answer,
            next_attempt_at=now + policy.first_delay,
        )


_TABLE = Delivery.__table__
_GUARDED: dict[tuple[bool, tuple[str, ...]], Any] = {}


def _ours(session: Session, delivery: Delivery, count_attempt: bool, **values: Any) -> bool:
    """Update the row only while this process's claim holds. One statement per shape, compiled once:
    building an UPDATE per row cost more than running it."""
    shape = (count_attempt, tuple(sorted(values)))
    statement = _GUARDED.get(shape)
    if statement is None:
        assignments: dict[str, Any] = {name: bindparam(f"new_{name}") for name in shape[1]}
        if count_attempt:
            assignments["attempts"] = _TABLE.c.attempts + 1
        statement = _GUARDED[shape] = (
            update(_TABLE)
            .where(
                _TABLE.c.id == bindparam("row"),
                _TABLE.c.claim == bindparam("mine"),
                _TABLE.c.state == DeliveryState.SENDING,
            )
            .values(**assignments)
        )
    params = {"row": delivery.id, "mine": delivery.claim} | {f"new_{name}": v for name, v in values.items()}
    return bool(session.connection().execute(statement, params).rowcount == 1)
