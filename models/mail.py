"""Mail in and out: raw inbound messages as received, and the outbox of deliveries."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import UtcDateTime, db, utcnow
from models.columns import enum_column
from models.people import Person


class InboundState(StrEnum):
    NEW = "new"  # stored, not yet through the pipeline
    DONE = "done"  # the pipeline reached an outcome


class Outcome(StrEnum):
    PROCESSED = "processed"
    HELD = "held"  # waits for a moderator or for a later part of the pipeline
    IGNORED = "ignored"  # deliberately not acted on (auto-replies, loops, duplicates)
    REJECTED = "rejected"  # refused, and the sender told why (at most once a day per reason)
    QUARANTINED = "quarantined"  # malformed or failed: kept for admins with the reason


class InboundMessage(db.Model):  # type: ignore[name-defined]
    """A message exactly as received, stored before anything else is done with it."""

    __tablename__ = "inbound_message"
    __table_args__ = (
        UniqueConstraint("mailbox", "uidvalidity", "uid"),
        Index("ix_inbound_message_state_id", "state", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    raw: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    mailbox: Mapped[str] = mapped_column(String(255))  # "imap:INBOX", or "local" for injected mail
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    uid: Mapped[int | None] = mapped_column(BigInteger)
    message_id: Mapped[str | None] = mapped_column(String(998), index=True)
    sender: Mapped[str | None] = mapped_column(String(320))
    recipient: Mapped[str | None] = mapped_column(String(320))  # the envelope recipient it was routed by
    subject: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    state: Mapped[InboundState] = mapped_column(enum_column(InboundState), default=InboundState.NEW)
    outcome: Mapped[Outcome | None] = mapped_column(enum_column(Outcome))
    step: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Tries that ended in a passing database error (lock, deadlock, a race on a unique key): retried,
    # and quarantined only after several.
    attempts: Mapped[int] = mapped_column(default=0)


class DeliveryState(StrEnum):
    PENDING = "pending"  # waiting to be sent (first time, or again after a temporary failure)
    SENDING = "sending"  # claimed by a sender; reclaimed if its lease runs out
    SENT = "sent"
    FAILED = "failed"  # permanently refused, or out of attempts


_CLAIMED = text("claim IS NOT NULL")


class Delivery(db.Model):  # type: ignore[name-defined]
    """One message to one recipient through one channel: the outbox row and the delivery record."""

    __table_args__ = (
        UniqueConstraint("message_key", "recipient", "channel"),
        # The senders' claims (models.services.outbox.claim_batch): one channel's due rows in order, going
        # on from where the last claim ended, never passing over another channel's rows.
        Index("ix_delivery_state_channel_next_attempt_at_id", "state", "channel", "next_attempt_at", "id"),
        Index("ix_delivery_recipient_template_created_at", "recipient", "template", "created_at"),
        # Only the rows claimed and not yet settled: a sender renewing or reading back its claim.
        Index("ix_delivery_claim", "claim", sqlite_where=_CLAIMED, postgresql_where=_CLAIMED),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_key: Mapped[str] = mapped_column(String(255))  # what is delivered: "confirm:<membership>:<n>", …
    recipient: Mapped[str] = mapped_column(String(320))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16), default="email")
    template: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # A one-time token the message carries; only until the row is settled, so no readable token outlives it.
    secret: Mapped[str | None] = mapped_column(String(128))
    # Stable across retries; a post's copies all carry the post's own Message-ID, so clients thread them.
    message_id: Mapped[str] = mapped_column(String(998))  # shared by the copies of a post: never looked up
    in_reply_to: Mapped[str | None] = mapped_column(String(998))
    state: Mapped[DeliveryState] = mapped_column(enum_column(DeliveryState), default=DeliveryState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    claim: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_answer: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    person: Mapped[Person | None] = relationship()
