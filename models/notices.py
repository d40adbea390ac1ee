"""Notices: what the ministry's units publish to groups, and the answers the ones that ask for one get."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import UtcDateTime, db, utcnow
from models.columns import enum_column
from models.groups import Group
from models.people import Organisation, Person
from models.posts import Post, Thread


class NoticeKind(StrEnum):
    NOTICE = "thong_bao"  # thông báo
    OFFICIAL_LETTER = "cong_van"  # công văn
    INVITATION = "giay_moi"  # giấy mời (họp): a meeting, with a calendar file
    SUMMONS = "giay_trieu_tap"  # giấy triệu tập: attendance required
    REPLY_REQUESTED = "yeu_cau_phuc_dap"  # yêu cầu phúc đáp
    REPORT_REQUESTED = "yeu_cau_bao_cao"  # yêu cầu báo cáo
    DRAFT_FOR_COMMENT = "du_thao"  # dự thảo lấy ý kiến

    @property
    def label_vi(self) -> str:
        return LABELS_VI[self]

    @property
    def asks_for_answer(self) -> bool:
        return self in (NoticeKind.REPLY_REQUESTED, NoticeKind.REPORT_REQUESTED, NoticeKind.DRAFT_FOR_COMMENT)

    @property
    def is_meeting(self) -> bool:
        return self in (NoticeKind.INVITATION, NoticeKind.SUMMONS)


LABELS_VI = {
    NoticeKind.NOTICE: "Thông báo",
    NoticeKind.OFFICIAL_LETTER: "Công văn",
    NoticeKind.INVITATION: "Giấy mời",
    NoticeKind.SUMMONS: "Giấy triệu tập",
    NoticeKind.REPLY_REQUESTED: "Yêu cầu phúc đáp",
    NoticeKind.REPORT_REQUESTED: "Yêu cầu báo cáo",
    NoticeKind.DRAFT_FOR_COMMENT: "Dự thảo lấy ý kiến",
}


class Notice(db.Model):  # type: ignore[name-defined]
    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id"), unique=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("thread.id"), index=True)
    kind: Mapped[NoticeKind] = mapped_column(enum_column(NoticeKind, length=24))
    title: Mapped[str] = mapped_column(Text)
    publisher_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    answer_required: Mapped[bool] = mapped_column(Boolean, default=False)
    deadline: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    meeting_start: Mapped[datetime | None] = mapped_column(UtcDateTime)
    meeting_end: Mapped[datetime | None] = mapped_column(UtcDateTime)
    meeting_place: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    post: Mapped[Post] = relationship()
    thread: Mapped[Thread] = relationship()
    publisher: Mapped[Person | None] = relationship()
    unit: Mapped[Organisation | None] = relationship()
    groups: Mapped[list[Group]] = relationship(secondary="notice_group")

    @property
    def goes_at_once(self) -> bool:
        """Mailed at once even to members who chose the daily digest: it asks for something by a date."""
        return self.answer_required or self.deadline is not None or self.kind.is_meeting


class NoticeGroup(db.Model):  # type: ignore[name-defined]
    __tablename__ = "notice_group"

    notice_id: Mapped[int] = mapped_column(ForeignKey("notice.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("group.id"), primary_key=True, index=True)


class Answer(db.Model):  # type: ignore[name-defined]
    """A member's answer to a notice that asks for one; it also answers for their organisation."""

    __table_args__ = (UniqueConstraint("notice_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notice.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("post.id"))
    answered_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    late: Mapped[bool] = mapped_column(Boolean, default=False)

    person: Mapped[Person] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
