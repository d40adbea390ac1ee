"""Storing inbound mail before anything else, and recording what became of it."""

from __future__ import annotations

import email.parser
import email.policy
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models.mail import InboundMessage, InboundState, Outcome

_HEADERS_ONLY = email.parser.BytesHeaderParser(policy=email.policy.compat32)


def store_raw(
    session: Session,
    raw: bytes,
    *,
    mailbox: str,
    uidvalidity: int | None = None,
    uid: int | None = None,
    now: datetime,
) -> tuple[InboundMessage, bool]:
    """Store the bytes as received; (row, False) when this mailbox copy is already stored."""
    if uid is not None:
        existing = session.scalar(
            select(InboundMessage).where(
                InboundMessage.mailbox == mailbox,
                InboundMessage.uidvalidity == uidvalidity,
                InboundMessage.uid == uid,
            )
        )
        if existing is not None:
            return existing, False
    row = InboundMessage(
        raw=raw,
        mailbox=mailbox,
        uidvalidity=uidvalidity,
        uid=uid,
        message_id=_message_id(raw),
        received_at=now,
    )
    session.add(row)
    session.flush()
    return row, True


def _message_id(raw: bytes) -> str | None:
    """The Message-ID as written, for recognising copies; never fails on broken headers."""
    try:
        value = _HEADERS_ONLY.parsebytes(raw).get("Message-ID")
    except Exception:  # noqa: BLE001 - a header we cannot read is a header we do not have
        return None
    if value is None:
        return None
    text = str(value).strip()
    return text[:998] or None


def pending_ids(session: Session, limit: int = 100) -> list[int]:
    return list(
        session.scalars(
            select(InboundMessage.id)
            .where(InboundMessage.state == InboundState.NEW)
            .order_by(InboundMessage.id)
            .limit(limit)
        )
    )


def claim(session: Session, message_id: int) -> InboundMessage | None:
    """Lock one new message for this transaction; None when another process has it or it is done.

    PostgreSQL skips a row another process holds; SQLite has no row locks, so the no-op UPDATE takes
    the database's write lock and re-reads the state under it.
    """
    held_elsewhere = session.scalar(
        select(InboundMessage.id)
        .where(InboundMessage.id == message_id, InboundMessage.state == InboundState.NEW)
        .with_for_update(skip_locked=True)
    )
    if held_elsewhere is None:
        return None
    locked = session.execute(
        update(InboundMessage)
        .where(InboundMessage.id == message_id, InboundMessage.state == InboundState.NEW)
        .values(state=InboundState.NEW)
        .execution_options(synchronize_session=False)
    )
    if locked.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return session.get(InboundMessage, message_id)


def settle(row: InboundMessage, outcome: Outcome, step: str, reason: str | None, now: datetime) -> None:
    row.state = InboundState.DONE
    row.outcome = outcome
    row.step = step
    row.reason = reason
    row.processed_at = now
