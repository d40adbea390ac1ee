"""The moderation queue, and the quarantine of mail the gateway could not read."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from forum.auth import current_person, signed_in
from models import InboundMessage, Post, db, utcnow
from models.mail import Outcome
from models.services import moderation
from models.services.roles import is_admin

blueprint = Blueprint("moderation", __name__)
ACTIONS = {"duyet": "approve", "tu-choi": "reject", "chan": "ban"}


@blueprint.get("/kiem-duyet")
@signed_in
def queue() -> str:
    person = current_person()
    assert person is not None
    return render_template("moderation.html", posts=moderation.held_posts(db.session, person))


@blueprint.post("/kiem-duyet/<int:post_id>/<action>")
@signed_in
def act(post_id: int, action: str) -> Response:
    person = current_person()
    post = db.session.get(Post, post_id)
    if post is None or action not in ACTIONS or person is None:
        abort(404)
    try:
        if action == "duyet":
            moderation.approve(db.session, post, person, utcnow())
        elif action == "tu-choi":
            moderation.reject(db.session, post, person, request.form.get("reason", ""), utcnow())
        else:
            moderation.ban(db.session, post, person, utcnow())
    except moderation.NotAllowed:
        db.session.rollback()
        abort(403)
    db.session.commit()
    return redirect(url_for("moderation.queue"))


@blueprint.get("/quan-tri/cach-ly")
@signed_in
def quarantine() -> str:
    _admin_only()
    rows = db.session.scalars(
        select(InboundMessage)
        .where(InboundMessage.outcome == Outcome.QUARANTINED)
        .order_by(InboundMessage.id.desc())
        .limit(200)
    ).all()
    return render_template("quarantine.html", rows=rows)


@blueprint.get("/quan-tri/thu/<int:message_id>.eml")
@signed_in
def raw(message_id: int) -> Response:
    _admin_only()
    row = db.session.get(InboundMessage, message_id) or abort(404)
    response = Response(row.raw, mimetype="application/octet-stream")
    response.headers.set("Content-Disposition", "attachment", filename=f"thu-{row.id}.eml")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _admin_only() -> None:
    if not is_admin(db.session, current_person()):
        abort(403)
