"""Publishing a notice to groups, and tracking who answered the ones that ask for an answer."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import groupby
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.orm import Session, aliased, selectinload

from models.groups import Group, Membership, MembershipState
from models.mail import Delivery
from models.notices import Answer, Notice, NoticeGroup, NoticeKind
from models.people import Organisation, Person
from models.posts import Post, PostState
from models.roles import RoleName
from models.services import audit, outbox
from models.services.chats import fan_out_to_chats
from models.services.posts import NewAttachment, NewPost, record_post
from models.services.roles import has_group_role
from models.services.threads import Placement, refs_for

if TYPE_CHECKING:  # consultations build on this module; imported where used
    from models.services.consultations import PeriodRules

REMIND_BEFORE = timedelta(days=2)


class NotAllowed(Exception):
    """The person may not publish to one of the groups."""


@dataclass(frozen=True)
class NoticeDraft:
    kind: NoticeKind
    title: str
    body: str
    groups: tuple[Group, ...]
    deadline: datetime | None = None
    answer_required: bool = False
    meeting_start: datetime | None = None
    meeting_end: datetime | None = None
    meeting_place: str | None = None
    attachments: tuple[NewAttachment, ...] = field(default=())
    # A draft for comment: when its period opens (now if unset), and the kind of document ("thong_tu"),
    # which sets the minimum period (read from the title if unset).
    opens_at: datetime | None = None
    document_type: str | None = None


def may_publish(session: Session, person: Person | None, group: Group) -> bool:
    return has_group_role(session, person, group, RoleName.PUBLISHER)


def publish_notice(
    session: Session,
    draft: NoticeDraft,
    publisher: Person,
    *,
    unit: Organisation | None,
    domain: str,
    now: datetime,
    message_id: str | None = None,
    rules: PeriodRules | None = None,
) -> Notice:
    """The notice becomes a thread and a post in its first group, and one outbox row per member of all its
    groups (a person in two of them gets it once) and per linked chat of those members, all in the caller's
    transaction. A draft for comment also opens its consultation (PeriodTooShort when the deadline is too
    near)."""
    if not draft.groups or not all(may_publish(session, publisher, g) for g in draft.groups):
        raise NotAllowed(publisher.email)
    home = draft.groups[0]
    refs = refs_for(message_id or outbox.new_message_id(domain), None, [], draft.title)
    new = NewPost(
        refs=refs,
        subject=draft.title,
        text=draft.body,
        author=publisher,
        author_name=unit.name if unit else publisher.name,
        attachments=draft.attachments,
    )
    post = record_post(
        session, home, new, Placement(None, None, "new"), state=PostState.VISIBLE, reason="", now=now
    )
    notice = Notice(
        post_id=post.id,
        thread_id=post.thread_id,
        kind=draft.kind,
        title=draft.title,
        publisher=publisher,
        unit=unit,
        answer_required=draft.answer_required or draft.kind.asks_for_answer,
        deadline=draft.deadline,
        meeting_start=draft.meeting_start,
        meeting_end=draft.meeting_end,
        meeting_place=draft.meeting_place,
        created_at=now,
    )
    session.add(notice)
    session.flush()
    session.add_all(NoticeGroup(notice_id=notice.id, group_id=g.id) for g in draft.groups)
    if draft.kind == NoticeKind.DRAFT_FOR_COMMENT:
        from models.services import consultations

        consultations.begin_consultation(
            session,
            notice,
            rules=rules or consultations.PeriodRules(),
            now=now,
            opens_at=draft.opens_at,
            kind_of_document=draft.document_type,
        )
    count = _fan_out(session, notice, draft.groups, now)
    chats = fan_out_to_chats(session, notice, [g.id for g in draft.groups], now)
    audit.record(
        session,
        f"web:{publisher.email}",
        "notice.publish",
        notice,
        groups=[g.slug for g in draft.groups],
        recipients=count,
        chats=chats,
    )
    return notice


def _fan_out(session: Session, notice: Notice, groups: tuple[Group, ...], now: datetime) -> int:
    """One row per person, for the first of the groups they are in; streamed in chunks, so a million
    members cost the memory of one chunk. Members who chose the daily digest get it there, unless
    the notice asks for something by a date."""
    slugs = {g.id: g.slug for g in groups}
    members = (
        select(Membership.id, Membership.group_id, Person.id, Person.email)
        .join(Person, Person.id == Membership.person_id)
        .where(Membership.group_id.in_(slugs), Membership.state == MembershipState.ACTIVE)
    )
    if len(groups) > 1:  # a person in several: their first group; one group needs no sort of its members
        members = members.order_by(
            Person.id, case({g.id: n for n, g in enumerate(groups)}, value=Membership.group_id)
        )
    if not notice.goes_at_once:
        members = members.where(Membership.digest.is_(False))
    rows = session.execute(members.execution_options(yield_per=outbox.CHUNK))
    key, message_id = f"notice:{notice.id}", notice.post.message_id  # one object for every row
    firsts = (next(same) for _, same in groupby(rows, key=lambda row: row[2]))  # by person id
    return outbox.add_streamed(
        session,
        (
            outbox.pending_row(
                key=key,
                recipient=email,
                person_id=person_id,
                template="notice",
                params={"notice": notice.id, "group": slugs[group_id], "membership": membership_id},
                message_id=message_id,
                now=now,
            )
            for membership_id, group_id, person_id, email in firsts
        ),
    )


def note_answer(session: Session, post: Post, now: datetime) -> Answer | None:
    """A reply in the thread of a notice that asks for an answer answers it, for its author and their unit."""
    notice = session.scalar(select(Notice).where(Notice.thread_id == post.thread_id))
    if notice is None or not notice.answer_required or post.author is None or post.id == notice.post_id:
        return None
    existing = session.scalar(
        select(Answer).where(Answer.notice_id == notice.id, Answer.person_id == post.author.id)
    )
    if existing is not None:
        return existing
    answer = Answer(
        notice_id=notice.id,
        person_id=post.author.id,
        organisation_id=post.author.organisation_id,
        post_id=post.id,
        answered_at=now,
        late=bool(notice.deadline and now > notice.deadline),
    )
    session.add(answer)
    return answer


UNKNOWN_ORGANISATION = "(chưa rõ đơn vị)"


@dataclass(frozen=True)
class OrganisationStatus:
    organisation: str
    answered: bool
    answers: tuple[Answer, ...]
    recipients: int  # recipients in this organisation (the publisher aside)
    waiting: int  # of those, the ones who have not answered themselves


def answer_table(session: Session, notice: Notice) -> list[OrganisationStatus]:
    """Per organisation of the recipients, by name: answered (by whom, when, late or not), or how many are
    still awaited. The database counts, so a million recipients come back as a row per organisation."""
    answered_by = _answers_by_organisation(session, notice)
    counts = _counts_by_organisation(session, notice)
    shown = {name for name, (_, waiting) in counts.items() if waiting} | set(answered_by)
    return [
        OrganisationStatus(name, bool(answered_by[name]), tuple(answered_by[name]), *counts.get(name, (0, 0)))
        for name in sorted(shown)
    ]


def _answers_by_organisation(session: Session, notice: Notice) -> defaultdict[str, list[Answer]]:
    answers = session.scalars(
        select(Answer)
        .where(Answer.notice_id == notice.id)
        .order_by(Answer.id)
        .options(selectinload(Answer.person), selectinload(Answer.organisation))
    )
    answered_by: defaultdict[str, list[Answer]] = defaultdict(list)
    for answer in answers:
        answered_by[answer.organisation.name if answer.organisation else UNKNOWN_ORGANISATION].append(answer)
    return answered_by


def _counts_by_organisation(session: Session, notice: Notice) -> dict[str, tuple[int, int]]:
    """Organisation name → (recipients, of those the ones who have not answered), in one GROUP BY."""
    answered_themselves = (Answer.notice_id == notice.id) & (Answer.person_id == Person.id)
    per_organisation = (
        _recipients(notice, Organisation.name, func.count(), func.count(Answer.id))
        .outerjoin(Answer, answered_themselves)
        .group_by(Organisation.name)
    )
    counts: dict[str, tuple[int, int]] = {}
    for name, recipients, answered in session.execute(per_organisation):
        before = counts.get(name or UNKNOWN_ORGANISATION, (0, 0))  # an organisation may be named so
        counts[name or UNKNOWN_ORGANISATION] = (before[0] + recipients, before[1] + recipients - answered)
    return counts


def _recipients(notice: Notice, *columns: Any) -> Select[Any]:
    """The notice's recipients by email, with their organisation (outer joined), the publisher aside: the
    publishing unit does not answer itself."""
    return (
        select(*columns)
        .select_from(Delivery)
        .join(Person, Person.id == Delivery.person_id)
        .outerjoin(Organisation, Organisation.id == Person.organisation_id)
        .where(Delivery.message_key == f"notice:{notice.id}", Delivery.channel == "email")
        .where(Person.id != notice.publisher_id)
    )


def awaited(notice: Notice) -> Select[str]:
    """The addresses of the recipients still awaited: who have not answered, in an organisation (by name,
    as in `answer_table`) that has not either. A query, to be streamed: there may be a million."""
    answering, their_organisation = aliased(Answer), aliased(Organisation)
    answered_organisations = (
        select(func.coalesce(their_organisation.name, UNKNOWN_ORGANISATION))
        .select_from(answering)
        .outerjoin(their_organisation, their_organisation.id == answering.organisation_id)
        .where(answering.notice_id == notice.id)
        .distinct()
    )
    answered_themselves = select(Answer.id).where(
        Answer.notice_id == notice.id, Answer.person_id == Person.id
    )
    return _recipients(notice, Person.email).where(
        func.coalesce(Organisation.name, UNKNOWN_ORGANISATION).not_in(answered_organisations),
        _looked_up_none(answered_themselves),
    )


def _looked_up_none(rows: Select[Any]) -> ColumnElement[bool]:
    """NOT EXISTS, as a look in the index its conditions name for each row of the outer query, whatever the
    statistics say. OFFSET 0 keeps PostgreSQL from planning it as an anti-join: statistics that had not yet
    seen a new key's rows made that a nested loop over all of them (6 minutes for 100,000 reminders)."""
    return ~rows.offset(0).exists()


