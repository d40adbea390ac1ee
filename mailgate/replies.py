"""Polite answers to mail we refuse: one table of reason → template, at most one per sender, reason, day."""

from __future__ import annotations

from datetime import timedelta

from mailgate.pipeline import Context, Reject
from models.mail import Delivery
from models.services import outbox
from models.services.people import find_person

TEMPLATES = {
    "unknown_group": "reject_unknown_group",
    "token_expired": "reject_token_expired",
    "token_used": "reject_token_used",
    "token_unknown": "reject_token_unknown",
    "not_member": "reject_not_member",
}


def answer_rejection(ctx: Context, rejection: Reject) -> Delivery | None:
    """Queue the answer for this reason unless this sender already had it in the last day."""
    sender = ctx.parsed.sender
    template = TEMPLATES[rejection.code]
    if sender is None or outbox.count_recent(ctx.session, sender, template, ctx.now - timedelta(days=1)):
        return None
    return outbox.enqueue(
        ctx.session,
        key=f"reject:{ctx.row.id}",
        recipient=sender,
        person=find_person(ctx.session, sender),
        template=template,
        domain=ctx.settings.site.domain,
        now=ctx.now,
        params={
            "reason": rejection.reason,
            "address": ctx.row.recipient or "",
        },
        in_reply_to=ctx.parsed.message_id,
    )
