"""Bounces to bounces+<key>@: the key names the delivery (VERP), the report says whether it is permanent."""

from __future__ import annotations

import re
from email.message import Message

from flufl.bounce import all_failures

from mailgate.addresses import read_signed_key
from mailgate.pipeline import Context, Discard, Done, route_kind
from mailgate.routing import RouteKind
from models.mail import Delivery
from models.services.bounces import record_bounce

_STATUS = re.compile(rb"^Status:\s*([245])\.\d{1,3}\.\d{1,3}", re.IGNORECASE | re.MULTILINE)


def handle_bounce(ctx: Context) -> None:
    if route_kind(ctx) != RouteKind.BOUNCE:
        return
    assert ctx.route is not None
    number = read_signed_key("bounce", ctx.route.value, ctx.settings.site.secret_key)
    delivery = ctx.session.get(Delivery, number) if number else None
    if delivery is None or delivery.person is None:
        raise Discard("thư báo lỗi không khớp lần gửi nào (unknown or forged bounce key)")
    permanent = is_permanent(ctx.parsed.message, ctx.row.raw, delivery.recipient)
    if permanent is None:
        raise Discard(f"thư báo lỗi không cho biết lỗi gì cho {delivery.recipient} (not a failure report)")
    disabled = record_bounce(
        ctx.session,
        delivery.person,
        delivery,
        permanent=permanent,
        source="dsn",
        detail=ctx.parsed.subject,
        domain=ctx.settings.site.domain,
        now=ctx.now,
    )
    kind = "permanent" if permanent else "temporary"
    raise Done(f"bounce ({kind}) for {delivery.recipient}" + ("; memberships disabled" if disabled else ""))


def is_permanent(message: Message, raw: bytes, recipient: str) -> bool | None:
    """True for a permanent failure of `recipient`, False for a temporary one, None for neither."""
    temporary, permanent = all_failures(message)
    wanted = recipient.lower().encode()
    if wanted in {a.lower() for a in permanent}:
        return True
    if wanted in {a.lower() for a in temporary}:
        return False
    status = _STATUS.search(raw)  # a DSN flufl.bounce did not recognise, but whose status is plain
    if status:
        return {b"5": True, b"4": False}.get(status.group(1))
    return None
