"""Sending a post to the group's members by email: one outbox row per member, written in bulk.

Discussion groups mail every visible post to every active member but its author; in announce-only
groups (hundreds of thousands of members) replies stay on the forum, where the publishing unit reads
them, instead of reaching everyone's inbox. Members who chose the daily digest read posts there.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.groups import Group, Membership, MembershipState, PostPolicy
from models.people import Person
from models.posts import Post, PostState
from models.services import outbox


def deliver_post(session: Session, post: Post, group: Group, now: datetime) -> int:
    """Queue the post for the members; the number of rows queued (0 when the policy sends nothing)."""
    if post.state != PostState.VISIBLE or group.post_policy == PostPolicy.ANNOUNCE:
        return 0
    members = session.execute(
        select(Membership.id, Membership.person_id, Person.email)
        .join(Person, Person.id == Membership.person_id)
        .where(Membership.group_id == group.id, Membership.state == MembershipState.ACTIVE)
        .where(Membership.person_id != post.author_id, Membership.digest.is_(False))
        .execution_options(yield_per=outbox.CHUNK)
    )
    return outbox.add_streamed(
        session,
        (
            outbox.pending_row(
                key=f"post:{post.id}",
                recipient=email,
                person_id=person_id,
                template="post",
                params={"group": group.slug, "membership": membership_id, "post": post.id},
                message_id=post.message_id,
                now=now,
            )
            for membership_id, person_id, email in members
        ),
    )
