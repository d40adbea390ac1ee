"""The public directory of organisations and their published addresses (Circular 37), and roster imports."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext
from sqlalchemy import select

from forum.auth import current_person, signed_in
from forum.settings import web_settings
from models import Organisation, db, utcnow
from models.errors import UnknownGroup
from models.services import administration
from models.services.memberships import find_group
from models.services.rosters import RosterReport, check_rows, import_roster, read_table

blueprint = Blueprint("directory", __name__)
MAX_ROSTER = 5 * 1024 * 1024


@blueprint.get("/danh-ba")
def organisations() -> str:
    rows = db.session.scalars(select(Organisation).order_by(Organisation.kind, Organisation.name)).all()
    return render_template("directory.html", organisations=rows)


@blueprint.route("/quan-tri/nhom/<slug>/danh-sach", methods=["GET", "POST"])
@signed_in
def roster(slug: str) -> str | tuple[str, int]:
    """Upload a roster: checked first (dry run) or imported; errors by line number either way."""
    try:
        group = find_group(db.session, slug)
    except UnknownGroup:
        abort(404)
    person = current_person()
    assert person is not None
    if group not in administration.groups_of(db.session, person):
        abort(403)
    if request.method == "GET":
        return render_template("roster.html", group=group, report=None)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return render_template(
            "roster.html", group=group, report=None, error=gettext("Hãy chọn tệp CSV hoặc XLSX.")
        ), 400
    dry_run = request.form.get("dry_run") == "1"
    report = RosterReport()
    try:
        rows = check_rows(read_table(upload.read(MAX_ROSTER), upload.filename), report)
    except ValueError as error:
        return render_template("roster.html", group=group, report=None, error=str(error)), 400
    import_roster(
        db.session,
        group,
        rows,
        actor=f"web:{person.email}",
        domain=web_settings().site.domain,
        now=utcnow(),
        dry_run=dry_run,
        report=report,
    )
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    return render_template("roster.html", group=group, report=report, dry_run=dry_run)
