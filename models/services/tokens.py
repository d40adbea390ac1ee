"""Issuing and redeeming one-time tokens. The token itself is returned once and never stored."""

import base64
import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models.errors import TokenExpired, TokenInvalid, TokenUsed
from models.groups import Membership
from models.people import Person
from models.tokens import Token, TokenPurpose


def new_token() -> str:
    """120 random bits in lower-case base32: survives mail systems that lower-case addresses."""
    return base64.b32encode(secrets.token_bytes(15)).decode().lower()


def digest(token: str) -> str:
    return hashlib.sha256(token.strip().lower().encode()).hexdigest()


def issue_token(
    session: Session,
    purpose: TokenPurpose,
    now: datetime,
    ttl: timedelta,
    *,
    person: Person | None = None,
    membership: Membership | None = None,
) -> str:
    token = new_token()
    session.add(
        Token(
            purpose=purpose,
            digest=digest(token),
            person=person,
            membership=membership,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    return token


def redeem_token(session: Session, token: str, now: datetime, *purposes: TokenPurpose) -> Token:
    """Mark the token used and return it; each token works once, before it expires."""
    row = find_token(session, token, *purposes)
    if row.used_at is None and row.expires_at <= now:
        raise TokenExpired(token)
    # Conditional, so a reply and a click at the same moment cannot both redeem it (SQLite has no FOR UPDATE).
    marked = session.execute(
        update(Token)
        .where(Token.id == row.id, Token.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if marked.rowcount != 1:  # type: ignore[attr-defined]
        raise TokenUsed(token)
    session.refresh(row)
    return row


def find_token(session: Session, token: str, *purposes: TokenPurpose) -> Token:
    row = session.scalar(
        select(Token).where(Token.digest == digest(token), Token.purpose.in_(purposes)).with_for_update()
    )
    if row is None:
        raise TokenInvalid(token)
    return row


def purge_tokens(session: Session, now: datetime, keep: timedelta = timedelta(days=30)) -> int:
    """Delete tokens that expired or were used more than `keep` ago; the number deleted."""
    cutoff = now - keep
    stale = session.scalars(select(Token).where((Token.expires_at < cutoff) | (Token.used_at < cutoff))).all()
    for token in stale:
        session.delete(token)
    return len(stale)
