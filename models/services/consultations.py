"""The comment period of a draft: opened with the notice that carries the draft, opened and closed on
schedule by the worker, reminders to the organisations that have not commented, and a polite answer to
a comment that comes after the close."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.consultations import Consultation, DraftComment, PeriodState
from models.groups import Group
from models.mail import Delivery
from models.notices import Notice, NoticeKind
from models.people import Person
from models.posts import Post
from models.roles import RoleName
from models.services import outbox
from models.services.documents import is_draft_file
from models.services.notices import remind_awaited
from models.services.roles import has_group_role, is_admin
from models.services.search import fold
from models.services.versions import add_version

# Minimum days a draft is open for comment, by the kind of document; wiring reads
# CONSULTATION_MIN_DAYS ("thong_tu=20,nghi_dinh=30") over these.
MINIMUM_DAYS = MappingProxyType({"luat": 30, "nghi_dinh": 30, "thong_tu": 20, "quyet_dinh": 10, "khac": 10})
DOCUMENT_TYPES = (
    ("luat", "luật"),
    ("nghi_dinh", "nghị định"),
    ("thong_tu", "thông tư"),
    ("quyet_dinh", "quyết định"),
)
REMIND_BEFORE = timedelta(days=2)


class PeriodTooShort(Exception):
    """The deadline leaves fewer days than the document type's minimum (the number of days)."""

    def __init__(self, days: int) -> None:
        super().__init__(days)
        self.days = days


@dataclass(frozen=True)
class PeriodRules:
    minimum_days: Mapping[str, int] = field(default_factory=lambda: MINIMUM_DAYS)

    def minimum(self, document_type: str) -> timedelta:
        days = self.minimum_days.get(document_type, self.minimum_days.get("khac", 10))
        return timedelta(days=days)


def document_type(title: str) -> str:
    """ "Dự thảo Thông tư quy định …" is a thông tư; a title naming no type is "khac"."""
    folded = fold(title)
    for kind, words in DOCUMENT_TYPES:
        if fold(words) in folded:
            return kind
    return "khac"


def begin_consultation(
    session: Session,
    notice: Notice,
    *,
    rules: PeriodRules,
    now: datetime,
    opens_at: datetime | None = None,
    kind_of_document: str | None = None,
) -> Consultation | None:
    """The period of a draft-for-comment notice, and the draft's first version from its attachment.
    Without a deadline the period lasts the minimum; a shorter one is refused."""
    if notice.kind != NoticeKind.DRAFT_FOR_COMMENT:
        return None
    kind = kind_of_document or document_type(notice.title)
    opens = opens_at or now
    minimum = rules.minimum(kind)
    closes = notice.deadline or opens + minimum
    if closes - opens < minimum - timedelta(minutes=1):
        raise PeriodTooShort(minimum.days)
    notice.deadline = closes
    consultation = Consultation(
        notice=notice,
        document_type=kind,
        opens_at=opens,
        closes_at=closes,
        state=PeriodState.OPEN if opens <= now else PeriodState.SCHEDULED,
        created_at=now,
    )
    session.add(consultation)
    session.flush()
    draft = next((a for a in notice.post.attachments if is_draft_file(a.filename)), None)
    if draft is not None:
        add_version(session, consultation, draft.filename, draft.data, now, attachment=draft)
    return consultation


def consultation_of_thread(session: Session, thread_id: int) -> Consultation | None:
    return session.scalar(
        select(Consultation)
        .join(Notice, Notice.id == Consultation.notice_id)
        .where(Notice.thread_id == thread_id)
    )


def is_late(consultation: Consultation, now: datetime) -> bool:
    return consultation.state == PeriodState.CLOSED or now > consultation.closes_at


def open_due(session: Session, now: datetime) -> int:
    """Open the periods whose time has come; how many."""
    due = session.scalars(
        select(Consultation).where(Consultation.state == PeriodState.SCHEDULED, Consultation.opens_at <= now)
    ).all()
    for consultation in due:
        consultation.state = PeriodState.OPEN
    return len(due)


def close_due(session: Session, now: datetime) -> int:
    """Close the periods past their end; how many."""
    due = session.scalars(
        select(Consultation).where(Consultation.state != PeriodState.CLOSED, Consultation.closes_at <= now)
    ).all()
    for consultation in due:
        consultation.state = PeriodState.CLOSED
    return len(due)


def remind_consultations(
    session: Session, now: datetime, domain: str, before: timedelta = REMIND_BEFORE
) -> int:
    """One reminder, in the last days of an open period, to each recipient whose organisation must
    comment and has not."""
    due = session.scalars(
        select(Consultation).where(
            Consultation.state == PeriodState.OPEN,
            Consultation.closes_at > now,
            Consultation.closes_at <= now + before,
        )
    ).all()
    return sum(
        remind_awaited(
            session,
            consultation.notice,
            key=f"consultation-reminder:{consultation.id}",
            template="consultation_reminder",
            params={"notice": consultation.notice_id, "consultation": consultation.id},
            domain=domain,
            now=now,
        )
        for consultation in due
    )


def answer_if_late(session: Session, post: Post, domain: str, now: datetime) -> Delivery | None:
    """A comment after the close is kept, marked late, and its author told so, kindly, once."""
    late = session.scalar(
        select(DraftComment).where(DraftComment.post_id == post.id, DraftComment.late).limit(1)
    )
    if late is None or post.author is None:
        return None
    return outbox.enqueue(
        session,
        key=f"late-comment:{post.id}",
        recipient=post.author.email,
        person=post.author,
        template="consultation_late",
        domain=domain,
        now=now,
        params={"notice": late.consultation.notice_id, "consultation": late.consultation_id},
        in_reply_to=post.message_id,
    )


def may_decide(session: Session, person: Person | None, consultation: Consultation) -> bool:
    """The drafting unit: who published the draft, a publisher of its groups from the same unit, or a
    site administrator."""
    if person is None:
        return False
    notice = consultation.notice
    if person.id == notice.publisher_id or is_admin(session, person):
        return True
    same_unit = notice.unit_id is not None and person.organisation_id == notice.unit_id
    return same_unit and any(
        has_group_role(session, person, group, RoleName.PUBLISHER) for group in _groups(notice)
    )


def _groups(notice: Notice) -> list[Group]:
    return list(notice.groups)
