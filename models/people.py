"""Organisations (Bộ, Sở, Phòng, schools: a hierarchy) and people (one per email address)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import UtcDateTime, db, utcnow
from models.columns import enum_column


class OrganisationKind(StrEnum):
    MINISTRY = "bo"
    MINISTRY_UNIT = "don_vi_bo"  # Văn phòng Bộ, Thanh tra, the Cục and Vụ
    PROVINCE = "so"
    DISTRICT = "phong"
    SCHOOL = "truong"
    OTHER = "khac"


class Position(StrEnum):
    DIRECTOR = "giam_doc"
    DEPUTY = "pho_giam_doc"
    CLERK = "van_thu"
    OFFICER = "can_bo"
    TEACHER = "giao_vien"
    OTHER = "khac"


class Organisation(db.Model):  # type: ignore[name-defined]
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[OrganisationKind] = mapped_column(enum_column(OrganisationKind))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    public_email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    parent: Mapped[Organisation | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Organisation]] = relationship(back_populates="parent")
    people: Mapped[list[Person]] = relationship(back_populates="organisation")

    def __repr__(self) -> str:
        return f"<Organisation {self.name!r}>"


class Person(db.Model):  # type: ignore[name-defined]
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # lower-cased, see people.normalise_address
    name: Mapped[str] = mapped_column(String(255), default="")
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    position: Mapped[Position | None] = mapped_column(enum_column(Position))
    locale: Mapped[str] = mapped_column(String(8), default="vi")
    bounce_score: Mapped[int] = mapped_column(default=0, server_default="0")  # permanent bounces not forgiven
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    organisation: Mapped[Organisation | None] = relationship(back_populates="people")

    def __repr__(self) -> str:
        return f"<Person {self.email}>"
