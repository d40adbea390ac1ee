"""Joining and leaving groups: request, confirm, leave, and the keys of one-click unsubscribe links."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.errors import NotAMember, TokenInvalid, TokenUsed, UnknownGroup
from models.groups import Group, Membership, MembershipSource, MembershipState
from models.mail import Delivery
from models.people import Person
from models.services import audit, outbox
from models.services.people import find_person, get_or_add_person
from models.services.tokens import issue_token, redeem_token
from models.tokens import TokenPurpose


@dataclass(frozen=True)
class JoinRules:
    """What the site allows; wiring builds it from the settings."""

    domain: str
    confirmation_ttl: timedelta = timedelta(days=7)
    confirmations_per_day: int = 3


class JoinResult(StrEnum):
    CONFIRMATION_SENT = "confirmation_sent"
    ALREADY_MEMBER = "already_member"
    LIMITED = "limited"  # too many confirmations to this address today: nothing sent
    JOINED = "joined"  # active at once: the person had already proven the address (a linked chat)


@dataclass(frozen=True)
class JoinAnswer:
    result: JoinResult
    membership: Membership
    delivery: Delivery | None = None


def find_group(session: Session, slug: str) -> Group:
    """A group by its slug or its registration local part, case-insensitively."""
    wanted = slug.strip().lower()
    group = session.scalar(select(Group).where(func.lower(Group.slug) == wanted))
    if group is None:
        raise UnknownGroup(slug)
    return group


def find_by_registration(session: Session, local_part: str) -> Group:
    wanted = local_part.strip().lower()
    group = session.scalar(select(Group).where(func.lower(Group.registration_local) == wanted))
    if group is None:
        raise UnknownGroup(local_part)
    return group


def active_member_counts(session: Session) -> dict[int, int]:
    rows = session.execute(
        select(Membership.group_id, func.count(Membership.id))
        .where(Membership.state == MembershipState.ACTIVE)
        .group_by(Membership.group_id)
    )
    return {group_id: count for group_id, count in rows}


def active_member_count(session: Session, group: Group) -> int:
    """One group's count: counting every group's members for one page grew with the ministry's lists."""
    return (
        session.scalar(
            select(func.count(Membership.id)).where(
                Membership.group_id == group.id, Membership.state == MembershipState.ACTIVE
            )
        )
        or 0
    )


def request_membership(
    session: Session,
    group: Group,
    address: str,
    *,
    source: MembershipSource,
    rules: JoinRules,
    now: datetime,
    name: str = "",
    in_reply_to: str | None = None,
) -> JoinAnswer:
    """Ask the address to confirm; an active member is told so; past the daily limit nothing is sent."""
    person = get_or_add_person(session, address, name)
    membership = _membership(session, person, group, source, now)
    template = "already_member" if membership.state == MembershipState.ACTIVE else "confirm"
    if (
        outbox.count_recent(session, person.email, template, now - timedelta(days=1))
        >= rules.confirmations_per_day
    ):
        return JoinAnswer(JoinResult.LIMITED, membership)
    if membership.state == MembershipState.ACTIVE:
        delivery = _notify(session, membership, "already_member", rules, now, in_reply_to=in_reply_to)
        return JoinAnswer(JoinResult.ALREADY_MEMBER, membership, delivery)
    token = issue_token(
        session,
        TokenPurpose.CONFIRM_MEMBERSHIP,
        now,
        rules.confirmation_ttl,
        person=person,
        membership=membership,
    )
    delivery = outbox.enqueue(
        session,
        key=f"confirm:{membership.id}:{secrets.token_hex(4)}",
        recipient=person.email,
        person=person,
        template="confirm",
        domain=rules.domain,
        now=now,
        params={"group": group.slug, "expires_at": (now + rules.confirmation_ttl).isoformat()},
        secret=token,
        in_reply_to=in_reply_to,
    )
    audit.record(session, f"{source}:{person.email}", "membership.request", membership, group=group.slug)
    return JoinAnswer(JoinResult.CONFIRMATION_SENT, membership, delivery)


def join_at_once(
    session: Session,
    group: Group,
    person: Person,
    *,
    source: MembershipSource,
    rules: JoinRules,
    now: datetime,
) -> JoinResult:
    """Join someone whose address is already proven (a chat linked by a token sent to it) without a
    confirmation mail. A membership disabled by bounces still needs the mailbox to answer a confirmation."""
    membership = _membership(session, person, group, source, now)
    if membership.state == MembershipState.ACTIVE:
        return JoinResult.ALREADY_MEMBER
    if membership.state == MembershipState.DISABLED:
        return request_membership(session, group, person.email, source=source, rules=rules, now=now).result
    score = person.bounce_score
    activate(session, membership, now, actor=f"{source}:{person.email}")
    person.bounce_score = score  # a chat proves nothing about the mailbox
    _notify(session, membership, "welcome", rules, now)
    return JoinResult.JOINED


def _membership(
    session: Session, person: Person, group: Group, source: MembershipSource, now: datetime
) -> Membership:
    membership = session.scalar(
        select(Membership).where(Membership.person_id == person.id, Membership.group_id == group.id)
    )
    if membership is None:
        membership = Membership(
            person=person,
            group=group,
            state=MembershipState.PENDING,
            source=source,
            unsubscribe_nonce=secrets.token_hex(8),
            requested_at=now,
            updated_at=now,
        )
        session.add(membership)
        session.flush()
    elif membership.state in (MembershipState.LEFT, MembershipState.PENDING):
        membership.state = MembershipState.PENDING
        membership.source = source
        membership.requested_at = now
    return membership


