"""The daily digest (bản tin tổng hợp hằng ngày): one email per member and group for each Vietnam day
that had posts, for the members who chose it instead of a message per post.

What a digest member still receives at once: notices that ask for something by a date (an answer, a
deadline, a meeting: `Notice.goes_at_once`), and the mail about their own membership (confirmations,
welcome, reminders). Information notices and discussion posts wait for the digest. Each group is its
own list with its own List-Id and unsubscribe link, so a member of two digest groups gets two digests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.orm import Session

from models.groups import Group, Membership, MembershipState
from models.mail import Delivery
from models.notices import Notice
from models.people import Person
from models.posts import Post, PostState
from models.services import audit, outbox
from models.site import VIETNAM

MOST = 100  # entries listed in one digest; the rest are on the group's page


@dataclass(frozen=True)
class DigestEntry:
    post: Post
    notice: Notice | None


def digest_key(group_id: int, day: date) -> str:
    """The message key: one digest per group and day, so running the job again adds nothing."""
    return f"digest:{group_id}:{day.isoformat()}"


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """A Vietnam calendar day as a half-open range of instants."""
    start = datetime.combine(day, time(), tzinfo=VIETNAM)
    return start, start + timedelta(days=1)


def active_membership(session: Session, person: Person | None, group: Group) -> Membership | None:
    if person is None:
        return None
    return session.scalar(
        select(Membership).where(
            Membership.person_id == person.id,
            Membership.group_id == group.id,
            Membership.state == MembershipState.ACTIVE,
        )
    )


def choose_digest(session: Session, membership: Membership, digest: bool, actor: str) -> None:
    """A member's choice between a message per post and the daily digest, for one group."""
    if membership.digest != digest:
        membership.digest = digest
        audit.record(session, actor, "membership.digest" if digest else "membership.each", membership)


def day_entries(session: Session, group_id: int, day: date) -> tuple[list[DigestEntry], int]:
    """The visible posts of a group on a day, oldest first (at most MOST), and how many there were."""
    start, end = day_bounds(day)
    posts = select(Post).where(
        Post.group_id == group_id,
        Post.state == PostState.VISIBLE,
        Post.created_at >= start,
        Post.created_at < end,
    )
    listed = list(session.scalars(posts.order_by(Post.created_at, Post.id).limit(MOST)))
    total = len(listed) if len(listed) < MOST else _count(session, posts)
    notices = {
        n.post_id: n
        for n in session.scalars(select(Notice).where(Notice.post_id.in_([p.id for p in listed])))
    }
    return [DigestEntry(post, notices.get(post.id)) for post in listed], total


def send_digests(session: Session, now: datetime, domain: str) -> int:
    """Queue yesterday's digest (Vietnam time) for every digest member of every group that had posts;
    the number of digests queued. Run as often as liked: a digest already queued is not queued again."""
    day = now.astimezone(VIETNAM).date() - timedelta(days=1)
    start, end = day_bounds(day)
    busy = select(Post.group_id).where(
        Post.state == PostState.VISIBLE, Post.created_at >= start, Post.created_at < end
    )
    groups = session.scalars(select(Group).where(Group.id.in_(busy.distinct())).order_by(Group.id))
    return sum(_queue(session, group, day, now, domain) for group in groups)


def _queue(session: Session, group: Group, day: date, now: datetime, domain: str) -> int:
    key = digest_key(group.id, day)
    queued = exists().where(
        Delivery.message_key == key, Delivery.recipient == Person.email, Delivery.channel == "email"
    )
    members = (
        select(Membership.id, Person.id, Person.email)
        .join(Person, Person.id == Membership.person_id)
        .where(and_(Membership.group_id == group.id, Membership.state == MembershipState.ACTIVE))
        .where(Membership.digest.is_(True), ~queued)
        .order_by(Membership.id)
    )
    message_id = outbox.new_message_id(domain)  # shared by the copies, like a post's
    params = {"group": group.slug, "day": day.isoformat()}
    return outbox.add_streamed(
        session,
        (
            outbox.pending_row(
                key=key,
                recipient=email,
                person_id=person_id,
                template="digest",
                params=params | {"membership": membership_id},
                message_id=message_id,
                now=now,
            )
            for membership_id, person_id, email in session.execute(
                members.execution_options(yield_per=outbox.CHUNK)
            )
        ),
    )


def _count(session: Session, posts: Select[tuple[Post]]) -> int:
    return session.scalar(select(func.count()).select_from(posts.subquery())) or 0
