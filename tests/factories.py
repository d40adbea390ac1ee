"""Plain functions that make what tests need: mail as a client would write it."""

from __future__ import annotations

import email.utils
from datetime import datetime
from email.message import EmailMessage

from models import Membership, Person, Post, db, utcnow
from models.groups import MembershipSource, MembershipState, PostPolicy
from models.posts import PostState
from models.services.memberships import find_group
from models.services.people import get_or_add_person
from models.services.posts import NewAttachment, NewPost, record_post
from models.services.threads import Placement, Spot, refs_for
from tests.conftest import DOMAIN


def address(name: str) -> str:
    """`address("An")` → `an@truong.edu.vn`."""
    return f"{name.lower()}@truong.edu.vn"


def make_mail(
    sender: str, to: str, subject: str = "Đăng ký", body: str = "Xin đăng ký.", **headers: str
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = email.utils.formatdate()
    message["Message-ID"] = email.utils.make_msgid(domain="truong.edu.vn")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes()


def reply_to(
    original: EmailMessage, sender: str, body: str = "Đồng ý", *, honour_reply_to: bool = True
) -> bytes:
    """What pressing Reply produces: to the Reply-To (or From), Re: subject, quoting the original."""
    target = original["Reply-To"] if honour_reply_to and original["Reply-To"] else original["From"]
    quoted = "\n".join("> " + line for line in original.get_body(("plain",)).get_content().splitlines())
    return make_mail(
        sender,
        email.utils.parseaddr(str(target))[1],
        subject=f"Re: {original['Subject']}",
        body=f"{body}\n\nVào lúc 09:12 22/11/2026, {original['From']} đã viết:\n{quoted}\n",
        In_Reply_To=str(original["Message-ID"]),
        References=str(original["Message-ID"]),
    )


def ours(local: str) -> str:
    return f"{local}@{DOMAIN}"


def make_member(name: str, slug: str = "thpt") -> Person:
    """An active member: `make_member("An")` → an@truong.edu.vn in the group."""
    group = find_group(db.session, slug)
    person = get_or_add_person(db.session, address(name), name)
    db.session.add(
        Membership(
            person=person,
            group=group,
            state=MembershipState.ACTIVE,
            source=MembershipSource.IMPORT,
            unsubscribe_nonce="test",
            requested_at=utcnow(),
            confirmed_at=utcnow(),
        )
    )
    db.session.commit()
    return person


def open_discussion(slug: str = "thpt") -> None:
    """Let members start topics in the group (the standard groups are announce-only)."""
    find_group(db.session, slug).post_policy = PostPolicy.MEMBERS
    db.session.commit()


def make_post(
    text: str,
    *,
    subject: str = "Lịch thi",
    reply_to: Post | None = None,
    author: Person | None = None,
    author_name: str | None = None,
    slug: str = "thpt",
    message_id: str | None = None,
    quoted: str = "",
    state: PostState = PostState.VISIBLE,
    reason: str = "",
    at: datetime | None = None,
    attachments: tuple[NewAttachment, ...] = (),
) -> Post:
    """A post as the mail gateway records one: a new topic, or a reply under `reply_to`, committed."""
    refs = refs_for(
        message_id or email.utils.make_msgid(domain="truong.edu.vn"),
        reply_to.message_id if reply_to else None,
        [],
        subject,
    )
    placement = (
        Placement(Spot(reply_to.id, reply_to.thread_id), reply_to.thread_id, "in-reply-to")
        if reply_to
        else Placement(None, None, "new")
    )
    name = author_name if author_name is not None else (author.name if author else "")
    new = NewPost(
        refs, subject, text, quoted=quoted, author=author, author_name=name, attachments=attachments
    )
    post = record_post(
        db.session,
        find_group(db.session, slug),
        new,
        placement,
        state=state,
        reason=reason,
        now=at or utcnow(),
    )
    db.session.commit()
    return post
