"""Replying on the web: the post joins the thread and goes out by email like a reply by email."""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.groups import Group, PostPolicy
from models.people import Person
from models.posts import Post, Thread
from models.services import outbox
from models.services.consultations import answer_if_late
from models.services.fanout import deliver_post
from models.services.posts import NewPost, decide_state, record_post
from models.services.roles import is_member
from models.services.threads import Placement, Refs, Spot, subject_key

MAX_LENGTH = 50_000
PER_TEN_MINUTES = 10


class WebReplyRefused(Exception):
    """Why the reply was not taken, in words for the person."""


def reply_on_web(
    session: Session,
    thread: Thread,
    parent: Post | None,
    person: Person,
    text: str,
    *,
    domain: str,
    now: datetime,
) -> Post:
    group = session.get(Group, thread.group_id)
    assert group is not None
    body = unicodedata.normalize("NFC", text.replace("\r\n", "\n")).strip()
    if not body:
        raise WebReplyRefused("Nội dung trả lời đang trống.")
    if len(body) > MAX_LENGTH:
        raise WebReplyRefused(f"Nội dung dài quá {MAX_LENGTH} ký tự.")
    if not is_member(session, person, group):
        raise WebReplyRefused(
            f"Cần là thành viên nhóm {group.name_vi} để trả lời. Hãy đăng ký tham gia nhóm trước."
        )
    if _recent_posts(session, person, now) >= PER_TEN_MINUTES:
        raise WebReplyRefused("Bạn vừa gửi nhiều bài liên tiếp; hãy thử lại sau ít phút.")
    if parent is None or parent.thread_id != thread.id:
        parent = session.scalars(
            select(Post).where(Post.thread_id == thread.id).order_by(Post.id).limit(1)
        ).first()
    message_id = outbox.new_message_id(domain)
    refs = Refs(message_id, (parent.message_id,) if parent else (), thread.subject_key, True)
    placement = Placement(Spot(parent.id, thread.id) if parent else None, thread.id, "web")
    state, reason = decide_state(session, group, person, new_topic=False)
    new = NewPost(
        refs=refs, subject=f"Re: {thread.subject}", text=body, author=person, author_name=person.name
    )
    post = record_post(session, group, new, placement, state=state, reason=reason, now=now)
    deliver_post(session, post, group, now)
    answer_if_late(session, post, domain, now)
    return post


def _recent_posts(session: Session, person: Person, now: datetime) -> int:
    return (
        session.scalar(
            select(func.count(Post.id)).where(
                Post.author_id == person.id, Post.created_at >= now - timedelta(minutes=10)
            )
        )
        or 0
    )


def start_topic(
    session: Session, group: Group, person: Person, subject: str, text: str, *, domain: str, now: datetime
) -> Post:
    """A new topic from the web, where the group's policy lets members start one (held if moderated)."""
    title = unicodedata.normalize("NFC", " ".join(subject.split()))[:300]
    body = unicodedata.normalize("NFC", text.replace("\r\n", "\n")).strip()
    if not title or not body:
        raise WebReplyRefused("Chủ đề mới cần có tiêu đề và nội dung.")
    if not is_member(session, person, group):
        raise WebReplyRefused(f"Cần là thành viên nhóm {group.name_vi} để mở chủ đề.")
    if group.post_policy == PostPolicy.ANNOUNCE:
        raise WebReplyRefused(
            "Nhóm này chỉ dành cho thông báo của các đơn vị; hãy trả lời trong chủ đề có sẵn."
        )
    if _recent_posts(session, person, now) >= PER_TEN_MINUTES:
        raise WebReplyRefused("Bạn vừa gửi nhiều bài liên tiếp; hãy thử lại sau ít phút.")
    refs = Refs(outbox.new_message_id(domain), (), subject_key(title), False)
    state, reason = decide_state(session, group, person, new_topic=True)
    new = NewPost(refs=refs, subject=title, text=body, author=person, author_name=person.name)
    post = record_post(session, group, new, Placement(None, None, "new"), state=state, reason=reason, now=now)
    deliver_post(session, post, group, now)
    return post
