"""Bounces: log each, score the permanent ones, and past the threshold disable the person and tell them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models.bounces import Bounce
from models.groups import Membership, MembershipState
from models.mail import Delivery
from models.people import Person
from models.services import audit, outbox

THRESHOLD = 3  # permanent bounces before the address is disabled
WINDOW = timedelta(days=30)  # a permanent bounce older than this no longer counts against the address


def record_bounce(
    session: Session,
    person: Person,
    delivery: Delivery | None,
    *,
    permanent: bool,
    source: str,
    detail: str,
    domain: str,
    now: datetime,
    threshold: int = THRESHOLD,
) -> bool:
    """Log the bounce; True when it disabled the person's memberships."""
    session.add(
        Bounce(
            person=person,
            delivery_id=delivery.id if delivery else None,
            permanent=permanent,
            source=source,
            detail=detail[:2000],
            at=now,
        )
    )
    if not permanent:
        return False
    person.bounce_score += 1
    if person.bounce_score < threshold:
        return False
    active = session.scalars(
        select(Membership).where(
            Membership.person_id == person.id, Membership.state == MembershipState.ACTIVE
        )
    ).all()
    for membership in active:
        membership.state = MembershipState.DISABLED
        audit.record(
            session, "system", "membership.disable", membership, reason="bounces", score=person.bounce_score
        )
    if active:
        outbox.enqueue(
            session,
            key=f"disabled:{person.id}:{now.date().isoformat()}",
            recipient=person.email,
            person=person,
            template="disabled",
            domain=domain,
            now=now,
            params={"groups": [m.group.name_vi for m in active]},
        )
    return bool(active)


def decay_bounce_scores(session: Session, now: datetime, window: timedelta = WINDOW) -> int:
    """Forget permanent bounces older than `window`: each score falls to the number of recent ones.

    A mailbox that was full for a week in spring is not one bounce from being disabled in autumn.
    Scores only fall here; memberships already disabled stay so (the member joins again).
    The number of people whose score fell.
    """
    recent = (
        select(func.count(Bounce.id))
        .where(Bounce.person_id == Person.id, Bounce.permanent.is_(True), Bounce.at >= now - window)
        .scalar_subquery()
    )
    result = session.execute(
        update(Person)
        .where(Person.bounce_score > 0, Person.bounce_score > recent)
        .values(bounce_score=recent)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
