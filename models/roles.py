"""Who may do what: site administrators, a Sở's or Phòng's administrators, and each group's owners,
publishers and moderators. Being a member is a membership, not a role."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import UtcDateTime, db, utcnow
from models.columns import enum_column
from models.groups import Group
from models.people import Organisation, Person


class RoleName(StrEnum):
    ADMIN = "admin"  # the ministry's administrators (Cục CNTT): everything
    ORGANISATION_ADMIN = "org_admin"  # a Sở or Phòng: its own groups and people
    OWNER = "owner"  # a group's owner: its settings and roles
    PUBLISHER = "publisher"  # publishes notices to the group
    MODERATOR = "moderator"  # clears what the group holds


class Role(db.Model):  # type: ignore[name-defined]
    __table_args__ = (UniqueConstraint("person_id", "name", "group_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    name: Mapped[RoleName] = mapped_column(enum_column(RoleName))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("group.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    granted_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    person: Mapped[Person] = relationship()
    group: Mapped[Group | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
