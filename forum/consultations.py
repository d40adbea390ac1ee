"""A draft for comment on the web: its provisions, each with its comments and a comment link; the
drafting unit's decisions, review queue, version comparison and synthesis files."""

from __future__ import annotations

from collections import defaultdict

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from forum.auth import current_person, signed_in
from forum.settings import web_settings
from models import Person, db, utcnow
from models.consultations import CommentState, Consultation, DraftComment, Provision, Verdict
from models.services.comments import NotDrafter, decide, latest_version, place_comment, review_queue
from models.services.consultations import is_late, may_decide
from models.services.exports import to_docx, to_xlsx
from models.services.roles import is_member
from models.services.synthesis import synthesise
from models.services.versions import compare
from models.services.webposts import WebReplyRefused, reply_on_web

blueprint = Blueprint("consultations", __name__)
FILES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _found(consultation_id: int) -> Consultation:
    return db.session.get(Consultation, consultation_id) or abort(404)


@blueprint.get("/lay-y-kien/<int:consultation_id>")
def page(consultation_id: int) -> str:
    consultation = _found(consultation_id)
    person = current_person()
    version = latest_version(db.session, consultation)
    comments = db.session.scalars(
        select(DraftComment)
        .where(DraftComment.consultation_id == consultation.id)
        .order_by(DraftComment.id)
        .options(selectinload(DraftComment.person).selectinload(Person.organisation))
    ).all()
    by_provision: dict[int | None, list[DraftComment]] = defaultdict(list)
    for comment in comments:
        by_provision[comment.provision_id].append(comment)
    drafter = may_decide(db.session, person, consultation)
    return render_template(
        "consultation.html",
        consultation=consultation,
        notice=consultation.notice,
        version=version,
        by_provision=by_provision,
        drafter=drafter,
        reviewing=len(review_queue(db.session, consultation)) if drafter else 0,
        member=is_member(db.session, person, consultation.notice.thread.group),
        late=is_late(consultation, utcnow()),
        chosen=request.args.get("dieu", ""),
        verdicts=list(Verdict),
    )


@blueprint.post("/lay-y-kien/<int:consultation_id>/gop-y")
@signed_in
def comment(consultation_id: int) -> Response | tuple[str, int]:
    """A comment on the web is a reply in the draft's thread, opening with the provision it is on."""
    consultation = _found(consultation_id)
    person = current_person()
    assert person is not None
    provision = _provision(consultation, request.form.get("provision", ""))
    text = request.form.get("text", "").strip()
    body = f"Góp ý {provision.citation}:\n{text}" if provision is not None and text else text
    notice = consultation.notice
    try:
        reply_on_web(
            db.session,
            notice.thread,
            notice.post,
            person,
            body,
            domain=web_settings().site.domain,
            now=utcnow(),
        )
    except WebReplyRefused as refusal:
        db.session.rollback()
        return render_template("message.html", title=gettext("Chưa gửi được"), text=str(refusal)), 400
    db.session.commit()
    anchor = provision.anchor if provision is not None else "y-kien-chung"
    return redirect(url_for("consultations.page", consultation_id=consultation.id, _anchor=anchor))


def _provision(consultation: Consultation, anchor: str) -> Provision | None:
    version = latest_version(db.session, consultation)
    if not anchor or version is None:
        return None
    return db.session.scalar(
        select(Provision).where(Provision.version_id == version.id, Provision.anchor == anchor)
    )


@blueprint.post("/lay-y-kien/y-kien/<int:comment_id>/quyet-dinh")
@signed_in
def decision(comment_id: int) -> Response:
    found = db.session.get(DraftComment, comment_id) or abort(404)
    person = current_person()
    assert person is not None
    try:
        verdict = Verdict(request.form.get("verdict", ""))
    except ValueError:
        abort(400)
    try:
        decide(
            db.session,
            found,
            verdict,
            request.form.get("reason", ""),
            person,
            now=utcnow(),
            notify=request.form.get("notify") == "1",
            domain=web_settings().site.domain,
        )
    except NotDrafter:
        db.session.rollback()
        abort(403)
    db.session.commit()
    anchor = found.provision.anchor if found.provision else "y-kien-chung"
    return redirect(url_for("consultations.page", consultation_id=found.consultation_id, _anchor=anchor))


@blueprint.get("/lay-y-kien/<int:consultation_id>/can-xem")
@signed_in
def review(consultation_id: int) -> str:
    consultation = _found(consultation_id)
    if not may_decide(db.session, current_person(), consultation):
        abort(403)
    version = latest_version(db.session, consultation)
    return render_template(
        "consultation_review.html",
        consultation=consultation,
        comments=review_queue(db.session, consultation),
        provisions=version.provisions if version else [],
    )


@blueprint.post("/lay-y-kien/y-kien/<int:comment_id>/vi-tri")
@signed_in
def place(comment_id: int) -> Response:
    found = db.session.get(DraftComment, comment_id) or abort(404)
    person = current_person()
    assert person is not None
    chosen = request.form.get("provision", "")
    provision = _provision(found.consultation, chosen) if chosen else None
    if chosen and provision is None:
        abort(400)
    try:
        place_comment(db.session, found, provision, person, utcnow())
    except NotDrafter:
        db.session.rollback()
        abort(403)
    db.session.commit()
    return redirect(url_for("consultations.review", consultation_id=found.consultation_id))


@blueprint.get("/lay-y-kien/<int:consultation_id>/tong-hop.<kind>")
@signed_in
def export(consultation_id: int, kind: str) -> Response:
    consultation = _found(consultation_id)
    if kind not in FILES:
        abort(404)
    if not may_decide(db.session, current_person(), consultation):
        abort(403)
    synthesis = synthesise(db.session, consultation, utcnow())
    data = to_docx(synthesis) if kind == "docx" else to_xlsx(synthesis)
    response = Response(data, mimetype=FILES[kind])
    response.headers.set(
        "Content-Disposition", "attachment", filename=f"tong-hop-y-kien-{consultation.id}.{kind}"
    )
    return response


@blueprint.get("/lay-y-kien/<int:consultation_id>/so-sanh")
def changes(consultation_id: int) -> str:
    consultation = _found(consultation_id)
    versions = consultation.versions
    if len(versions) < 2:
        abort(404)
    return render_template(
        "consultation_changes.html",
        consultation=consultation,
        old=versions[-2],
        new=versions[-1],
        changes=compare(versions[-2], versions[-1]),
    )


@blueprint.app_template_filter("comment_state")
def comment_state(state: CommentState) -> str:
    return {
        CommentState.ANCHORED: gettext("đã gắn với điều, khoản"),
        CommentState.GENERAL: gettext("ý kiến chung"),
        CommentState.REVIEW: gettext("chờ xác định điều, khoản"),
    }[state]


@blueprint.app_template_filter("verdict")
def verdict_label(verdict: Verdict) -> str:
    return {
        Verdict.ACCEPTED: gettext("Tiếp thu"),
        Verdict.EXPLAINED: gettext("Giải trình"),
        Verdict.NOT_ACCEPTED: gettext("Không tiếp thu"),
    }[verdict]