@dataclass(frozen=True)
class Confirmation:
    membership: Membership
    joined: bool  # True: the membership became active; False: it ended


def confirm_request(session: Session, token: str, *, rules: JoinRules, now: datetime) -> Confirmation:
    """Redeem a confirmation token, whether it confirms joining or leaving."""
    row = redeem_token(session, token, now, TokenPurpose.CONFIRM_MEMBERSHIP, TokenPurpose.CONFIRM_LEAVE)
    membership = row.membership
    if membership is None:
        raise TokenInvalid(token)
    if row.purpose == TokenPurpose.CONFIRM_LEAVE:
        if membership.state != MembershipState.ACTIVE:
            raise TokenUsed(token)
        end_membership(session, membership, via=str(membership.source), rules=rules, now=now)
        return Confirmation(membership, joined=False)
    if membership.state == MembershipState.ACTIVE:
        raise TokenUsed(token)
    activate(session, membership, now, actor=f"{membership.source}:{membership.person.email}")
    _notify(session, membership, "welcome", rules, now)
    return Confirmation(membership, joined=True)


def activate(session: Session, membership: Membership, now: datetime, *, actor: str) -> None:
    membership.state = MembershipState.ACTIVE
    membership.confirmed_at = now
    membership.left_at = None
    membership.unsubscribe_nonce = secrets.token_hex(8)
    membership.person.bounce_score = 0  # the address just proved it receives mail
    audit.record(session, actor, "membership.confirm", membership, group=membership.group.slug)


def request_leave(
    session: Session,
    group: Group,
    address: str,
    *,
    rules: JoinRules,
    now: datetime,
    in_reply_to: str | None = None,
) -> JoinResult:
    """Ask a member to confirm leaving by reply: a forged From must not remove anyone from a group.

    (The one-click link in every group mail leaves at once: only the recipient has it.)
    """
    person = find_person(session, address)
    membership = (
        None
        if person is None
        else session.scalar(
            select(Membership).where(Membership.person_id == person.id, Membership.group_id == group.id)
        )
    )
    if membership is None or membership.state not in (MembershipState.ACTIVE, MembershipState.PENDING):
        raise NotAMember(address)
    if membership.state == MembershipState.PENDING:  # nothing was ever sent to it: just drop the request
        membership.state = MembershipState.LEFT
        membership.left_at = now
        return JoinResult.CONFIRMATION_SENT
    since = now - timedelta(days=1)
    if (
        outbox.count_recent(session, membership.person.email, "confirm_leave", since)
        >= rules.confirmations_per_day
    ):
        return JoinResult.LIMITED
    token = issue_token(
        session, TokenPurpose.CONFIRM_LEAVE, now, rules.confirmation_ttl, person=person, membership=membership
    )
    outbox.enqueue(
        session,
        key=f"confirm_leave:{membership.id}:{secrets.token_hex(4)}",
        recipient=membership.person.email,
        person=person,
        template="confirm_leave",
        domain=rules.domain,
        now=now,
        params={
            "group": group.slug,
            "membership": membership.id,
            "expires_at": (now + rules.confirmation_ttl).isoformat(),
        },
        secret=token,
        in_reply_to=in_reply_to,
    )
    return JoinResult.CONFIRMATION_SENT


def end_membership(
    session: Session,
    membership: Membership,
    *,
    via: str,
    rules: JoinRules,
    now: datetime,
    in_reply_to: str | None = None,
) -> None:
    was_active = membership.state == MembershipState.ACTIVE
    membership.state = MembershipState.LEFT
    membership.left_at = now
    membership.unsubscribe_nonce = secrets.token_hex(8)
    audit.record(
        session,
        f"{via}:{membership.person.email}",
        "membership.leave",
        membership,
        group=membership.group.slug,
    )
    if was_active:
        _notify(session, membership, "goodbye", rules, now, in_reply_to=in_reply_to)


def _notify(
    session: Session,
    membership: Membership,
    template: str,
    rules: JoinRules,
    now: datetime,
    in_reply_to: str | None = None,
) -> Delivery:
    return outbox.enqueue(
        session,
        key=f"{template}:{membership.id}:{membership.unsubscribe_nonce}:{now.isoformat()}",
        recipient=membership.person.email,
        person=membership.person,
        template=template,
        domain=rules.domain,
        now=now,
        params={"group": membership.group.slug, "membership": membership.id},
        in_reply_to=in_reply_to,
    )


def unsubscribe_key(membership: Membership, secret_key: str) -> str:
    """The key of a one-click unsubscribe link: unforgeable, and void once the person leaves or rejoins."""
    return unsubscribe_key_for(membership.id, membership.unsubscribe_nonce, secret_key)


def unsubscribe_key_for(membership_id: int, nonce: str, secret_key: str) -> str:
    return f"{membership_id}-{_mac(membership_id, nonce, secret_key)}"


def find_by_unsubscribe_key(session: Session, key: str, secret_key: str) -> Membership:
    number, _, mac = key.partition("-")
    membership = session.get(Membership, int(number)) if number.isdigit() and len(number) < 18 else None
    if membership is None or not hmac.compare_digest(
        mac.lower(), _mac(membership.id, membership.unsubscribe_nonce, secret_key)
    ):
        raise TokenInvalid(key)
    if membership.state != MembershipState.ACTIVE:
        raise NotAMember(membership.person.email)
    return membership


def _mac(membership_id: int, nonce: str, secret_key: str) -> str:
    message = f"unsubscribe:{membership_id}:{nonce}".encode()
    digest = hmac.new(secret_key.encode(), message, hashlib.sha256).digest()[:15]
    return base64.b32encode(digest).decode().lower()