def remind_awaited(
    session: Session,
    notice: Notice,
    *,
    key: str,
    template: str,
    params: dict[str, Any],
    domain: str,
    now: datetime,
) -> int:
    """Queue a reminder `key` to each recipient still awaited who has not had it yet; how many. The rows
    are those `outbox.enqueue` would add, one by one (a Message-ID of their own, no person), but streamed
    and written in chunks: the recipients who have it already are left out by the query itself."""
    reminded = aliased(Delivery)
    has_it = select(reminded.id).where(
        reminded.message_key == key, reminded.recipient == Person.email, reminded.channel == "email"
    )
    addresses = session.scalars(
        awaited(notice).where(_looked_up_none(has_it)).execution_options(yield_per=outbox.CHUNK)
    )
    return outbox.add_streamed(
        session,
        (
            outbox.pending_row(
                key=key,
                recipient=address,
                person_id=None,
                template=template,
                params=params,
                message_id=outbox.new_message_id(domain),
                now=now,
            )
            for address in addresses
        ),
    )


def remind_due(session: Session, now: datetime, domain: str, before: timedelta = REMIND_BEFORE) -> int:
    """One reminder, before the deadline, to each recipient whose organisation has not answered (drafts for
    comment have their own, consultations.remind_consultations)."""
    due = session.scalars(
        select(Notice).where(
            Notice.answer_required,
            Notice.kind != NoticeKind.DRAFT_FOR_COMMENT,
            Notice.deadline > now,
            Notice.deadline <= now + before,
        )
    ).all()
    return sum(
        remind_awaited(
            session,
            notice,
            key=f"reminder:{notice.id}",
            template="reminder",
            params={"notice": notice.id},
            domain=domain,
            now=now,
        )
        for notice in due
    )
