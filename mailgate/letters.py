"""Rendering an outbox row into the email its recipient receives."""

from __future__ import annotations

import email.utils
import html
import re
import textwrap
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Any

import jinja2
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailgate.addresses import bounce_address, reply_address
from mailgate.loops import LOOP_HEADER
from models import links
from models.consultations import Consultation, DraftComment, Provision, ProvisionKind
from models.groups import Group, Membership, MembershipState
from models.mail import Delivery
from models.notices import Notice
from models.posts import Post
from models.services.digests import day_entries
from models.services.memberships import find_group, unsubscribe_key
from models.site import VIETNAM, Site

_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("mailgate", "templates"),
    autoescape=False,  # plain-text mail
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class Personal:
    """What differs between two copies of a post or notice; see mailgate.shells."""

    recipient: str
    reply_to: str
    unsubscribe_key: str


def render(
    delivery: Delivery, session: Session, site: Site, personal: Personal | None = None
) -> EmailMessage:
    group = find_group(session, delivery.params["group"]) if "group" in delivery.params else None
    membership = None if personal else _membership(session, delivery)
    notice = session.get(Notice, delivery.params["notice"]) if "notice" in delivery.params else None
    post = (
        notice.post
        if notice
        else session.get(Post, delivery.params["post"])
        if "post" in delivery.params
        else None
    )
    context = _context(delivery, site, group, membership) | _notice_context(notice)
    context |= consultation_context(session, delivery, notice, site)
    if post is not None:
        context |= {"post": post, "thread_url": _thread_url(site, post)}
    if delivery.template == "digest" and group is not None:
        context |= _digest_context(session, site, group, date.fromisoformat(delivery.params["day"]))
    if personal is not None:
        context["unsubscribe_url"] = site.url(links.unsubscribe_path(personal.unsubscribe_key))
    subject, _, body = _TEMPLATES.get_template(f"{delivery.template}.txt").render(context).partition("\n\n")
    message = EmailMessage()
    message["To"] = personal.recipient if personal else delivery.recipient
    message["Subject"] = subject.strip()
    message["Date"] = email.utils.format_datetime(delivery.created_at)
    message["Message-ID"] = delivery.message_id
    if post is not None and group is not None and delivery.template != "reminder":
        _post_headers(message, delivery, site, group, post, personal)
    else:
        _system_headers(message, delivery, site, group)
    if group is not None:
        _list_headers(message, site, group, context.get("unsubscribe_url"))
    message.set_content(body.lstrip("\n"), cte="7bit" if body.isascii() else "base64")
    if delivery.template == "digest":
        message.add_alternative(_html(body), subtype="html", cte="base64")
    if notice is not None and delivery.template == "notice":
        message.add_alternative(_html(body), subtype="html", cte="base64")
        if notice.kind.is_meeting and notice.meeting_start:
            message.add_attachment(
                calendar(notice, site),
                subtype="calendar",
                filename="lich-hop.ics",
                params={"method": "PUBLISH"},
            )
    return message


def _notice_context(notice: Notice | None) -> dict[str, Any]:
    if notice is None:
        return {}
    return {
        "notice": notice,
        "kind": notice.kind.label_vi,
        "deadline": vietnam_time(notice.deadline) if notice.deadline else "",
        "meeting": vietnam_time(notice.meeting_start) if notice.meeting_start else "",
    }


def consultation_context(
    session: Session, delivery: Delivery, notice: Notice | None, site: Site
) -> dict[str, Any]:
    """A draft's period, its provisions labelled for citing, and the comment a letter is about."""
    consultation = (
        session.scalar(select(Consultation).where(Consultation.notice_id == notice.id)) if notice else None
    )
    if consultation is None:
        return {"consultation": None}
    comment = session.get(DraftComment, delivery.params["comment"]) if "comment" in delivery.params else None
    latest = consultation.versions[-1] if consultation.versions else None
    return {
        "consultation": consultation,
        "period_end": vietnam_time(consultation.closes_at),
        "consultation_url": site.url(links.consultation_path(consultation.id)),
        "draft_lines": [_labelled(p) for p in latest.provisions] if latest else [],
        "comment": comment,
        "decision": comment.decision if comment else None,
    }


def _labelled(provision: Provision) -> str:
    """ "Điều 5. Tên điều", or "  [điểm a khoản 2 Điều 5] nội dung": the label to cite beside the words."""
    if provision.kind in (ProvisionKind.CLAUSE, ProvisionKind.POINT):
        indent = "    " if provision.kind == ProvisionKind.POINT else "  "
        return f"{indent}[{provision.citation}] {provision.text}"
    title = f"{provision.label}. {provision.heading}".rstrip(". ")
    return f"\n{title}" + (f"\n  [{provision.citation}] {provision.text}" if provision.text else "")


def _digest_context(session: Session, site: Site, group: Group, day: date) -> dict[str, Any]:
    found, total = day_entries(session, group.id, day)
    entries = [
        {
            "kind": entry.notice.kind.label_vi if entry.notice else "",
            "title": entry.post.subject or "(không có chủ đề)",
            "author": entry.post.author_name or (entry.post.author.name if entry.post.author else ""),
            "time": entry.post.created_at.astimezone(VIETNAM).strftime("%H:%M"),
            "excerpt": textwrap.shorten(entry.post.text, EXCERPT, placeholder=" …"),
            "url": _thread_url(site, entry.post),
        }
        for entry in found
    ]
    return {"entries": entries, "total": total, "day": day.strftime("%d/%m/%Y")}


EXCERPT = 300  # characters of each post in a digest


