"""Draining the email outbox: claim a batch, commit the claim, send each row, record each answer."""

from __future__ import annotations

import email.policy
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from mailgate.letters import envelope_sender, render
from mailgate.settings import MailSettings
from mailgate.transport import PermanentFailure, TemporaryFailure, Transport
from models.services import outbox

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
    return outbox.RetryPolicy(max_attempts=settings.max_attempts, lease=settings.lease)


def send_pending(
    session: Session, settings: MailSettings, transport: Transport, clock: Callable[[], datetime]
) -> SendCounts:
    """Send one batch of due email deliveries."""
    policy = retry_policy(settings)
    batch = outbox.claim_batch(session, "email", clock(), policy, settings.send_batch)
    session.commit()
    counts = SendCounts()
    for delivery in batch:
        data = render(delivery, session, settings.site).as_bytes(policy=email.policy.SMTP)
        try:
            answer = transport.send(envelope_sender(delivery, settings.site), delivery.recipient, data)
        except TemporaryFailure as failure:
            outbox.mark_failed(delivery, str(failure), clock(), policy, permanent=False)
            counts.deferred += 1
        except PermanentFailure as failure:
            outbox.mark_failed(delivery, str(failure), clock(), policy, permanent=True)
            counts.failed += 1
        else:
            outbox.mark_sent(delivery, answer, clock())
            counts.sent += 1
        session.commit()
    return counts
