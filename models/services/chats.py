"""Chats linked to people: linking by a one-time token, blocking, groups chosen from the chat, and the
outbox rows that carry a notice to every linked chat of its recipients."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models.chat import ChatCredential, ChatLink, ChatPlatform
from models.errors import NotAMember, TokenInvalid
from models.groups import Group, Membership, MembershipSource, MembershipState
from models.notices import Notice, NoticeKind
from models.people import Person
from models.services import audit, outbox
from models.services.memberships import JoinResult, JoinRules, end_membership, find_group, join_at_once
from models.services.tokens import issue_token, redeem_token
from models.tokens import TokenPurpose

LINK_TTL = timedelta(days=7)
CHANNELS = tuple(p.value for p in ChatPlatform)


def offer_link(session: Session, person: Person, now: datetime, ttl: timedelta = LINK_TTL) -> str:
    """A one-time token for a deep link (`https://t.me/<bot>?start=<token>`): it names nobody."""
    return issue_token(session, TokenPurpose.LINK_CHAT, now, ttl, person=person)


def link_chat(
    session: Session, token: str, platform: ChatPlatform, chat_id: str, now: datetime, *, name: str = ""
) -> ChatLink:
    """Redeem a link token from this chat: the chat now belongs to the token's person (again, if it was
    blocked or linked to someone else before)."""
    row = redeem_token(session, token, now, TokenPurpose.LINK_CHAT)
    if row.person is None:
        raise TokenInvalid(token)
    link = find_chat(session, platform, chat_id)
    if link is None:
        link = ChatLink(platform=platform, chat_id=chat_id)
        session.add(link)
    link.person = row.person
    link.name = unicodedata.normalize("NFC", name)[:255]
    link.active, link.linked_at, link.blocked_at, link.blocked_reason = True, now, None, None
    session.flush()
    audit.record(session, f"{platform}:{chat_id}", "chat.link", link, person=row.person.email)
    return link


def find_chat(session: Session, platform: ChatPlatform, chat_id: str) -> ChatLink | None:
    return session.scalar(
        select(ChatLink).where(ChatLink.platform == platform, ChatLink.chat_id == str(chat_id))
    )


def linked_chat(session: Session, platform: ChatPlatform, chat_id: str) -> ChatLink | None:
    """The chat's link while it is active: whose chat this is."""
    link = find_chat(session, platform, chat_id)
    return link if link is not None and link.active else None


def links_of(session: Session, person: Person) -> list[ChatLink]:
    return list(
        session.scalars(select(ChatLink).where(ChatLink.person_id == person.id).order_by(ChatLink.id))
    )


def mark_blocked(session: Session, platform: ChatPlatform, chat_id: str, now: datetime, reason: str) -> bool:
    """The person blocked the bot or unfollowed the account: nothing more is sent to the chat.
    Whether an active link was stopped."""
    stopped = session.execute(
        update(ChatLink)
        .where(ChatLink.platform == platform, ChatLink.chat_id == str(chat_id), ChatLink.active)
        .values(active=False, blocked_at=now, blocked_reason=reason[:2000])
        .execution_options(synchronize_session="fetch")
    )
    return bool(stopped.rowcount)  # type: ignore[attr-defined]


def unlink(session: Session, link: ChatLink, now: datetime) -> None:
    """The person asked the chat to stop: the link ends until a new token links it again."""
    link.active, link.blocked_at, link.blocked_reason = False, now, "unlinked"
    audit.record(session, f"{link.platform}:{link.chat_id}", "chat.unlink", link, person=link.person.email)


@dataclass(frozen=True)
class GroupChoice:
    id: int
    slug: str
    name_vi: str
    name_en: str
    member: bool


def group_choices(session: Session, person: Person | None) -> list[GroupChoice]:
    """Every group, and whether the person is an active member of it."""
    joined: set[int] = set()
    if person is not None:
        joined = set(
            session.scalars(
                select(Membership.group_id).where(
                    Membership.person_id == person.id, Membership.state == MembershipState.ACTIVE
                )
            )
        )
    groups = session.scalars(select(Group).order_by(Group.id))
    return [GroupChoice(g.id, g.slug, g.name_vi, g.name_en, g.id in joined) for g in groups]


