"""One-time tokens: only a hash is stored; each has a purpose, an expiry and a time of use."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import UtcDateTime, db, utcnow
from models.columns import enum_column
from models.groups import Membership
from models.people import Person


class TokenPurpose(StrEnum):
    CONFIRM_MEMBERSHIP = "confirm"
    CONFIRM_LEAVE = "leave"
    SIGN_IN = "sign_in"
    LINK_CHAT = "link_chat"


class Token(db.Model):  # type: ignore[name-defined]
    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[TokenPurpose] = mapped_column(enum_column(TokenPurpose))
    digest: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the token
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    membership_id: Mapped[int | None] = mapped_column(ForeignKey("membership.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    person: Mapped[Person | None] = relationship()
    membership: Mapped[Membership | None] = relationship()
