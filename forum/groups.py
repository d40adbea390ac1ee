"""The groups and how to join them."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from sqlalchemy import select

from forum.settings import web_settings
from models import Group, db
from models.errors import UnknownGroup
from models.services.memberships import active_member_counts, find_group

blueprint = Blueprint("groups", __name__)


@blueprint.get("/")
def index() -> str:
    groups = db.session.scalars(select(Group).order_by(Group.id)).all()
    return render_template(
        "groups.html",
        groups=groups,
        counts=active_member_counts(db.session),
        domain=web_settings().site.domain,
    )


@blueprint.get("/nhom/<slug>")
def show(slug: str) -> str:
    try:
        group = find_group(db.session, slug)
    except UnknownGroup:
        abort(404)
    count = active_member_counts(db.session).get(group.id, 0)
    return render_template("group.html", group=group, count=count, domain=web_settings().site.domain)
