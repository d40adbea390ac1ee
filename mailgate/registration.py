"""Joining, confirming and leaving by email: the handlers for dangky-, xacnhan+, huydangky- and noreply."""

from __future__ import annotations

import re

from mailgate.pipeline import Context, Discard, Done, Reject, route_kind
from mailgate.routing import RouteKind
from models.errors import InvalidAddress, NotAMember, TokenExpired, TokenInvalid, TokenUsed, UnknownGroup
from models.groups import MembershipSource
from models.services.memberships import (
    JoinResult,
    confirm_request,
    find_by_registration,
    find_group,
    request_leave,
    request_membership,
)

_TOKEN_IN_SUBJECT = re.compile(r"xacnhan[\s:+-]+([a-z2-7]{24})\b", re.IGNORECASE)


def join(ctx: Context, local: str) -> None:
    try:
        group = find_by_registration(ctx.session, f"dangky-{local}")
    except UnknownGroup as error:
        raise Reject("unknown_group", f"không có nhóm '{local}' (no such group)") from error
    sender = ctx.parsed.sender or ""
    answer = request_membership(
        ctx.session,
        group,
        sender,
        source=MembershipSource.EMAIL,
        rules=ctx.settings.join,
        now=ctx.now,
        name=ctx.parsed.sender_name,
        in_reply_to=ctx.parsed.message_id,
    )
    if answer.result == JoinResult.LIMITED:
        raise Discard(
            f"đã gửi đủ {ctx.settings.join.confirmations_per_day} thư trong ngày tới {sender} (daily limit)"
        )
    ctx.result = f"{answer.result}: {group.slug}"


def confirm(ctx: Context, token: str) -> None:
    try:
        confirmation = confirm_request(ctx.session, token, rules=ctx.settings.join, now=ctx.now)
    except TokenExpired as error:
        raise Reject("token_expired", "mã xác nhận đã hết hạn (token expired)") from error
    except TokenUsed as error:
        raise Reject("token_used", "mã xác nhận đã được dùng (token already used)") from error
    except TokenInvalid as error:
        raise Reject("token_unknown", "mã xác nhận không đúng (unknown token)") from error
    action = "joined" if confirmation.joined else "left"
    ctx.result = f"{action}: {confirmation.membership.group.slug}"


def confirm_from_subject(ctx: Context, _: str) -> None:
    """A reply that reached noreply@ (the client ignored Reply-To) still confirms by its subject."""
    found = _TOKEN_IN_SUBJECT.search(ctx.parsed.subject)
    if found is None:
        raise Discard("thư gửi tới noreply@ không kèm mã xác nhận")
    confirm(ctx, found.group(1))


def leave(ctx: Context, local: str) -> None:
    try:
        group = find_group(ctx.session, local)
        result = request_leave(
            ctx.session,
            group,
            ctx.parsed.sender or "",
            rules=ctx.settings.join,
            now=ctx.now,
            in_reply_to=ctx.parsed.message_id,
        )
    except UnknownGroup as error:
        raise Reject("unknown_group", f"không có nhóm '{local}' (no such group)") from error
    except NotAMember as error:
        raise Reject("not_member", f"{ctx.parsed.sender} không phải thành viên nhóm {local}") from error
    if result == JoinResult.LIMITED:
        raise Discard(f"đã gửi đủ {ctx.settings.join.confirmations_per_day} thư trong ngày (daily limit)")
    ctx.result = f"leave {result}: {group.slug}"


HANDLERS = {
    RouteKind.JOIN: join,
    RouteKind.CONFIRM: confirm,
    RouteKind.NOREPLY: confirm_from_subject,
    RouteKind.LEAVE: leave,
}


def handle(ctx: Context) -> None:
    assert ctx.route is not None
    handler = HANDLERS.get(route_kind(ctx))
    if handler is None:  # posts and replies: the posting steps
        return
    try:
        handler(ctx, ctx.route.value)
    except InvalidAddress as error:
        raise Discard(
            f"địa chỉ người gửi không dùng được: {ctx.parsed.sender} (unusable sender address)"
        ) from error
    raise Done(ctx.result)
