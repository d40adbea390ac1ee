"""Groups by audience and the memberships of people in them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import UtcDateTime, db, utcnow
from models.columns import enum_column
from models.people import Organisation, Person


class JoinPolicy(StrEnum):
    CONFIRM = "confirm"  # the address confirms by replying or by the link
    APPROVAL = "approval"  # then a moderator approves


class PostPolicy(StrEnum):
    MEMBERS = "members"  # members start topics and reply
    MODERATED = "moderated"  # members' posts wait for a moderator
    ANNOUNCE = "announce"  # only publishers post; members reply to the publisher's unit


class Group(db.Model):  # type: ignore[name-defined]
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name_vi: Mapped[str] = mapped_column(String(255))
    name_en: Mapped[str] = mapped_column(String(255), default="")
    audience_vi: Mapped[str] = mapped_column(Text, default="")
    # The local part as published (letter 60/CNTT writes "dangky-THPT"); matched case-insensitively.
    registration_local: Mapped[str] = mapped_column(String(64))
    owner_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    join_policy: Mapped[JoinPolicy] = mapped_column(enum_column(JoinPolicy), default=JoinPolicy.CONFIRM)
    post_policy: Mapped[PostPolicy] = mapped_column(enum_column(PostPolicy), default=PostPolicy.ANNOUNCE)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    owner: Mapped[Organisation | None] = relationship()
    memberships: Mapped[list[Membership]] = relationship(back_populates="group")

    def address(self, domain: str) -> str:
        return f"{self.slug}@{domain}"

    def registration_address(self, domain: str) -> str:
        return f"{self.registration_local}@{domain}"

    def leave_address(self, domain: str) -> str:
        return f"huydangky-{self.slug}@{domain}"

    def __repr__(self) -> str:
        return f"<Group {self.slug}>"


class MembershipState(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    LEFT = "left"
    DISABLED = "disabled"


class MembershipSource(StrEnum):
    EMAIL = "email"
    WEB = "web"
    BOT = "bot"
    IMPORT = "import"


class Membership(db.Model):  # type: ignore[name-defined]
    __table_args__ = (UniqueConstraint("person_id", "group_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("group.id"), index=True)
    state: Mapped[MembershipState] = mapped_column(enum_column(MembershipState), index=True)
    source: Mapped[MembershipSource] = mapped_column(enum_column(MembershipSource))
    # Renewed on every (re)join, so an unsubscribe link from an earlier membership stops working.
    unsubscribe_nonce: Mapped[str] = mapped_column(String(32))
    # The daily digest (bản tin tổng hợp hằng ngày) instead of each message; see models.services.digests.
    digest: Mapped[bool] = mapped_column(default=False, server_default=false())
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    person: Mapped[Person] = relationship()
    group: Mapped[Group] = relationship(back_populates="memberships")

    def __repr__(self) -> str:
        return f"<Membership {self.person_id}@{self.group_id} {self.state}>"
