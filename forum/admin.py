"""Administration: groups, their policies and roles; the outbox. Each administrator sees only their own:
a Sở its groups and its Phòng's, the ministry's administrators everything."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy import select
from werkzeug.wrappers import Response

from forum.auth import current_person, signed_in
from models import Delivery, Organisation, Person, Role, db
from models.bounces import Bounce
from models.errors import InvalidAddress, UnknownGroup
from models.groups import JoinPolicy, PostPolicy
from models.roles import RoleName
from models.services import administration
from models.services.memberships import find_group
from models.services.roles import is_admin

blueprint = Blueprint("admin", __name__, url_prefix="/quan-tri")


def _me() -> Person:
    person = current_person()
    assert person is not None
    return person


@blueprint.get("/")
@signed_in
def index() -> str:
    me = _me()
    return render_template(
        "admin/index.html",
        groups=administration.groups_of(db.session, me),
        organisations=administration.organisations_of(db.session, me),
        site_admin=is_admin(db.session, me),
        join_policies=list(JoinPolicy),
        post_policies=list(PostPolicy),
    )


@blueprint.post("/nhom")
@signed_in
def create_group() -> Response | tuple[str, int]:
    organisation = db.session.get(Organisation, request.form.get("organisation", type=int) or 0) or abort(400)
    try:
        group = administration.create_group(
            db.session,
            _me(),
            organisation,
            slug=request.form.get("slug", ""),
            name=request.form.get("name", ""),
            audience=request.form.get("audience", ""),
            join_policy=JoinPolicy(request.form.get("join", "confirm")),
            post_policy=PostPolicy(request.form.get("post", "members")),
        )
    except (administration.AdminRefused, ValueError) as refusal:
        db.session.rollback()
        return render_template("message.html", title=gettext("Chưa tạo được nhóm"), text=str(refusal)), 400
    db.session.commit()
    return redirect(url_for("admin.group", slug=group.slug))


@blueprint.route("/nhom/<slug>", methods=["GET", "POST"])
@signed_in
def group(slug: str) -> str | Response | tuple[str, int]:
    try:
        found = find_group(db.session, slug)
    except UnknownGroup:
        abort(404)
    me = _me()
    if found not in administration.groups_of(db.session, me):
        abort(403)
    if request.method == "POST":
        try:
            _change(found, me)
        except (administration.AdminRefused, InvalidAddress, ValueError) as refusal:
            db.session.rollback()
            return render_template(
                "message.html",
                title=gettext("Chưa thay đổi được"),
                text=str(refusal) or gettext("Dữ liệu không hợp lệ."),
            ), 400
        db.session.commit()
        return redirect(url_for("admin.group", slug=found.slug))
    roles = db.session.scalars(select(Role).where(Role.group_id == found.id).order_by(Role.name)).all()
    return render_template(
        "admin/group.html",
        group=found,
        roles=roles,
        join_policies=list(JoinPolicy),
        post_policies=list(PostPolicy),
        role_names=[RoleName.PUBLISHER, RoleName.MODERATOR, RoleName.OWNER],
    )


def _change(found, me: Person) -> None:  # noqa: ANN001
    action = request.form.get("action")
    if action == "policy":
        administration.set_policies(
            db.session, me, found, JoinPolicy(request.form["join"]), PostPolicy(request.form["post"])
        )
    elif action == "add_role":
        administration.set_role(
            db.session, me, found, request.form.get("email", ""), RoleName(request.form["role"])
        )
    elif action == "remove_role":
        administration.remove_role(db.session, me, found, request.form.get("role_id", type=int) or 0)
    else:
        raise ValueError(gettext("không rõ thao tác"))


@blueprint.get("/hop-thu-di")
@signed_in
def outbox() -> str:
    if not is_admin(db.session, _me()):
        abort(403)
    rows = db.session.scalars(select(Delivery).order_by(Delivery.id.desc()).limit(200)).all()
    return render_template("admin/outbox.html", rows=rows)


@blueprint.get("/thu-bi-tra-lai")
@signed_in
def bounces() -> str:
    """The bounce log: each refusal, permanent or not, and whose score it raised."""
    if not is_admin(db.session, _me()):
        abort(403)
    rows = db.session.scalars(select(Bounce).order_by(Bounce.id.desc()).limit(200)).all()
    return render_template("admin/bounces.html", rows=rows)
