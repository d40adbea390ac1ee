"""The search page: posts by words, insensitive to diacritics, filtered by group, author, date and
notice kind."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, render_template, request
from sqlalchemy import select

from forum.notices import KIND_LABELS
from models import Group, db
from models.notices import NoticeKind
from models.services.search import Filters, search

blueprint = Blueprint("searching", __name__)
PER_PAGE = 20


@blueprint.get("/tim-kiem")
def page() -> str:
    query = request.args.get("q", "").strip()
    groups = db.session.scalars(select(Group).order_by(Group.id)).all()
    slug = request.args.get("nhom", "")
    group = next((g for g in groups if g.slug == slug), None)
    number = max(request.args.get("trang", 1, type=int), 1)
    kind = request.args.get("loai", "")
    filters = Filters(
        group_id=group.id if group else None,
        author_id=request.args.get("tac_gia", type=int),
        since=_day(request.args.get("tu")),
        until=_day(request.args.get("den"), end=True),
        kind=kind if kind in set(NoticeKind) else None,
    )
    hits = (
        search(db.session, query, filters, limit=PER_PAGE + 1, offset=(number - 1) * PER_PAGE)
        if query
        else []
    )
    return render_template(
        "search.html",
        query=query,
        hits=hits[:PER_PAGE],
        more=len(hits) > PER_PAGE,
        page=number,
        groups=groups,
        slug=slug,
        kind=kind,
        kinds=KIND_LABELS,
        args=request.args,
        next_args={**request.args.to_dict(), "trang": number + 1},
    )


def _day(value: str | None, end: bool = False) -> datetime | None:
    try:
        day = datetime.strptime(value or "", "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None
    return day.replace(hour=23, minute=59, second=59) if end else day
