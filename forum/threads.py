"""A group's topics, a topic's posts, and replying on the web."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy import Row, bindparam, func, select
from werkzeug.wrappers import Response

from forum.auth import current_person, signed_in
from forum.chats import chat_section
from forum.settings import web_settings
from models import Group, Organisation, Person, Post, PostAttachment, Thread, db, utcnow
from models.errors import UnknownGroup
from models.notices import Notice, NoticeGroup
from models.posts import PostState
from models.services.consultations import consultation_of_thread
from models.services.digests import active_membership
from models.services.memberships import active_member_count, find_group
from models.services.notices import answer_table
from models.services.roles import can_moderate, is_member
from models.services.webposts import WebReplyRefused, reply_on_web, start_topic
from models.site import VIETNAM

blueprint = Blueprint("threads", __name__)
PER_PAGE = 30
MAX_DEPTH = 4  # deeper replies are shown at this depth, so a long exchange stays readable on a phone


@dataclass(frozen=True, slots=True)
class Attached:
    id: int
    filename: str
    size: int


@dataclass(frozen=True, slots=True)
class Shown:
    """A post as the thread page shows it: plain values, not an ORM entity (a 200-post thread loaded ~600
    entities, which cost as much as rendering the page)."""

    id: int
    depth: int
    author_id: int | None
    author: str  # the name the post was signed with, else the person's; "" when neither is known
    organisation: str | None
    created_at: datetime
    held: bool
    state_reason: str | None
    text: str
    quoted: str
    attachments: list[Attached]

    # Formatted here, not in the template: a call from a template costs several times a call from Python.
    @property
    def machine_time(self) -> str:
        return self.created_at.isoformat(timespec="seconds")

    @property
    def local_time(self) -> str:
        return self.created_at.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M")


@blueprint.get("/nhom/<slug>")
def group(slug: str) -> str:
    try:
        found = find_group(db.session, slug)
    except UnknownGroup:
        abort(404)
    page = max(request.args.get("trang", 1, type=int), 1)
    threads = db.session.scalars(
        select(Thread)
        .where(Thread.group_id == found.id, Thread.post_count > 0)
        .order_by(Thread.last_post_at.desc(), Thread.id.desc())
        .limit(PER_PAGE + 1)
        .offset((page - 1) * PER_PAGE)
    ).all()
    notices = (
        db.session.scalars(
            select(Notice)
            .join(NoticeGroup, NoticeGroup.notice_id == Notice.id)
            .where(NoticeGroup.group_id == found.id)
            .order_by(Notice.created_at.desc())
            .limit(10)
        ).all()
        if page == 1
        else []
    )
    return render_template(
        "group.html",
        group=found,
        notices=notices,
        threads=threads[:PER_PAGE],
        page=page,
        more=len(threads) > PER_PAGE,
        count=active_member_count(db.session, found),
        domain=web_settings().site.domain,
        member=is_member(db.session, current_person(), found),
        membership=active_membership(db.session, current_person(), found),
    )


@blueprint.get("/chu-de/<int:thread_id>")
def thread(thread_id: int) -> str:
    # The thread, its group and the notice it may carry, in one round trip.
    found, group, notice = db.session.execute(
        select(Thread, Group, Notice)
        .join(Group, Group.id == Thread.group_id)
        .outerjoin(Notice, Notice.thread_id == Thread.id)
        .where(Thread.id == thread_id)
    ).first() or abort(404)
    person = current_person()
    moderator = can_moderate(db.session, person, group)
    shown = in_reply_order(found, include_held=moderator)
    if not shown:
        abort(404)
    sees_answers = (
        notice is not None
        and notice.answer_required
        and (moderator or (person is not None and person.id == notice.publisher_id))
    )
    return render_template(
        "thread.html",
        thread=found,
        group=group,
        shown=shown,
        moderator=moderator,
        notice=notice,
        answers=answer_table(db.session, notice) if sees_answers and notice else None,
        consultation=consultation_of_thread(db.session, found.id) if notice else None,
        member=is_member(db.session, person, group),
    )


def in_reply_order(thread: Thread, include_held: bool) -> list[Shown]:
    """Depth first: each post followed by its replies, oldest first, depth capped."""
    states = (PostState.VISIBLE, PostState.HELD) if include_held else (PostState.VISIBLE,)
    rows = post_rows(thread.id, states)
    ids = {row[0] for row in rows}
    attached = attachments_by_post(ids)
    children: dict[int | None, list[Row[Any]]] = {}
    for row in rows:
        children.setdefault(row[1] if row[1] in ids else None, []).append(row)
    shown: list[Shown] = []
    stack = [(row, 0) for row in reversed(children.get(None, []))]
    while stack:
        row, depth = stack.pop()
        shown.append(as_shown(row, min(depth, MAX_DEPTH), attached.get(row[0], [])))
        stack += [(child, depth + 1) for child in reversed(children.get(row[0], []))]
    return shown


def as_shown(row: Row[Any], depth: int, attachments: list[Attached]) -> Shown:
    # Unpacked, not read by name: a Row's attributes cost ~1 µs each, 2 ms for a 200-post thread.
    post_id, _, author_id, signed_as, name, organisation, created_at, state, reason, text, quoted = row
    return Shown(
        post_id,
        depth,
        author_id,
        signed_as or name or "",
        organisation,
        created_at,
        state == PostState.HELD,
        reason,
        text,
        quoted,
        attachments,
    )


def post_rows(thread_id: int, states: tuple[PostState, ...]) -> Sequence[Row[Any]]:
    """The thread's posts oldest first, as rows of what the page shows: id, parent id, author id, the name
    the post was signed with, the author's name and organisation, time, state and reason, text, quote."""
    # The author's name and organisation by primary key, post by post: joined instead, PostgreSQL read the
    # whole person table to hash it (10 ms at 20,000 people), for the 200 rows the page needs.
    person_name = select(Person.name).where(Person.id == Post.author_id).scalar_subquery()
    organisation = (
        select(Organisation.name)
        .join(Person, Person.organisation_id == Organisation.id)
        .where(Person.id == Post.author_id)
        .scalar_subquery()
    )
    return db.session.execute(
        select(
            Post.id,
            Post.parent_id,
            Post.author_id,
            Post.author_name,
            person_name,
            organisation,
            Post.created_at,
            Post.state,
            Post.state_reason,
            Post.text,
            Post.quoted,
        )
        .where(Post.thread_id == thread_id, Post.state.in_(states))
        .order_by(Post.created_at, Post.id)
    ).all()


