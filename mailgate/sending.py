"""Draining the email outbox: claim a batch, commit the claim, send each row, record each answer."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, scoped_session

from mailgate.letters import envelope_sender
from mailgate.settings import MailSettings
from mailgate.shells import Shells
from mailgate.signing import sign
from mailgate.transport import ConnectionLost, Letter, PermanentFailure, TemporaryFailure, Transport
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
    return outbox.RetryPolicy(
        max_age=settings.max_age, lease=settings.lease, first_delay=settings.first_retry
    )


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
    rows = {delivery.id: delivery for delivery in batch}  # the rows without an outcome yet
    outcomes, counts, bounced = outbox.Settlement(), SendCounts(), []
    broken: list[tuple[Delivery, str]] = []
    gone = ""  # why the server could not be reached, if it could not
    try:
        for key, outcome in transport.send_many(_letters(batch, lease, shells, settings, broken)):
            delivery = rows.pop(key)
            if isinstance(outcome, ConnectionLost):  # in flight: given back with the rest, uncounted
                rows[key], gone = delivery, str(outcome)
            elif isinstance(outcome, TemporaryFailure):
                outcomes.failed(delivery, str(outcome), clock(), policy, permanent=False)
                counts.deferred += 1
            elif isinstance(outcome, PermanentFailure):
                outcomes.failed(delivery, str(outcome), clock(), policy, permanent=True)
                counts.failed += 1
                bounced.append((delivery, str(outcome)))
            else:
                outcomes.sent(delivery, outcome, clock())
                counts.sent += 1
    except Exception as error:  # what was sent is recorded all the same; the rest waits
        log.exception("sending stopped mid-batch")
        transport.close()
        gone = f"lỗi khi gửi: {error!r}"[:2000]
    for delivery, answer in broken:
        rows.pop(delivery.id, None)
        outcomes.failed(delivery, answer, clock(), policy, permanent=True)
        counts.failed += 1
    unsent = [delivery for delivery in rows.values() if delivery.id in lease.held]
    outcomes.released(unsent, gone or "chưa gửi (not sent)", clock(), policy)
    counts.deferred += len(unsent)
    outbox.settle(session, outcomes)
    _record_bounces(session, settings, bounced, clock())
    session.commit()
    return counts


def _letters(
    batch: list[Delivery],
    lease: _Lease,
    shells: Shells,
    settings: MailSettings,
    broken: list[tuple[Delivery, str]],
) -> Iterator[Letter]:
    """The batch's rows as mail, rendered as the transport asks for them, while the claim is ours."""
    for delivery in batch:
        if delivery.id not in lease.ours():
            continue
        try:
            data = shells.data(delivery)
        except Exception as error:  # a row we cannot render must not stop the rows behind it
            log.exception("delivery #%s failed", delivery.id)
            broken.append((delivery, f"lỗi khi soạn thư: {error!r}"[:2000]))
            continue
        if settings.dkim is not None:
            data = sign(data, settings.dkim)
        yield Letter(delivery.id, envelope_sender(delivery, settings.site), delivery.recipient, data)


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
