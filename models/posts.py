"""The forum's content: threads of posts, each post from an email reply, a notice or the web."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import UtcDateTime, db, utcnow
from models.columns import enum_column
from models.groups import Group
from models.people import Person


class PostState(StrEnum):
    VISIBLE = "visible"
    HELD = "held"  # waits for a moderator (the group's policy, or a sender who is not a member)
    REJECTED = "rejected"


class Thread(db.Model):  # type: ignore[name-defined]
    __table_args__ = (
        Index("ix_thread_group_id_last_post_at", "group_id", "last_post_at"),
        Index("ix_thread_group_id_subject_key", "group_id", "subject_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("group.id"))
    subject: Mapped[str] = mapped_column(Text, default="")
    subject_key: Mapped[str] = mapped_column(String(255), default="")  # see threads.subject_key
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_post_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    post_count: Mapped[int] = mapped_column(default=0)

    group: Mapped[Group] = relationship()


class Post(db.Model):  # type: ignore[name-defined]
    __table_args__ = (
        UniqueConstraint("group_id", "message_id"),
        Index("ix_post_thread_id_created_at", "thread_id", "created_at"),
        Index("ix_post_group_id_parent_message_id", "group_id", "parent_message_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("group.id"))
    thread_id: Mapped[int] = mapped_column(ForeignKey("thread.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("post.id"), index=True)
    # The Message-ID this post answers (In-Reply-To, else the last of References): a reply that arrives
    # before its parent is re-attached when the parent comes.
    parent_message_id: Mapped[str | None] = mapped_column(String(998))
    message_id: Mapped[str] = mapped_column(String(998))
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_message.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    author_name: Mapped[str] = mapped_column(String(255), default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")  # what the person wrote
    quoted: Mapped[str] = mapped_column(Text, default="")  # what was trimmed, shown collapsed
    html: Mapped[str | None] = mapped_column(Text)  # sanitised once, when stored
    search_text: Mapped[str] = mapped_column(Text, default="")  # subject and text folded (services.search)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # the Date header
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    state: Mapped[PostState] = mapped_column(enum_column(PostState), default=PostState.VISIBLE)
    state_reason: Mapped[str | None] = mapped_column(Text)

    thread: Mapped[Thread] = relationship()
    author: Mapped[Person | None] = relationship()
    attachments: Mapped[list[PostAttachment]] = relationship(
        back_populates="post", cascade="all, delete-orphan"
    )


class PostAttachment(db.Model):  # type: ignore[name-defined]
    __tablename__ = "post_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int]
    content_id: Mapped[str | None] = mapped_column(String(255))
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)

    post: Mapped[Post] = relationship(back_populates="attachments")
