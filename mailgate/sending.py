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
from mailgate.transport import ConnectionLost, PermanentFailure, TemporaryFailure, Transport
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
    return outbox.RetryPolicy(max_age=settings.max_age, lease=settings.lease)


def send_pending(
    session: Session, settings: MailSettings, transport: Transport, clock: Callable[[], datetime]
) -> SendCounts:
    """Send one batch of due email deliveries; each row's outcome is committed right after its attempt."""
    policy = retry_policy(settings)
    batch = outbox.claim_batch(session, "email", clock(), policy, settings.send_batch)
    session.commit()
    counts = SendCounts()
    for index, delivery in enumerate(batch):
        if not outbox.renew_claim(session, delivery, clock()):
            session.rollback()
            continue
        session.commit()
        try:
            data = render(delivery, session, settings.site).as_bytes(policy=email.policy.SMTP)
            answer = transport.send(envelope_sender(delivery, settings.site), delivery.recipient, data)
        except ConnectionLost as lost:  # this row and the rest wait for the server, uncounted
            outbox.release(session, batch[index:], str(lost), clock(), policy)
            session.commit()
            counts.deferred += len(batch) - index
            break
        except TemporaryFailure as failure:
            counts.deferred += outbox.mark_failed(
                session, delivery, str(failure), clock(), policy, permanent=False
            )
        except PermanentFailure as failure:
            counts.failed += outbox.mark_failed(
                session, delivery, str(failure), clock(), policy, permanent=True
            )
        except Exception as error:  # a row we cannot render or send must not stop the rows behind it
            log.exception("delivery #%s failed", delivery.id)
            answer = f"lỗi khi soạn hoặc gửi thư: {error!r}"[:2000]
            counts.failed += outbox.mark_failed(session, delivery, answer, clock(), policy, permanent=True)
        else:
            counts.sent += outbox.mark_sent(session, delivery, answer, clock())
        session.commit()
    return counts
