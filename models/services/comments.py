"""Comments on a draft: made from the posts of its thread (email or web), placed by the drafting unit when
anchoring was unsure, and decided (tiếp thu, giải trình, không tiếp thu) with a reason."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.consultations import (
    CommentState,
    Consultation,
    Decision,
    DraftComment,
    DraftVersion,
    Provision,
    Verdict,
)
from models.people import Person
from models.posts import Post, PostState
from models.services import audit, outbox
from models.services.anchoring import Passage, read_reply
from models.services.consultations import consultation_of_thread, is_late, may_decide


class NotDrafter(Exception):
    """Only the drafting unit decides on comments and places them."""


def latest_version(session: Session, consultation: Consultation) -> DraftVersion | None:
    return session.scalar(
        select(DraftVersion)
        .where(DraftVersion.consultation_id == consultation.id)
        .order_by(DraftVersion.number.desc())
        .limit(1)
    )


def record_comments(session: Session, post: Post, now: datetime) -> list[DraftComment]:
    """The comments of a visible post in a draft's thread (the notice's own post is the draft)."""
    if post.state != PostState.VISIBLE:
        return []
    consultation = consultation_of_thread(session, post.thread_id)
    if consultation is None or post.id == consultation.notice.post_id:
        return []
    version = latest_version(session, consultation)
    provisions = list(version.provisions) if version else []
    by_citation = {p.citation: p for p in provisions}
    passages = [Passage(p.citation, f"{p.heading} {p.text}".strip()) for p in provisions]
    late = is_late(consultation, now)
    comments = []
    for position, reading in enumerate(read_reply(post.text, passages)):
        provision = by_citation.get(reading.citation)
        state = (
            CommentState.REVIEW
            if not reading.is_sure
            else CommentState.ANCHORED
            if provision is not None
            else CommentState.GENERAL
        )
        comment = DraftComment(
            consultation_id=consultation.id,
            post_id=post.id,
            position=position,
            provision=provision,
            cited=reading.cited[:200],
            text=reading.text,
            confidence=round(reading.confidence, 2),
            state=state,
            late=late,
            person_id=post.author_id,
            organisation_id=post.author.organisation_id if post.author else None,
            created_at=now,
        )
        session.add(comment)
        comments.append(comment)
    session.flush()
    return comments


def review_queue(session: Session, consultation: Consultation) -> list[DraftComment]:
    return list(
        session.scalars(
            select(DraftComment)
            .where(DraftComment.consultation_id == consultation.id, DraftComment.state == CommentState.REVIEW)
            .order_by(DraftComment.id)
        )
    )


def place_comment(
    session: Session, comment: DraftComment, provision: Provision | None, person: Person, now: datetime
) -> DraftComment:
    """The drafting unit says where an unsure comment belongs: a provision, or the draft as a whole."""
    _guard(session, person, comment)
    comment.provision = provision
    comment.state = CommentState.ANCHORED if provision is not None else CommentState.GENERAL
    comment.confidence = 1.0
    audit.record(
        session,
        f"web:{person.email}",
        "comment.place",
        comment,
        provision=provision.citation if provision else "",
    )
    return comment


def decide(
    session: Session,
    comment: DraftComment,
    verdict: Verdict,
    reason: str,
    person: Person,
    *,
    now: datetime,
    notify: bool = False,
    domain: str = "",
) -> Decision:
    """Record (or change) the decision on a comment; told by email when asked, once per decision made."""
    _guard(session, person, comment)
    decision = comment.decision or Decision(comment=comment)
    decision.verdict = verdict
    decision.reason = reason.strip()
    decision.decided_by = person
    decision.decided_at = now
    session.add(decision)
    session.flush()
    if notify and comment.person is not None:
        outbox.enqueue(
            session,
            key=f"decision:{decision.id}:{int(now.timestamp())}",
            recipient=comment.person.email,
            person=comment.person,
            template="consultation_decision",
            domain=domain,
            now=now,
            params={"notice": comment.consultation.notice_id, "comment": comment.id},
            in_reply_to=comment.post.message_id,
        )
    audit.record(session, f"web:{person.email}", "comment.decide", comment, verdict=verdict.value)
    return decision


def _guard(session: Session, person: Person, comment: DraftComment) -> None:
    if not may_decide(session, person, comment.consultation):
        raise NotDrafter(person.email)
