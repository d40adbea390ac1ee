"""The groups and how to join them."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import select

from forum.settings import web_settings
from models import Group, db
from models.services.memberships import active_member_counts

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
