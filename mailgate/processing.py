"""Running stored inbound messages through the pipeline, one transaction per message."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from mailgate import bouncing, posting, registration
from mailgate.pipeline import Context, Step, drop_automatic, drop_repeats, parse_message, route_message, run
from mailgate.replies import answer_rejection
from mailgate.settings import MailSettings
from models.mail import Outcome
from models.services import inbound

log = logging.getLogger(__name__)
PASSING = (IntegrityError, OperationalError)
MAX_TRIES = 5

STEPS: tuple[Step, ...] = (
    parse_message,
    route_message,
    drop_automatic,
    drop_repeats,
    registration.handle,
    bouncing.handle_bounce,
    *posting.STEPS,
)


def process_pending(
    session: Session, settings: MailSettings, clock: Callable[[], datetime], limit: int = 100
) -> int:
    """Process up to `limit` new messages; the number handled."""
    handled = 0
    for message_id in inbound.pending_ids(session, limit):
        session.rollback()  # end the read transaction so each message starts its own
        handled += process_one(session, settings, message_id, clock())
    return handled


def process_one(session: Session, settings: MailSettings, message_id: int, now: datetime) -> int:
    row = inbound.claim(session, message_id)
    if row is None:
        session.rollback()
        return 0
    try:
        ctx = Context(session=session, settings=settings, row=row, now=now)
        verdict = run(ctx, STEPS)
        if verdict.rejection is not None:
            answer_rejection(ctx, verdict.rejection)
        inbound.settle(row, verdict.outcome, verdict.step, verdict.reason, now)
        session.commit()
    except PASSING as error:  # a lock, a deadlock, a race on a unique key: try again, a few times
        session.rollback()
        log.warning("inbound message #%s: %r; will try again", message_id, error)
        _count_try(session, message_id, f"lỗi cơ sở dữ liệu: {error!r}"[:2000], now)
    except Exception as error:  # a bug must not stop the gateway nor lose the message: quarantine it
        session.rollback()
        log.exception("inbound message #%s failed", message_id)
        _quarantine(session, message_id, f"lỗi khi xử lý: {error!r}"[:2000], now)
    return 1


def _count_try(session: Session, message_id: int, reason: str, now: datetime) -> None:
    row = inbound.claim(session, message_id)
    if row is not None:
        row.attempts += 1
        if row.attempts >= MAX_TRIES:
            inbound.settle(row, Outcome.QUARANTINED, "process", reason, now)
    session.commit()


def _quarantine(session: Session, message_id: int, reason: str, now: datetime) -> None:
    row = inbound.claim(session, message_id)
    if row is not None:
        inbound.settle(row, Outcome.QUARANTINED, "process", reason, now)
    session.commit()
