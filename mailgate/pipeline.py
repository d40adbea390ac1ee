"""The inbound pipeline: an explicit tuple of small steps run by one short loop.

Each step may raise Discard, Hold, Reject or Quarantine with a reason; the loop stores the outcome,
the step's name and the reason on the inbound row, in the same transaction as whatever the message
caused. A crash rolls all of it back, so the message is simply processed again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailgate.bodies import Body
from mailgate.loops import why_not_answer, why_not_post
from mailgate.parsing import ParsedMail, Unreadable, parse
from mailgate.routing import Route, RouteKind, find_route
from mailgate.settings import MailSettings
from models.groups import Group
from models.mail import InboundMessage, InboundState, Outcome
from models.people import Person
from models.services.threads import Spot

log = logging.getLogger(__name__)


class Stop(Exception):
    outcome = Outcome.PROCESSED

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Done(Stop):
    """The message is fully handled; the steps after this one do not apply to it."""


class Discard(Stop):
    outcome = Outcome.IGNORED


class Hold(Stop):
    outcome = Outcome.HELD


class Quarantine(Stop):
    outcome = Outcome.QUARANTINED


class Reject(Stop):
    """Refuse, and tell the sender politely why (mailgate.replies: one answer per sender, reason, day)."""

    outcome = Outcome.REJECTED

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code


@dataclass
class Context:
    session: Session
    settings: MailSettings
    row: InboundMessage
    now: datetime
    mail: ParsedMail | None = None
    route: Route | None = None
    result: str = ""  # what the handling step did, for the row's reason
    # Filled in by the posting steps:
    body: Body | None = None
    group: Group | None = None
    reply_parent: Spot | None = None
    author: Person | None = None
    text: str = ""
    quoted: str = ""
    html: str | None = None

    @property
    def parsed(self) -> ParsedMail:
        assert self.mail is not None, "parse runs first"
        return self.mail


Step = Callable[[Context], None]


def parse_message(ctx: Context) -> None:
    try:
        ctx.mail = parse(ctx.row.raw)
    except Unreadable as error:
        raise Quarantine(str(error)) from error
    ctx.row.sender = ctx.mail.sender
    ctx.row.subject = ctx.mail.subject[:2000]


def drop_automatic(ctx: Context) -> None:
    """Robots, loops and lists are never answered nor posted; bounces to bounces+ wait for the bounce step."""
    kind = route_kind(ctx)
    if kind == RouteKind.BOUNCE:
        return
    judge = why_not_post if kind in (RouteKind.POST, RouteKind.REPLY) else why_not_answer
    reason = judge(ctx.parsed, ctx.settings.site.domain)
    if reason:
        raise Discard(reason)


def route_message(ctx: Context) -> None:
    groups = {slug.lower() for slug in ctx.session.scalars(select(Group.slug))}
    ctx.route = find_route(ctx.parsed.message, ctx.settings.site.domain, lambda local: local in groups)
    if ctx.route is None:
        raise Discard("không gửi tới địa chỉ nào của hệ thống (no address of ours)")
    ctx.row.recipient = ctx.route.address


def drop_repeats(ctx: Context) -> None:
    """The same Message-ID to the same address again (a resend, a second copy) is acted on once."""
    if ctx.parsed.message_id is None:
        return
    first = ctx.session.scalar(
        select(InboundMessage.id).where(
            InboundMessage.message_id == ctx.row.message_id,
            InboundMessage.recipient == ctx.row.recipient,
            InboundMessage.state == InboundState.DONE,
            InboundMessage.id != ctx.row.id,
        )
    )
    if first is not None:
        raise Discard(f"bản sao của thư #{first} (same Message-ID)")


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    step: str
    reason: str
    rejection: Reject | None = None


def run(ctx: Context, steps: tuple[Step, ...]) -> Verdict:
    """Run the steps in order until one stops the message or all have run."""
    for step in steps:
        try:
            step(ctx)
        except Reject as rejection:
            return Verdict(rejection.outcome, step.__name__, rejection.reason, rejection)
        except Stop as stop:
            return Verdict(stop.outcome, step.__name__, stop.reason)
    return Verdict(Outcome.PROCESSED, steps[-1].__name__, ctx.result)


def route_kind(ctx: Context) -> RouteKind:
    assert ctx.route is not None, "route_message runs first"
    return ctx.route.kind