def attachments_by_post(post_ids: Collection[int]) -> dict[int, list[Attached]]:
    """The files attached to these posts, in one query (the file contents stay in the database)."""
    # By post id, not by a join on the thread: joined, PostgreSQL hashed the whole attachment table. The ids
    # are written into the SQL (integers from our own rows): as 200 bound parameters they cost 1 ms more.
    found: dict[int, list[Attached]] = {}
    if not post_ids:
        return found
    ids = bindparam("post_ids", sorted(post_ids), literal_execute=True)
    for post_id, *attachment in db.session.execute(
        select(PostAttachment.post_id, PostAttachment.id, PostAttachment.filename, PostAttachment.size)
        .where(PostAttachment.post_id.in_(ids))
        .order_by(PostAttachment.id)
    ):
        found.setdefault(post_id, []).append(Attached(*attachment))
    return found


@blueprint.post("/chu-de/<int:thread_id>/tra-loi")
@signed_in
def reply(thread_id: int) -> Response | tuple[str, int]:
    found = db.session.get(Thread, thread_id) or abort(404)
    parent = db.session.get(Post, request.form.get("parent", type=int) or 0)
    person = current_person()
    assert person is not None
    try:
        post = reply_on_web(
            db.session,
            found,
            parent,
            person,
            request.form.get("text", ""),
            domain=web_settings().site.domain,
            now=utcnow(),
        )
    except WebReplyRefused as refusal:
        db.session.rollback()
        return render_template("message.html", title=gettext("Chưa gửi được"), text=str(refusal)), 400
    db.session.commit()
    return redirect(url_for("threads.thread", thread_id=found.id, _anchor=f"bai-{post.id}"))


@blueprint.post("/nhom/<slug>/chu-de-moi")
@signed_in
def start(slug: str) -> Response | tuple[str, int]:
    try:
        found = find_group(db.session, slug)
    except UnknownGroup:
        abort(404)
    person = current_person()
    assert person is not None
    try:
        post = start_topic(
            db.session,
            found,
            person,
            request.form.get("subject", ""),
            request.form.get("text", ""),
            domain=web_settings().site.domain,
            now=utcnow(),
        )
    except WebReplyRefused as refusal:
        db.session.rollback()
        return render_template("message.html", title=gettext("Chưa gửi được"), text=str(refusal)), 400
    db.session.commit()
    return redirect(url_for("threads.thread", thread_id=post.thread_id))


@blueprint.get("/nguoi/<int:person_id>")
def person(person_id: int) -> str:

    found = db.session.get(Person, person_id) or abort(404)
    posts = db.session.scalars(
        select(Post)
        .where(Post.author_id == found.id, Post.state == PostState.VISIBLE)
        .order_by(Post.created_at.desc())
        .limit(50)
    ).all()
    total = db.session.scalar(
        select(func.count(Post.id)).where(Post.author_id == found.id, Post.state == PostState.VISIBLE)
    )
    return render_template("person.html", person=found, posts=posts, total=total, **chat_section(found))
