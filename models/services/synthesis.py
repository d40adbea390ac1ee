"""The synthesis of comments (bản tổng hợp, tiếp thu, giải trình ý kiến): the counts, then the general
comments, then the comments on each provision in the draft's order, with the decision on each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models.consultations import Consultation, DraftComment, DraftVersion, PeriodState, Provision
from models.people import Person
from models.services.notices import answer_table

STATES_VI = {
    PeriodState.SCHEDULED: "chưa mở",
    PeriodState.OPEN: "đang lấy ý kiến",
    PeriodState.CLOSED: "đã kết thúc",
}
COLUMNS = ("TT", "Điều, khoản", "Cơ quan, người góp ý", "Nội dung góp ý", "Tiếp thu, giải trình", "Lý do")


@dataclass(frozen=True)
class Row:
    number: int  # TT, counted through the whole table
    provision: str  # "" for a general comment
    person: str
    organisation: str
    comment: str
    decision: str  # "Tiếp thu", "Giải trình", "Không tiếp thu", or "" while undecided
    reason: str
    late: bool

    @property
    def who(self) -> str:
        return f"{self.person} ({self.organisation})" if self.organisation else self.person

    def cells(self) -> tuple[str, ...]:
        comment = self.comment + (" (góp ý sau thời hạn)" if self.late else "")
        return (str(self.number), self.provision, self.who, comment, self.decision, self.reason)


@dataclass(frozen=True)
class Synthesis:
    title: str
    state: str
    made_at: datetime
    consulted: int  # organisations the draft was sent to
    answered: int  # of those, the ones that answered
    comments: int
    general: tuple[Row, ...]
    by_provision: tuple[Row, ...]


def synthesise(session: Session, consultation: Consultation, now: datetime) -> Synthesis:
    notice = consultation.notice
    statuses = answer_table(session, notice)
    comments = session.scalars(
        select(DraftComment)
        .where(DraftComment.consultation_id == consultation.id)
        .order_by(DraftComment.post_id, DraftComment.position)
        .options(selectinload(DraftComment.person).selectinload(Person.organisation))
    ).all()
    place = _draft_order(session, consultation)
    general = [c for c in comments if c.provision_id is None]
    on_provisions = sorted(
        (c for c in comments if c.provision_id is not None), key=lambda c: place[c.provision_id or 0][0]
    )
    rows = [
        _row(n, c, place.get(c.provision_id or 0, ((), ""))[1])
        for n, c in enumerate(general + on_provisions, 1)
    ]
    return Synthesis(
        title=notice.title,
        state=STATES_VI[consultation.state],
        made_at=now,
        consulted=len(statuses),
        answered=sum(1 for s in statuses if s.answered),
        comments=len(comments),
        general=tuple(rows[: len(general)]),
        by_provision=tuple(rows[len(general) :]),
    )


def _draft_order(session: Session, consultation: Consultation) -> dict[int, tuple[tuple, str]]:
    """Each provision of every version → its place in the latest version's order, and its label. A
    provision of an earlier version takes the place of its match in the latest; one dropped since
    comes after them all."""
    versions = session.scalars(
        select(DraftVersion)
        .where(DraftVersion.consultation_id == consultation.id)
        .order_by(DraftVersion.number)
    ).all()
    if not versions:
        return {}
    latest = versions[-1]
    successor: dict[int, Provision] = {}
    for version in versions[1:]:
        for provision in version.provisions:
            if provision.previous_id:
                successor[provision.previous_id] = provision
    place: dict[int, tuple[tuple, str]] = {}
    for version in versions:
        for provision in version.provisions:
            last = provision
            while last.id in successor:
                last = successor[last.id]
            label = provision.citation
            if version.number != latest.number:
                label += f" (dự thảo {version.number})"
            key = (
                (0, last.position, version.number)
                if last.version_id == latest.id
                else (1, version.number, provision.position)
            )
            place[provision.id] = (key, label)
    return place


def _row(number: int, comment: DraftComment, provision: str) -> Row:
    person = comment.person
    decision = comment.decision
    return Row(
        number=number,
        provision=provision,
        person=(person.name or person.email) if person else comment.post.author_name,
        organisation=person.organisation.name if person and person.organisation else "",
        comment=comment.text,
        decision=decision.verdict.label_vi if decision else "",
        reason=decision.reason if decision else "",
        late=comment.late,
    )
