"""Draft consultations (lấy ý kiến dự thảo): a draft's versions and provisions, the comments tied to them,
and the drafting unit's decision on each comment."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import UtcDateTime, db, utcnow
from models.columns import enum_column
from models.notices import Notice
from models.people import Organisation, Person
from models.posts import Post, PostAttachment


class PeriodState(StrEnum):
    SCHEDULED = "scheduled"  # published, comments not yet asked for
    OPEN = "open"
    CLOSED = "closed"  # later comments are kept, marked late


class ProvisionKind(StrEnum):
    PART = "phan"  # Phần
    CHAPTER = "chuong"  # Chương
    SECTION = "muc"  # Mục
    SUBSECTION = "tieu_muc"  # Tiểu mục
    ARTICLE = "dieu"  # Điều
    CLAUSE = "khoan"  # Khoản
    POINT = "diem"  # Điểm


class CommentState(StrEnum):
    ANCHORED = "anchored"  # tied to a provision, surely enough
    GENERAL = "general"  # about the draft as a whole
    REVIEW = "review"  # the drafting unit confirms where it belongs


class Verdict(StrEnum):
    ACCEPTED = "tiep_thu"  # tiếp thu
    EXPLAINED = "giai_trinh"  # giải trình
    NOT_ACCEPTED = "khong_tiep_thu"  # không tiếp thu

    @property
    def label_vi(self) -> str:
        return {"tiep_thu": "Tiếp thu", "giai_trinh": "Giải trình", "khong_tiep_thu": "Không tiếp thu"}[self]


class Consultation(db.Model):  # type: ignore[name-defined]
    """The comment period of a "dự thảo lấy ý kiến" notice."""

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notice.id", ondelete="CASCADE"), unique=True)
    document_type: Mapped[str] = mapped_column(String(40), default="khac")
    opens_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closes_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    state: Mapped[PeriodState] = mapped_column(enum_column(PeriodState), default=PeriodState.SCHEDULED)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    notice: Mapped[Notice] = relationship()
    versions: Mapped[list[DraftVersion]] = relationship(
        order_by="DraftVersion.number", back_populates="consultation"
    )


class DraftVersion(db.Model):  # type: ignore[name-defined]
    __tablename__ = "draft_version"
    __table_args__ = (UniqueConstraint("consultation_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"))
    number: Mapped[int]
    filename: Mapped[str] = mapped_column(String(255))
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("post_attachment.id"))
    preamble: Mapped[str] = mapped_column(Text, default="")  # the title and the "Căn cứ …" lines
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    consultation: Mapped[Consultation] = relationship(back_populates="versions")
    attachment: Mapped[PostAttachment | None] = relationship()
    provisions: Mapped[list[Provision]] = relationship(
        order_by="Provision.position", back_populates="version", cascade="all, delete-orphan"
    )


class Provision(db.Model):  # type: ignore[name-defined]
    """One Phần, Chương, Mục, Tiểu mục, Điều, Khoản or Điểm of a version, in the draft's order."""

    __table_args__ = (
        UniqueConstraint("version_id", "anchor"),
        Index("ix_provision_version_id_position", "version_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("draft_version.id", ondelete="CASCADE"))
    kind: Mapped[ProvisionKind] = mapped_column(enum_column(ProvisionKind))
    number: Mapped[str] = mapped_column(String(40))  # "5a", "2", "đ", "II"
    label: Mapped[str] = mapped_column(String(80))  # as the draft shows it: "Điều 5a", "2.", "đ)"
    citation: Mapped[str] = mapped_column(String(200))  # canonical, smallest first: "điểm a khoản 2 Điều 5"
    anchor: Mapped[str] = mapped_column(String(200))  # stable on the page: "dieu-5-khoan-2-diem-a"
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("provision.id"))
    position: Mapped[int]
    heading: Mapped[str] = mapped_column(Text, default="")  # a chapter's or article's title
    text: Mapped[str] = mapped_column(Text, default="")  # its own words, without its children's
    # The same provision in the version before, matched by its words (so renumbering keeps comments).
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("provision.id"))

    version: Mapped[DraftVersion] = relationship(back_populates="provisions")


class DraftComment(db.Model):  # type: ignore[name-defined]
    """One comment of a post on a draft: on one provision, or general (no provision)."""

    __tablename__ = "draft_comment"
    __table_args__ = (Index("ix_draft_comment_consultation_id_state", "consultation_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"))
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)  # its place among the post's comments
    provision_id: Mapped[int | None] = mapped_column(ForeignKey("provision.id"), index=True)
    cited: Mapped[str] = mapped_column(String(200), default="")  # the citation as read, when one was
    text: Mapped[str] = mapped_column(Text)
    confidence: Mapped[float] = mapped_column(Float, default=1.0)
    state: Mapped[CommentState] = mapped_column(enum_column(CommentState))
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    consultation: Mapped[Consultation] = relationship()
    post: Mapped[Post] = relationship()
    provision: Mapped[Provision | None] = relationship()
    person: Mapped[Person | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    decision: Mapped[Decision | None] = relationship(back_populates="comment", uselist=False)


class Decision(db.Model):  # type: ignore[name-defined]
    """The drafting unit's answer to one comment: tiếp thu, giải trình or không tiếp thu, and why."""

    __tablename__ = "draft_decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("draft_comment.id", ondelete="CASCADE"), unique=True)
    verdict: Mapped[Verdict] = mapped_column(enum_column(Verdict))
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    comment: Mapped[DraftComment] = relationship(back_populates="decision")
    decided_by: Mapped[Person | None] = relationship()