def join_from_chat(
    session: Session, link: ChatLink, slug: str, *, rules: JoinRules, now: datetime
) -> tuple[Group, JoinResult]:
    """A linked person joins at once: the token that linked the chat proved the address is theirs."""
    group = find_group(session, slug)
    result = join_at_once(session, group, link.person, source=MembershipSource.BOT, rules=rules, now=now)
    return group, result


def leave_from_chat(session: Session, link: ChatLink, slug: str, *, rules: JoinRules, now: datetime) -> Group:
    group = find_group(session, slug)
    membership = session.scalar(
        select(Membership).where(Membership.person_id == link.person_id, Membership.group_id == group.id)
    )
    if membership is None or membership.state != MembershipState.ACTIVE:
        raise NotAMember(link.person.email)
    end_membership(session, membership, via=MembershipSource.BOT, rules=rules, now=now)
    return group


def fan_out_to_chats(session: Session, notice: Notice, group_ids: list[int], now: datetime) -> int:
    """One outbox row per active chat of each active member of the groups (a person in two groups, once);
    the row's recipient is the chat id and its channel the platform. In the caller's transaction."""
    members = (
        select(Membership.person_id)
        .where(Membership.group_id.in_(group_ids), Membership.state == MembershipState.ACTIVE)
        .scalar_subquery()
    )
    chats = session.execute(
        select(ChatLink.id, ChatLink.person_id, ChatLink.platform, ChatLink.chat_id)
        .where(ChatLink.active, ChatLink.person_id.in_(members))
        .order_by(ChatLink.id)
        .execution_options(yield_per=outbox.CHUNK)
    )
    return outbox.add_streamed(
        session,
        (
            outbox.pending_row(
                key=f"notice:{notice.id}",
                recipient=chat_id,
                person_id=person_id,
                channel=str(platform),
                template="notice",
                params={"notice": notice.id, "link": link_id},
                message_id=notice.post.message_id,
                now=now,
            )
            for link_id, person_id, platform, chat_id in chats
        ),
    )


@dataclass(frozen=True)
class NoticeSummary:
    """What a chat message about a notice says: its kind, title, deadline, a short excerpt, its thread."""

    id: int
    kind: NoticeKind
    title: str
    excerpt: str
    thread_id: int
    unit: str
    deadline: datetime | None
    meeting_start: datetime | None
    meeting_place: str | None


def summarise_notice(session: Session, notice_id: int, length: int = 280) -> NoticeSummary | None:
    notice = session.get(Notice, notice_id)
    if notice is None:
        return None
    text = " ".join(notice.post.text.split())
    excerpt = text if len(text) <= length else text[: length - 1].rsplit(" ", 1)[0] + "…"
    return NoticeSummary(
        id=notice.id,
        kind=notice.kind,
        title=notice.title,
        excerpt=excerpt,
        thread_id=notice.thread_id,
        unit=notice.unit.name if notice.unit else notice.post.author_name,
        deadline=notice.deadline,
        meeting_start=notice.meeting_start,
        meeting_place=notice.meeting_place,
    )


def load_credential(session: Session, platform: ChatPlatform) -> ChatCredential | None:
    return session.get(ChatCredential, platform, populate_existing=True)


def save_credential(
    session: Session,
    platform: ChatPlatform,
    access_token: str,
    refresh_token: str,
    expires_at: datetime | None,
    now: datetime,
) -> ChatCredential:
    row = session.get(ChatCredential, platform)
    if row is None:
        row = ChatCredential(platform=platform)
        session.add(row)
    row.access_token, row.refresh_token, row.expires_at, row.updated_at = (
        access_token,
        refresh_token,
        expires_at,
        now,
    )
    return row
