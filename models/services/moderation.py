"""Clearing what a group holds: approve, reject with a reason, or ban the sender from the group."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.groups import Group, Membership, MembershipSource, MembershipState
from models.people import Person
from models.posts import Post, PostState
from models.services import audit
from models.services.fanout import deliver_post
from models.services.posts import became_visible
from models.services.roles import can_moderate, is_admin
from models.services.threads import refresh_counts


class NotAllowed(Exception):
    """The person may not moderate this group."""


def held_posts(session: Session, moderator: Person, limit: int = 100) -> list[Post]:
    held = session.scalars(
        select(Post).where(Post.state == PostState.HELD).order_by(Post.created_at).limit(limit * 5)
    ).all()
    if is_admin(session, moderator):
        return list(held[:limit])
    groups: dict[int, bool] = {}
    for post in held:
        if post.group_id not in groups:
            group = session.get(Group, post.group_id)
            groups[post.group_id] = group is not None and can_moderate(session, moderator, group)
    return [post for post in held if groups[post.group_id]][:limit]


def approve(session: Session, post: Post, moderator: Person, now: datetime) -> int:
    """Make the post visible and send it as the group sends posts; the number of deliveries queued."""
    group = _moderated(session, post, moderator)
    post.state, post.state_reason = PostState.VISIBLE, None
    session.flush()
    became_visible(session, post, post.created_at)
    refresh_counts(session, post.thread_id)
    audit.record(session, f"web:{moderator.email}", "post.approve", post, group=group.slug)
    return deliver_post(session, post, group, now)


def reject(session: Session, post: Post, moderator: Person, reason: str, now: datetime) -> None:
    group = _moderated(session, post, moderator)
    post.state, post.state_reason = PostState.REJECTED, reason.strip() or "từ chối"
    audit.record(
        session, f"web:{moderator.email}", "post.reject", post, group=group.slug, reason=post.state_reason
    )


def ban(session: Session, post: Post, moderator: Person, now: datetime) -> None:
    """Reject the post and disable its author's membership: nothing more from them reaches the group."""
    group = _moderated(session, post, moderator)
    reject(session, post, moderator, "người gửi bị chặn (sender banned)", now)
    if post.author is None:
        return
    membership = session.scalar(
        select(Membership).where(Membership.person_id == post.author.id, Membership.group_id == group.id)
    )
    if membership is None:
        membership = Membership(
            person=post.author,
            group=group,
            source=MembershipSource.WEB,
            unsubscribe_nonce="banned",
            requested_at=now,
        )
        session.add(membership)
    membership.state = MembershipState.DISABLED
    audit.record(session, f"web:{moderator.email}", "membership.ban", post.author, group=group.slug)


def _moderated(session: Session, post: Post, moderator: Person) -> Group:
    group = session.get(Group, post.group_id)
    if group is None or not can_moderate(session, moderator, group):
        raise NotAllowed(post.id)
    return group
