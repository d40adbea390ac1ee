"""Draining the email outbox: claim a batch, commit the claim, send each row, record each answer."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, scoped_session

from mailgate.letters import envelope_sender
from mailgate.settings import MailSettings
from mailgate.shells import Shells
from mailgate.transport import ConnectionLost, PermanentFailure, TemporaryFailure, Transport
from models.mail import Delivery
from models.services import outbox
from models.services.bounces import record_bounce

log = logging.getLogger(__name__)


@dataclass
class SendCounts:
    sent: int = 0
    deferred: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.deferred + self.failed


def retry_policy(settings: MailSettings) -> outbox.RetryPolicy:
    return outbox.RetryPolicy(max_age=settings.max_age, lease=settings.lease)


def send_pending(
    session: Session, settings: MailSettings, transport: Transport, clock: Callable[[], datetime]
) -> SendCounts:
    """Send one batch of due email deliveries; the batch's outcomes are committed together at its end.

    The claim is committed before anything is sent, so a crash sends again at most the batch in flight
    (once its lease runs out) and never skips a row. Outcomes are written by guarded UPDATE statements,
    never through the loaded rows, so the rows need not be expired and reloaded at the commit.
    """
    actual = session() if isinstance(session, scoped_session) else session
    previous, actual.expire_on_commit = actual.expire_on_commit, False
    try:
        return _send_batch(session, settings, transport, clock)
    finally:
        actual.expire_on_commit = previous


def _send_batch(
    session: Session, settings: MailSettings, transport: Transport, clock: Callable[[], datetime]
) -> SendCounts:
    policy = retry_policy(settings)
    batch = outbox.claim_batch(session, "email", clock(), policy, settings.send_batch)
    session.commit()
    if not batch:
        return SendCounts()
    shells = Shells(session, settings.site)
    shells.prepare(batch)
    lease = _Lease(session, batch, clock, policy.lease / 3)
    outcomes = outbox.Settlement()
    counts, bounced = SendCounts(), []
    for index, delivery in enumerate(batch):
        if delivery.id not in lease.ours():
            continue
        try:
            data = shells.data(delivery)
            answer = transport.send(envelope_sender(delivery, settings.site), delivery.recipient, data)
        except ConnectionLost as lost:  # this row and the rest wait for the server, uncounted
            outcomes.released(batch[index:], str(lost), clock(), policy)
            counts.deferred += len(batch) - index
            break
        except TemporaryFailure as failure:
            outcomes.failed(delivery, str(failure), clock(), policy, permanent=False)
            counts.deferred += 1
        except PermanentFailure as failure:
            outcomes.failed(delivery, str(failure), clock(), policy, permanent=True)
            counts.failed += 1
            bounced.append((delivery, str(failure)))
        except Exception as error:  # a row we cannot render or send must not stop the rows behind it
            log.exception("delivery #%s failed", delivery.id)
            answer = f"lỗi khi soạn hoặc gửi thư: {error!r}"[:2000]
            outcomes.failed(delivery, answer, clock(), policy, permanent=True)
            counts.failed += 1
        else:
            outcomes.sent(delivery, answer, clock())
            counts.sent += 1
    outbox.settle(session, outcomes)
    _record_bounces(session, settings, bounced, clock())
    session.commit()
    return counts


def _record_bounces(
    session: Session, settings: MailSettings, bounced: list[tuple[Delivery, str]], now: datetime
) -> None:
    """A permanent SMTP refusal counts like a bounce report against the member."""
    for delivery, answer in bounced:
        if delivery.person is not None:
            record_bounce(
                session,
                delivery.person,
                delivery,
                permanent=True,
                source="smtp",
                detail=answer,
                domain=settings.site.domain,
                now=now,
            )


class _Lease:
    """Keeps a batch's claim alive while it is delivered: renewed (one UPDATE) a few times per lease,
    so a slow batch is never taken over mid-way and nothing is sent twice."""

    def __init__(
        self, session: Session, batch: list[Delivery], clock: Callable[[], datetime], every: timedelta
    ) -> None:
        self.session, self.claim, self.clock, self.every = session, batch[0].claim or "", clock, every
        self.renewed = clock()
        self.held = {delivery.id for delivery in batch}  # just claimed and committed

    def ours(self) -> set[int]:
        now = self.clock()
        if now - self.renewed >= self.every:
            self.held = outbox.renew_claims(self.session, self.claim, now)
            self.session.commit()
            self.renewed = now
        return self.held
