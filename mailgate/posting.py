"""Posts by email: a new topic to <group>@, or a reply to traloi+<key>@, becomes a post in its thread.

Steps, each a no-op for the other routes: read the body, find the group (and the parent a reply key
names), identify the sender, trim the quotes, sanitise the HTML, record the post.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from mailgate.addresses import read_signed_key
from mailgate.authentication import prove_notice
from mailgate.bodies import Malformed, extract_body
from mailgate.parsing import stand_in_id
from mailgate.pipeline import Context, Discard, Done, Hold, Quarantine, route_kind
from mailgate.routing import RouteKind
from mailgate.sanitising import html_to_text, sanitise
from mailgate.trimming import trim_quotes
from models.errors import InvalidAddress, UnknownGroup
from models.groups import Group
from models.mail import Delivery
from models.notices import Notice, NoticeKind
from models.posts import Post
from models.services.consultations import answer_if_late
from models.services.fanout import deliver_post
from models.services.memberships import find_group
from models.services.notices import NoticeDraft, may_publish, publish_notice
from models.services.people import get_or_add_person
from models.services.posts import NewAttachment, NewPost, decide_state, find_post, record_post
from models.services.search import fold
from models.services.threads import DatabaseIndex, Spot, place, refs_for

POSTING = (RouteKind.POST, RouteKind.REPLY)


def attached_files(ctx: Context) -> tuple[NewAttachment, ...]:
    assert ctx.body is not None
    return tuple(
        NewAttachment(a.filename, a.content_type, a.data, a.content_id) for a in ctx.body.attachments
    )


def is_posting(ctx: Context) -> bool:
    return route_kind(ctx) in POSTING


def read_body(ctx: Context) -> None:
    if not is_posting(ctx):
        return
    try:
        ctx.body = extract_body(ctx.parsed.message)
    except Malformed as error:
        raise Quarantine(str(error)) from error


def find_group_and_parent(ctx: Context) -> None:
    if not is_posting(ctx):
        return
    assert ctx.route is not None
    if route_kind(ctx) == RouteKind.POST:
        try:
            ctx.group = find_group(ctx.session, ctx.route.value)
        except UnknownGroup as error:
            raise Discard(f"không có nhóm {ctx.route.value}") from error
        return
    parent = _replied_post(ctx, ctx.route.value) or _post_by_references(ctx)
    if parent is None:
        raise Hold("không tìm thấy bài được trả lời (unknown reply key and references)")
    ctx.group = ctx.session.get(Group, parent.group_id)
    ctx.reply_parent = Spot(parent.id, parent.thread_id)


def _replied_post(ctx: Context, key: str) -> Post | None:
    """The post a traloi+ key names through the delivery it was sent by."""
    delivery_id = read_signed_key("reply", key, ctx.settings.site.secret_key)
    delivery = ctx.session.get(Delivery, delivery_id) if delivery_id else None
    kind, _, number = (delivery.message_key if delivery else "").partition(":")
    if not number.isdigit():
        return None
    if kind == "notice":
        notice = ctx.session.get(Notice, int(number))
        return notice.post if notice else None
    return ctx.session.get(Post, int(number)) if kind == "post" else None


def _post_by_references(ctx: Context) -> Post | None:
    """A reply whose key was lost or mangled still finds its parent by the ids it quotes."""
    wanted = [m for m in (ctx.parsed.in_reply_to, *reversed(ctx.parsed.references)) if m]
    for message_id in wanted:
        found = ctx.session.scalars(select(Post).where(Post.message_id == message_id).limit(1)).first()
        if found is not None:
            return found
    return None


def identify_sender(ctx: Context) -> None:
    if not is_posting(ctx):
        return
    try:
        ctx.author = get_or_add_person(ctx.session, ctx.parsed.sender or "", ctx.parsed.sender_name)
    except InvalidAddress as error:
        raise Discard(f"địa chỉ người gửi không dùng được: {ctx.parsed.sender}") from error


def trim(ctx: Context) -> None:
    if not is_posting(ctx) or ctx.body is None:
        return
    text = ctx.body.text if ctx.body.text is not None else html_to_text(ctx.body.html or "")
    trimmed = trim_quotes(text)
    ctx.text, ctx.quoted = trimmed.text, trimmed.removed


def clean_html(ctx: Context) -> None:
    if is_posting(ctx) and ctx.body is not None and ctx.body.html:
        ctx.html = sanitise(ctx.body.html)


def record(ctx: Context) -> None:
    if not is_posting(ctx):
        return
    assert ctx.group is not None and ctx.body is not None
    mail = ctx.parsed
    message_id = mail.message_id or stand_in_id(ctx.row.raw)
    existing = find_post(ctx.session, ctx.group, message_id)
    if existing is not None:
        raise Discard(f"đã có trong nhóm: bài #{existing.id} (same Message-ID)")
    refs = refs_for(message_id, mail.in_reply_to, mail.references, mail.subject)
    placement = place(refs, DatabaseIndex(ctx.session, ctx.group.id, ctx.now), ctx.reply_parent)
    state, reason = decide_state(ctx.session, ctx.group, ctx.author, new_topic=placement.thread_id is None)
    new = NewPost(
        refs=refs,
        subject=mail.subject,
        text=ctx.text,
        quoted=ctx.quoted,
        html=ctx.html,
        author=ctx.author,
        author_name=mail.sender_name,
        sent_at=mail.date,
        inbound_id=ctx.row.id,
        attachments=attached_files(ctx),
    )
    post = record_post(ctx.session, ctx.group, new, placement, state=state, reason=reason, now=ctx.now)
    deliver_post(ctx.session, post, ctx.group, ctx.now)
    answer_if_late(ctx.session, post, ctx.settings.site.domain, ctx.now)
    if state != "visible":
        raise Hold(f"bài #{post.id}: {reason}")
    ctx.result = f"post #{post.id} in thread #{post.thread_id} ({placement.how})"


def publish_by_email(ctx: Context) -> None:
    """A publisher's new message to <group>@ goes out as a notice, once the sender is proven (DKIM or our
    server's DMARC result); unproven, it is held: a forged From never reaches the members."""
    if (
        route_kind(ctx) != RouteKind.POST
        or ctx.group is None
        or not may_publish(ctx.session, ctx.author, ctx.group)
    ):
        return
    assert ctx.author is not None and ctx.body is not None
    settings = ctx.settings
    proof = prove_notice(
        ctx.parsed,
        ctx.row.raw,
        group_address=f"{ctx.group.slug}@{settings.site.domain}",
        now=ctx.now,
        trusted_authserv_id=settings.trusted_authserv_id,
        dns=settings.dkim_dns,
        max_age=settings.notice_max_age,
    )
    if proof.how is None:
        raise Hold(f"thư đăng thông báo chưa xác thực được: {proof.why_not}")
    kind, title = notice_kind(ctx.parsed.subject)
    body = ctx.body.text if ctx.body.text is not None else html_to_text(ctx.body.html or "")
    draft = NoticeDraft(
        kind=kind,
        title=title,
        body=body.strip(),
        groups=(ctx.group,),
        attachments=attached_files(ctx),
    )
    notice = publish_notice(
        ctx.session,
        draft,
        ctx.author,
        unit=ctx.author.organisation,
        domain=settings.site.domain,
        now=ctx.now,
        message_id=ctx.parsed.message_id,
        rules=settings.consultation,
    )
    raise Done(f"notice #{notice.id} ({kind.value}, sender proven by {proof.how})")


def notice_kind(subject: str) -> tuple[NoticeKind, str]:
    """A "[Công văn] …" tag in the subject names the kind; without one it is a thông báo."""
    tag = re.match(r"^\s*\[([^\]]{2,40})\]\s*(.*)$", subject)
    if tag:
        wanted = fold(tag.group(1)).strip()
        for kind in NoticeKind:
            if fold(kind.label_vi) == wanted:
                return kind, tag.group(2).strip() or subject
    return NoticeKind.NOTICE, subject


STEPS = (read_body, find_group_and_parent, identify_sender, trim, clean_html, publish_by_email, record)
