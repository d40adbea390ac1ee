"""Recording posts: a reply or a new topic, placed in its thread, visible or held by the group's policy."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import links
from models.groups import Group, Membership, MembershipState, PostPolicy
from models.people import Person
from models.posts import Post, PostAttachment, PostState, Thread
from models.services.search import search_text
from models.services.threads import Placement, Refs, reattach_orphans


@dataclass(frozen=True)
class NewAttachment:
    filename: str
    content_type: str
    data: bytes
    content_id: str | None = None


@dataclass(frozen=True)
class NewPost:
    refs: Refs
    subject: str
    text: str
    quoted: str = ""
    html: str | None = None
    author: Person | None = None
    author_name: str = ""
    sent_at: datetime | None = None
    inbound_id: int | None = None
    attachments: tuple[NewAttachment, ...] = field(default=())


def find_post(session: Session, group: Group, message_id: str) -> Post | None:
    return session.scalar(select(Post).where(Post.group_id == group.id, Post.message_id == message_id))


def decide_state(
    session: Session, group: Group, author: Person | None, *, new_topic: bool
) -> tuple[PostState, str]:
    """Visible, or held with the reason a moderator reads."""
    membership = (
        None
        if author is None
        else session.scalar(
            select(Membership).where(Membership.person_id == author.id, Membership.group_id == group.id)
        )
    )
    if membership is None or membership.state != MembershipState.ACTIVE:
        return PostState.HELD, "người gửi chưa là thành viên nhóm (sender is not a member)"
    if group.post_policy == PostPolicy.MODERATED:
        return PostState.HELD, "nhóm có kiểm duyệt (moderated group)"
    if group.post_policy == PostPolicy.ANNOUNCE and new_topic:
        return PostState.HELD, "nhóm chỉ dành cho thông báo: chủ đề mới cần duyệt (announce-only group)"
    return PostState.VISIBLE, ""


def record_post(
    session: Session,
    group: Group,
    new: NewPost,
    placement: Placement,
    *,
    state: PostState,
    reason: str,
    now: datetime,
) -> Post:
    thread = session.get(Thread, placement.thread_id) if placement.thread_id else None
    if thread is None:
        thread = Thread(
            group_id=group.id,
            subject=new.subject,
            subject_key=new.refs.subject_key,
            started_at=now,
            last_post_at=now,
            post_count=0,
        )
        session.add(thread)
        session.flush()
    post = Post(
        group_id=group.id,
        thread_id=thread.id,
        parent_id=placement.parent.post_id if placement.parent else None,
        parent_message_id=new.refs.parent_message_id or _message_id_of(session, placement),
        search_text=search_text(new.subject, new.text),
        message_id=new.refs.message_id,
        inbound_id=new.inbound_id,
        author=new.author,
        author_name=new.author_name,
        subject=new.subject,
        text=new.text,
        quoted=new.quoted,
        html=new.html,
        sent_at=new.sent_at,
        created_at=now,
        state=state,
        state_reason=reason or None,
        attachments=[
            PostAttachment(
                filename=a.filename,
                content_type=a.content_type,
                size=len(a.data),
                content_id=a.content_id,
                data=a.data,
            )
            for a in new.attachments
        ],
    )
    session.add(post)
    if state == PostState.VISIBLE:  # a thread counts, and is listed by, what readers can see
        thread.post_count += 1
        thread.last_post_at = now
    session.flush()
    post.html = _link_inline_images(post)
    reattach_orphans(session, post)
    if state == PostState.VISIBLE:
        became_visible(session, post, post.created_at)
    return post


def became_visible(session: Session, post: Post, written_at: datetime) -> None:
    """What a post means once readers can see it, whether stored visible or approved later: the answer
    to a notice, the comments on a draft. `written_at` decides lateness, not the moderator's delay."""
    from models.services.notices import note_answer  # notices build on posts

    note_answer(session, post, written_at)
    from models.services.comments import record_comments  # comments on drafts build on posts

    record_comments(session, post, written_at)


def _link_inline_images(post: Post) -> str | None:
    """cid: images in the stored HTML point at the stored attachments, served by the forum."""
    html = post.html
    for attachment in post.attachments:
        if html and attachment.content_id:
            html = html.replace(
                f"cid:{attachment.content_id}", links.attachment_path(attachment.id, attachment.filename)
            )
    return html


def _message_id_of(session: Session, placement: Placement) -> str | None:
    """The parent's Message-ID when only the reply key named the parent: copies of this post still say
    what they answer (In-Reply-To), so mail clients thread them."""
    if placement.parent is None:
        return None
    return session.scalar(select(Post.message_id).where(Post.id == placement.parent.post_id))