def _html(text: str) -> str:
    """The text part as simple HTML: escaped, paragraphs kept, links clickable."""
    escaped = html.escape(text)
    linked = re.sub(r"(https?://[^\s<]+)", r'<a href="\1">\1</a>', escaped)
    paragraphs = "".join(f"<p>{p.replace(chr(10), '<br>')}</p>" for p in linked.split("\n\n") if p.strip())
    style = "font-family:sans-serif;line-height:1.5"
    return f'<!doctype html><html lang="vi"><body style="{style}">{paragraphs}</body></html>'


def calendar(notice: Notice, site: Site) -> str:
    """RFC 5545: the meeting as an event, so it lands in the recipient's calendar."""
    start = notice.meeting_start
    assert start is not None
    end = notice.meeting_end or start + timedelta(hours=2)
    stamp = "%Y%m%dT%H%M%SZ"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//nhomthu//vi",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:notice-{notice.id}@{site.domain}",
        f"DTSTAMP:{notice.created_at.astimezone(UTC).strftime(stamp)}",
        f"DTSTART:{start.astimezone(UTC).strftime(stamp)}",
        f"DTEND:{end.astimezone(UTC).strftime(stamp)}",
        f"SUMMARY:{_ics_text(notice.title)}",
        f"LOCATION:{_ics_text(notice.meeting_place or '')}",
        f"URL:{site.url(links.thread_path(notice.thread_id))}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(lines) + "\r\n"


def _ics_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _system_headers(message: EmailMessage, delivery: Delivery, site: Site, group: Group | None) -> None:
    message["From"] = Address(_sender_name(site, group), addr_spec=site.noreply)
    if delivery.in_reply_to:
        message["In-Reply-To"] = delivery.in_reply_to
        message["References"] = delivery.in_reply_to
    if delivery.secret and delivery.template != "sign_in":  # replying confirms; a sign-in link is only a link
        message["Reply-To"] = f"xacnhan+{delivery.secret}@{site.domain}"
    # RFC 3834: an answer to a message a person sent is auto-replied; anything else we generate is not.
    message["Auto-Submitted"] = "auto-replied" if delivery.in_reply_to else "auto-generated"
    message[LOOP_HEADER] = site.noreply


def _post_headers(
    message: EmailMessage, delivery: Delivery, site: Site, group: Group, post: Post, personal: Personal | None
) -> None:
    """A member's post as the group sends it: from the group (the author's domain would fail DMARC), with
    the author's name, and a Reply-To whose key brings the answer back to this post."""
    author = post.author_name or (post.author.name if post.author else "") or "Thành viên"
    message["From"] = Address(f"{author} qua {group.name_vi}", addr_spec=group.address(site.domain))
    message["Reply-To"] = personal.reply_to if personal else reply_address(delivery.id, site)
    if post.parent_message_id:
        message["In-Reply-To"] = post.parent_message_id
        message["References"] = post.parent_message_id
    message["Precedence"] = "list"
    message[LOOP_HEADER] = site.noreply


def _thread_url(site: Site, post: Post | None) -> str:
    return site.url(links.thread_path(post.thread_id, post.id)) if post else ""


def envelope_sender(delivery: Delivery, site: Site) -> str:
    """VERP: a bounce names the delivery it is about."""
    return bounce_address(delivery.id, site)


def _membership(session: Session, delivery: Delivery) -> Membership | None:
    number = delivery.params.get("membership")
    return session.get(Membership, number) if number else None


def _context(
    delivery: Delivery, site: Site, group: Group | None, membership: Membership | None
) -> dict[str, Any]:
    context: dict[str, Any] = {
        "site": site,
        "recipient": delivery.recipient,
        "name": delivery.person.name if delivery.person else "",
        "groups_url": site.url(links.GROUPS),
        **delivery.params,
        "group": group,
    }
    if delivery.secret:
        context["token"] = delivery.secret
        context["confirm_url"] = site.url(links.confirm_path(delivery.secret))
        context["sign_in_url"] = site.url(links.sign_in_path(delivery.secret))
    if "expires_at" in delivery.params:
        context["expires"] = vietnam_time(datetime.fromisoformat(delivery.params["expires_at"]))
    if group is not None:
        context |= {
            "group_url": site.url(links.group_path(group.slug)),
            "leave_address": group.leave_address(site.domain),
            "join_address": group.registration_address(site.domain),
        }
    if membership is not None and membership.state == MembershipState.ACTIVE:
        context["unsubscribe_url"] = site.url(
            links.unsubscribe_path(unsubscribe_key(membership, site.secret_key))
        )
    return context


def vietnam_time(moment: datetime) -> str:
    return moment.astimezone(VIETNAM).strftime("%H:%M ngày %d/%m/%Y")


def _sender_name(site: Site, group: Group | None) -> str:
    return f"Nhóm thư {group.name_vi}" if group is not None else site.name_vi


def _list_headers(message: EmailMessage, site: Site, group: Group, unsubscribe_url: str | None) -> None:
    """RFC 2919 List-Id and RFC 2369 List-* headers; one-click unsubscribe (RFC 8058) for members."""
    message["List-Id"] = f"{group.name_vi} <{group.slug}.{site.domain}>"
    message["List-Archive"] = f"<{site.url(links.group_path(group.slug))}>"
    leave = f"<mailto:{group.leave_address(site.domain)}>"
    if not unsubscribe_url:
        message["List-Unsubscribe"] = leave
        return
    message["List-Unsubscribe"] = f"<{unsubscribe_url}>, {leave}"
    if unsubscribe_url.startswith("https://"):  # RFC 8058 one-click is defined for HTTPS links only
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
