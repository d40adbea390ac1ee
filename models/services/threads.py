"""Where a post belongs: its parent and thread, found by reply key, In-Reply-To and References, and
the subject within the group as a last resort; replies that came before their parent are re-attached.

The rules are written once, against a small index protocol: the live gateway asks the database,
the archive importer an index it keeps in memory.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from models.posts import Post, PostState, Thread

SUBJECT_WINDOW = timedelta(days=60)  # a subject-only match looks this far back
_REPLY_WORD = r"(?:re|aw|sv|fw|fwd|tl|tr|rv|trả lời|chuyển tiếp|phản hồi)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*"
_TAG = r"\[[^\]]{1,60}\]\s*"
_PREFIX = re.compile(rf"^\s*(?:{_REPLY_WORD}|{_TAG})+", re.IGNORECASE)
_REPLY = re.compile(rf"^\s*(?:{_TAG})*{_REPLY_WORD}", re.IGNORECASE)


def subject_key(subject: str) -> str:
    """The subject without Re:/Fwd:/TL:/Trả lời: prefixes or [list] tags, case-folded, for matching."""
    text = unicodedata.normalize("NFC", subject)
    return " ".join(_PREFIX.sub("", text).split()).casefold()[:255]


def has_reply_prefix(subject: str) -> bool:
    return _REPLY.match(unicodedata.normalize("NFC", subject)) is not None


@dataclass(frozen=True)
class Refs:
    """What a message says about its place: its own id, its ancestors nearest first, its subject."""

    message_id: str
    ancestors: tuple[str, ...]
    subject_key: str
    is_reply: bool

    @property
    def parent_message_id(self) -> str | None:
        return self.ancestors[0] if self.ancestors else None


def refs_for(message_id: str, in_reply_to: str | None, references: Sequence[str], subject: str) -> Refs:
    ancestors = [in_reply_to] if in_reply_to else []
    ancestors += [ref for ref in reversed(references) if ref != in_reply_to]
    ancestors = [a for a in dict.fromkeys(ancestors) if a != message_id]
    is_reply = bool(ancestors) or has_reply_prefix(subject)
    return Refs(message_id, tuple(ancestors), subject_key(subject), is_reply)


@dataclass(frozen=True)
class Spot:
    post_id: int
    thread_id: int


@dataclass(frozen=True)
class Placement:
    parent: Spot | None
    thread_id: int | None  # None: a new thread
    how: str  # "reply key", "in-reply-to", "references", "subject", "new"


class ThreadIndex(Protocol):
    def find(self, message_id: str) -> Spot | None: ...

    def by_subject(self, key: str) -> Spot | None:
        """The first post of the latest recent thread with this subject."""


def place(refs: Refs, index: ThreadIndex, reply_parent: Spot | None = None) -> Placement:
    if reply_parent is not None:
        return Placement(reply_parent, reply_parent.thread_id, "reply key")
    for position, ancestor in enumerate(refs.ancestors):
        spot = index.find(ancestor)
        if spot is not None:
            return Placement(spot, spot.thread_id, "in-reply-to" if position == 0 else "references")
    if refs.is_reply and refs.subject_key:
        first = index.by_subject(refs.subject_key)
        if (
            first is not None
        ):  # a reply whose client kept no headers answers, as far as we know, the first post
            return Placement(first, first.thread_id, "subject")
    return Placement(None, None, "new")


@dataclass
class DatabaseIndex:
    """The index of one group's posts, in the database (the live gateway)."""

    session: Session
    group_id: int
    now: datetime

    def find(self, message_id: str) -> Spot | None:
        row = self.session.execute(
            select(Post.id, Post.thread_id).where(
                Post.group_id == self.group_id, Post.message_id == message_id
            )
        ).first()
        return Spot(row.id, row.thread_id) if row else None

    def by_subject(self, key: str) -> Spot | None:
        thread_id = self.session.scalar(
            select(Thread.id)
            .where(
                Thread.group_id == self.group_id,
                Thread.subject_key == key,
                Thread.last_post_at >= self.now - SUBJECT_WINDOW,
            )
            .order_by(Thread.last_post_at.desc())
            .limit(1)
        )
        if thread_id is None:
            return None
        first = self.session.scalar(select(func.min(Post.id)).where(Post.thread_id == thread_id))
        return Spot(first, thread_id) if first is not None else None


def reattach_orphans(session: Session, post: Post) -> int:
    """Replies that arrived before `post` and named it as their parent join it; a thread such a reply
    started is merged into the post's thread. The number re-attached."""
    orphans = session.scalars(
        select(Post).where(
            Post.group_id == post.group_id, Post.parent_message_id == post.message_id, Post.id != post.id
        )
    ).all()
    for orphan in orphans:
        if orphan.thread_id != post.thread_id and orphan.parent_id is None:
            merge_threads(session, source=orphan.thread_id, into=post.thread_id)
        if orphan.thread_id == post.thread_id or orphan.parent_id is None:
            orphan.parent_id = post.id
            orphan.thread_id = post.thread_id
    return len(orphans)


def merge_threads(session: Session, source: int, into: int) -> None:
    session.execute(
        update(Post)
        .where(Post.thread_id == source)
        .values(thread_id=into)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    refresh_counts(session, into)
    session.execute(delete(Thread).where(Thread.id == source).execution_options(synchronize_session=False))


def refresh_counts(session: Session, thread_id: int) -> None:
    count, last = session.execute(
        select(func.count(Post.id), func.max(Post.created_at)).where(
            Post.thread_id == thread_id, Post.state == PostState.VISIBLE
        )
    ).one()
    values = {"post_count": count} | ({"last_post_at": last} if last is not None else {})
    session.execute(
        update(Thread)
        .where(Thread.id == thread_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
