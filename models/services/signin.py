"""Signing in without passwords: a one-time link by email, single-use, expiring, rate-limited."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.mail import Delivery
from models.people import Person
from models.services import outbox
from models.services.people import find_person
from models.services.tokens import issue_token, redeem_token
from models.tokens import TokenPurpose

LINK_TTL = timedelta(minutes=30)
PER_ADDRESS = 3  # links per address per 15 minutes
PER_CLIENT = 20  # links asked from one network address per hour


def request_sign_in(session: Session, address: str, *, client: str, domain: str, now: datetime) -> bool:
    """Send a sign-in link to a known address; False when nothing was sent (unknown, or too many)."""
    person = find_person(session, address)
    if person is None or _too_many(session, person.email, client, now):
        return False
    token = issue_token(session, TokenPurpose.SIGN_IN, now, LINK_TTL, person=person)
    outbox.enqueue(
        session,
        key=f"sign_in:{client}:{secrets.token_hex(6)}",
        recipient=person.email,
        person=person,
        template="sign_in",
        domain=domain,
        now=now,
        params={"expires_at": (now + LINK_TTL).isoformat()},
        secret=token,
    )
    return True


def _too_many(session: Session, address: str, client: str, now: datetime) -> bool:
    if outbox.count_recent(session, address, "sign_in", now - timedelta(minutes=15)) >= PER_ADDRESS:
        return True
    from_client = session.scalar(
        select(func.count(Delivery.id)).where(
            Delivery.message_key.like(f"sign_in:{client}:%"), Delivery.created_at >= now - timedelta(hours=1)
        )
    )
    return (from_client or 0) >= PER_CLIENT


def sign_in(session: Session, token: str, now: datetime) -> Person:
    """Redeem the link's token; the person it was sent to."""
    row = redeem_token(session, token, now, TokenPurpose.SIGN_IN)
    assert row.person is not None
    return row.person
