"""The read-only JSON API, described by an OpenAPI document at /api/openapi.json.

Public data only: the groups, the visible posts of their threads, and the notices. A held or
rejected post never appears, and a thread's counts and times are computed from its visible posts,
whatever the stored totals say. Every answer is UTF-8 JSON with Vietnamese left readable, open to any origin.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, request, url_for
from sqlalchemy import Row, func, select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from forum.settings import web_settings
from models import Group, Person, Post, PostAttachment, Thread, db, links
from models.errors import UnknownGroup
from models.notices import Notice, NoticeGroup, NoticeKind
from models.posts import PostState
from models.services.memberships import active_member_counts, find_group
from models.services.search import Filters
from models.services.search import search as search_posts

blueprint = Blueprint("api", __name__, url_prefix="/api")

JSON = "application/json; charset=utf-8"
OPENAPI = Path(__file__).with_name("openapi.json")
PAGE_SIZE = 50
MAX_PAGE_DIGITS = 6  # a page past 999,999 is a mistake, not a reason to ask the database
SEARCH_LIMIT = 50
MAX_QUERY = 200
EXCERPT = 280

Json = dict[str, Any]


def json_response(body: Json, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, content_type=JSON)


def instant(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def absolute(path: str) -> str:
    return web_settings().site.url(path)


@blueprint.after_request
def allow_any_origin(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"  # public, read-only data
    return response


@blueprint.errorhandler(UnknownGroup)
def unknown_group(error: UnknownGroup) -> Response:
    return json_response({"error": "không tìm thấy"}, 404)


@blueprint.errorhandler(HTTPException)
def http_error(error: HTTPException) -> Response:
    message = "không tìm thấy" if error.code == 404 else error.description
    return json_response({"error": message}, error.code or 500)


@blueprint.get("/openapi.json")
def openapi() -> Response:
    document = {**openapi_document(), "servers": [{"url": web_settings().site.base_url}]}
    return json_response(document)


@cache
def openapi_document() -> Json:
    document: Json = json.loads(OPENAPI.read_text(encoding="utf-8"))
    return document


@blueprint.get("/groups")
def groups() -> Response:
    counts = active_member_counts(db.session)
    rows = db.session.scalars(select(Group).order_by(Group.id)).all()
    return json_response({"groups": [group_json(group, counts.get(group.id, 0)) for group in rows]})


def group_json(group: Group, member_count: int) -> Json:
    return {
        "slug": group.slug,
        "name_vi": group.name_vi,
        "name_en": group.name_en,
        "audience_vi": group.audience_vi,
        "registration_address": group.registration_address(web_settings().site.domain),
        "member_count": member_count,
        "url": absolute(links.group_path(group.slug)),
        "threads_url": absolute(url_for("api.group_threads", slug=group.slug)),
        "feed_url": absolute(url_for("feeds.group_feed", slug=group.slug)),
    }


@blueprint.get("/groups/<slug>/threads")
def group_threads(slug: str) -> Response:
    group = find_group(db.session, slug)
    page = page_number()
    rows = visible_threads(group, page)
    more = len(rows) > PAGE_SIZE
    return json_response(
        {
            "group": group.slug,
            "page": page,
            "per_page": PAGE_SIZE,
            "threads": [thread_json(row) for row in rows[:PAGE_SIZE]],
            "prev": page_url(group, page - 1) if page > 1 else None,
            "next": page_url(group, page + 1) if more else None,
        }
    )


def page_number() -> int:
    raw = request.args.get("page", "1")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > MAX_PAGE_DIGITS or int(raw) < 1:
        abort(400, "page phải là số nguyên dương (page must be a positive integer)")
    return int(raw)


def page_url(group: Group, page: int) -> str:
    return absolute(url_for("api.group_threads", slug=group.slug, page=page))


def visible_threads(group: Group, page: int) -> Sequence[Row[Any]]:
    """One page of the group's threads that have a visible post, newest activity first, one row more
    than a page to tell whether another follows."""
    shown = (
        select(
            Post.thread_id,
            func.count(Post.id).label("post_count"),
            func.min(Post.created_at).label("started_at"),
            func.max(Post.created_at).label("last_post_at"),
        )
        .where(Post.group_id == group.id, Post.state == PostState.VISIBLE)
        .group_by(Post.thread_id)
        .subquery()
    )
    return db.session.execute(
        select(Thread.id, Thread.subject, shown.c.post_count, shown.c.started_at, shown.c.last_post_at)
        .join(shown, shown.c.thread_id == Thread.id)
        .order_by(shown.c.last_post_at.desc(), Thread.id.desc())
        .limit(PAGE_SIZE + 1)
        .offset((page - 1) * PAGE_SIZE)
    ).all()


def thread_json(row: Row[Any]) -> Json:
    return {
        "id": row.id,
        "subject": row.subject,
        "post_count": row.post_count,
        "started_at": instant(row.started_at),
        "last_post_at": instant(row.last_post_at),
        "url": absolute(links.thread_path(row.id)),
    }


@blueprint.get("/threads/<int:thread_id>")
def thread(thread_id: int) -> Response:
    found = db.session.get(Thread, thread_id)
    posts = visible_posts(thread_id) if found is not None else []
    if found is None or not posts:
        abort(404)
    shown = {post.id for post in posts}
    return json_response(
        {
            "id": found.id,
            "group": found.group.slug,
            "subject": found.subject,
            "post_count": len(posts),
            "started_at": instant(posts[0].created_at),
            "last_post_at": instant(posts[-1].created_at),
            "url": absolute(links.thread_path(found.id)),
            "posts": [post_json(post, shown) for post in posts],
        }
    )


def visible_posts(thread_id: int) -> Sequence[Post]:
    return db.session.scalars(
        select(Post)
        .where(Post.thread_id == thread_id, Post.state == PostState.VISIBLE)
        .order_by(Post.created_at, Post.id)
        .options(
            selectinload(Post.author).selectinload(Person.organisation),
            selectinload(Post.attachments),
        )
    ).all()


def post_json(post: Post, shown: set[int]) -> Json:
    """A visible post; its parent_id is null when the parent is not shown (held, or rejected)."""
    organisation = post.author.organisation if post.author is not None else None
    return {
        "id": post.id,
        "parent_id": post.parent_id if post.parent_id in shown else None,
        "author_name": post.author_name,
        "organisation": organisation.name if organisation is not None else None,
        "subject": post.subject,
        "text": post.text,
        "quoted": post.quoted,
        "html": post.html,
        "sent_at": instant(post.sent_at),
        "created_at": instant(post.created_at),
        "url": absolute(links.thread_path(post.thread_id, post.id)),
        "attachments": [attachment_json(attachment) for attachment in post.attachments],
    }


def attachment_json(attachment: PostAttachment) -> Json:
    return {
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "url": absolute(links.attachment_path(attachment.id, attachment.filename)),
    }


@blueprint.get("/notices")
def notices() -> Response:
    """The newest visible notices, 50 at most; `group` (a slug) and `kind` narrow them."""
    query = (
        select(Notice)
        .join(Post, Post.id == Notice.post_id)
        .where(Post.state == PostState.VISIBLE)
        .options(selectinload(Notice.groups), selectinload(Notice.unit))
        .order_by(Notice.id.desc())
        .limit(PAGE_SIZE)
    )
    if slug := request.args.get("group"):
        group = find_group(db.session, slug)
        published_to = select(NoticeGroup.notice_id).where(NoticeGroup.group_id == group.id)
        query = query.where(Notice.id.in_(published_to))
    if kind := notice_kind():
        query = query.where(Notice.kind == kind)
    return json_response({"notices": [notice_json(notice) for notice in db.session.scalars(query)]})


def notice_kind() -> NoticeKind | None:
    value = request.args.get("kind")
    if not value:
        return None
    if value not in set(NoticeKind):
        kinds = ", ".join(NoticeKind)
        abort(400, f"kind phải là một trong (must be one of): {kinds}")
    return NoticeKind(value)


def notice_json(notice: Notice) -> Json:
    return {
        "id": notice.id,
        "kind": notice.kind.value,
        "kind_label_vi": notice.kind.label_vi,
        "title": notice.title,
        "groups": sorted(group.slug for group in notice.groups),
        "unit": notice.unit.name if notice.unit else None,
        "answer_required": notice.answer_required,
        "deadline": instant(notice.deadline),
        "meeting_start": instant(notice.meeting_start),
        "meeting_end": instant(notice.meeting_end),
        "meeting_place": notice.meeting_place,
        "created_at": instant(notice.created_at),
        "thread_id": notice.thread_id,
        "url": absolute(links.thread_path(notice.thread_id)),
    }


@blueprint.get("/search")
def search() -> Response:
    """Visible posts by words, ranked, insensitive to diacritics and case (models.services.search)."""
    words = unicodedata.normalize("NFC", request.args.get("q", "")).strip()
    if not words or len(words) > MAX_QUERY:
        abort(400, f"q phải có từ 1 đến {MAX_QUERY} ký tự (q must be 1 to {MAX_QUERY} characters)")
    slug = request.args.get("group")
    kind = notice_kind()
    filters = Filters(
        group_id=find_group(db.session, slug).id if slug else None, kind=kind.value if kind else None
    )
    hits = search_posts(db.session, words, filters, limit=SEARCH_LIMIT)
    slugs = {row.id: row.slug for row in db.session.execute(select(Group.id, Group.slug))}
    results = [hit_json(hit.post, slugs[hit.post.group_id]) for hit in hits]
    return json_response({"q": words, "results": results})


def hit_json(post: Post, slug: str) -> Json:
    return {
        "id": post.id,
        "thread_id": post.thread_id,
        "group": slug,
        "subject": post.subject,
        "author_name": post.author_name,
        "excerpt": post.text[:EXCERPT],
        "created_at": instant(post.created_at),
        "url": absolute(links.thread_path(post.thread_id, post.id)),
    }
