"""Chats linked to people (Telegram, Zalo Official Account), and the chat platforms' rotating credentials."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import UtcDateTime, db, utcnow
from models.columns import enum_column
from models.people import Person


class ChatPlatform(StrEnum):
    """Also the outbox channel of the notices sent to chats of that platform."""

    TELEGRAM = "telegram"
    ZALO = "zalo"


class ChatLink(db.Model):  # type: ignore[name-defined]
    """One chat that a person proved is theirs with a one-time link; notices reach it while active."""

    __tablename__ = "chat_link"
    __table_args__ = (
        UniqueConstraint("platform", "chat_id"),
        Index("ix_chat_link_person_id_active", "person_id", "active"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    platform: Mapped[ChatPlatform] = mapped_column(enum_column(ChatPlatform))
    chat_id: Mapped[str] = mapped_column(String(64))  # Telegram's chat id, Zalo's user id (as text)
    name: Mapped[str] = mapped_column(String(255), default="")  # the chat's display name, for the person
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    linked_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Set when the platform says the person blocked the bot or unfollowed the account; cleared on relinking.
    blocked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    blocked_reason: Mapped[str | None] = mapped_column(Text)

    person: Mapped[Person] = relationship()

    def __repr__(self) -> str:
        return f"<ChatLink {self.platform}:{self.chat_id} person={self.person_id}>"


class ChatCredential(db.Model):  # type: ignore[name-defined]
    """A platform's current access and refresh tokens. Zalo's refresh token works once: the new pair is
    stored the moment it is received, so a restart or another bot process carries on with it."""

    __tablename__ = "chat_credential"

    platform: Mapped[ChatPlatform] = mapped_column(enum_column(ChatPlatform), primary_key=True)
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
