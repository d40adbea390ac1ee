"""Figures about the running system, read from the database so that they are right whichever process
(web worker, mailgate, bot, worker, on whichever machine) did the work: for /health and /metrics."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.mail import Delivery, DeliveryState, InboundMessage, InboundState
from models.operations import JobLock
from models.services.heartbeats import last_beats

LAG_WINDOW = timedelta(hours=1)
LAG_SAMPLE = 2000  # the latest messages processed within the window


@dataclass(frozen=True)
class Figures:
    deliveries: dict[tuple[str, str], int]  # (channel, state) → rows
    oldest_due: dict[str, float]  # channel → seconds the oldest due delivery has waited past its time
    inbound: dict[str, int]  # "new", or the outcome of handled mail → messages
    inbound_oldest_new: float  # seconds the oldest unprocessed message has waited
    ingest_lag: dict[str, float]  # "p50", "p95", "max": stored → processed, over the last hour
    heartbeats: dict[str, float]  # "mail.fetch", "mail.send" → seconds since it last succeeded
    jobs: list[JobLock] = field(default_factory=list)


def gather(session: Session, now: datetime) -> Figures:
    return Figures(
        deliveries=delivery_counts(session),
        oldest_due=oldest_due(session, now),
        inbound=inbound_counts(session),
        inbound_oldest_new=_age(now, _oldest_new(session)),
        ingest_lag=ingest_lag(session, now),
        heartbeats={name: _age(now, at) for name, at in last_beats(session).items()},
        jobs=list(session.scalars(select(JobLock).order_by(JobLock.name))),
    )


def delivery_counts(session: Session) -> dict[tuple[str, str], int]:
    rows = session.execute(
        select(Delivery.channel, Delivery.state, func.count(Delivery.id)).group_by(
            Delivery.channel, Delivery.state
        )
    )
    return {(channel, str(state)): count for channel, state, count in rows}


def oldest_due(session: Session, now: datetime) -> dict[str, float]:
    rows = session.execute(
        select(Delivery.channel, func.min(Delivery.next_attempt_at))
        .where(Delivery.state == DeliveryState.PENDING)
        .group_by(Delivery.channel)
    )
    return {channel: _age(now, at) for channel, at in rows}


def inbound_counts(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(InboundMessage.state, InboundMessage.outcome, func.count(InboundMessage.id)).group_by(
            InboundMessage.state, InboundMessage.outcome
        )
    )
    counts: dict[str, int] = {}
    for state, outcome, count in rows:
        key = "new" if state == InboundState.NEW else str(outcome)
        counts[key] = counts.get(key, 0) + count
    return counts


def ingest_lag(session: Session, now: datetime) -> dict[str, float]:
    """How long mail waited between being stored and being processed, lately (the IMAP side's own
    delay shows in the fetch heartbeat; the MTA's in its own logs)."""
    rows = session.execute(
        select(InboundMessage.received_at, InboundMessage.processed_at)
        .where(InboundMessage.processed_at >= now - LAG_WINDOW)
        .order_by(InboundMessage.id.desc())
        .limit(LAG_SAMPLE)
    ).all()
    lags = sorted(max((done - stored).total_seconds(), 0.0) for stored, done in rows if done and stored)
    if not lags:
        return {}
    return {"p50": lags[len(lags) // 2], "p95": lags[int(len(lags) * 0.95)], "max": lags[-1]}


def _oldest_new(session: Session) -> datetime | None:
    return session.scalar(
        select(func.min(InboundMessage.received_at)).where(InboundMessage.state == InboundState.NEW)
    )


def _age(now: datetime, at: datetime | None) -> float:
    return max((now - at).total_seconds(), 0.0) if at else 0.0
