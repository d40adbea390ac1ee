"""Publishing a notice on the web, and its answered / not-answered panel."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_pgettext
from sqlalchemy import select
from werkzeug.wrappers import Response

from forum.auth import current_person, signed_in
from forum.settings import web_settings
from models import Group, db, utcnow
from models.notices import NoticeKind
from models.services.consultations import PeriodTooShort
from models.services.notices import NoticeDraft, may_publish, publish_notice
from models.services.posts import NewAttachment
from models.site import VIETNAM

blueprint = Blueprint("notices", __name__)
ALLOWED = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
MAX_FILE = 10 * 1024 * 1024
# The kinds' names in the page's language; in Vietnamese, models.notices.LABELS_VI word for word.
KIND_LABELS = {
    NoticeKind.NOTICE: lazy_pgettext("notice kind", "Thông báo"),
    NoticeKind.OFFICIAL_LETTER: lazy_pgettext("notice kind", "Công văn"),
    NoticeKind.INVITATION: lazy_pgettext("notice kind", "Giấy mời"),
    NoticeKind.SUMMONS: lazy_pgettext("notice kind", "Giấy triệu tập"),
    NoticeKind.REPLY_REQUESTED: lazy_pgettext("notice kind", "Yêu cầu phúc đáp"),
    NoticeKind.REPORT_REQUESTED: lazy_pgettext("notice kind", "Yêu cầu báo cáo"),
    NoticeKind.DRAFT_FOR_COMMENT: lazy_pgettext("notice kind", "Dự thảo lấy ý kiến"),
}


class FormError(Exception):
    """What is wrong with the form, in words for the publisher."""


@blueprint.app_template_filter("label")
def kind_label(kind: NoticeKind) -> str:
    """`{{ notice.kind | label }}`: the kind's name in the page's language."""
    return str(KIND_LABELS[kind])


@blueprint.route("/thong-bao/moi", methods=["GET", "POST"])
@signed_in
def publish() -> str | Response | tuple[str, int]:
    person = current_person()
    assert person is not None
    groups = [
        g for g in db.session.scalars(select(Group).order_by(Group.id)) if may_publish(db.session, person, g)
    ]
    if not groups:
        abort(403)
    if request.method == "GET":
        return render_template("notice_form.html", groups=groups, kinds=list(NoticeKind), form={})
    try:
        draft = _draft(groups)
        notice = publish_notice(
            db.session,
            draft,
            person,
            unit=person.organisation,
            domain=web_settings().site.domain,
            now=utcnow(),
            rules=web_settings().consultation,
        )
    except PeriodTooShort as short:
        error = FormError(gettext("Dự thảo cần thời hạn góp ý ít nhất %(days)s ngày.", days=short.days))
        db.session.rollback()
        return render_template(
            "notice_form.html", groups=groups, kinds=list(NoticeKind), form=request.form, error=str(error)
        ), 400
    except FormError as error:
        db.session.rollback()
        return render_template(
            "notice_form.html", groups=groups, kinds=list(NoticeKind), form=request.form, error=str(error)
        ), 400
    db.session.commit()
    return redirect(url_for("threads.thread", thread_id=notice.thread_id))


def _draft(groups: list[Group]) -> NoticeDraft:
    form = request.form
    chosen = tuple(g for g in groups if g.slug in form.getlist("groups"))
    if not chosen:
        raise FormError(gettext("Hãy chọn ít nhất một nhóm nhận."))
    title, body = form.get("title", "").strip(), form.get("body", "").strip()
    if not title or not body:
        raise FormError(gettext("Thông báo cần có tiêu đề và nội dung."))
    try:
        kind = NoticeKind(form.get("kind", ""))
    except ValueError as error:
        raise FormError(gettext("Hãy chọn loại thông báo.")) from error
    deadline = _moment(form.get("deadline"))
    if kind.asks_for_answer and deadline is None:
        raise FormError(gettext("Loại thông báo này cần hạn chót trả lời."))
    return NoticeDraft(
        kind=kind,
        title=title,
        body=body,
        groups=chosen,
        deadline=deadline,
        answer_required=kind.asks_for_answer or form.get("answer_required") == "1",
        meeting_start=_moment(form.get("meeting_start")),
        meeting_place=form.get("meeting_place", "").strip() or None,
        attachments=_attachments(),
    )


def _moment(value: str | None) -> datetime | None:
    """A datetime-local field, read as Vietnam time."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=VIETNAM)
    except ValueError as error:
        raise FormError(gettext("Thời gian không hợp lệ: %(value)s", value=value)) from error


def _attachments() -> tuple[NewAttachment, ...]:
    files = []
    for upload in request.files.getlist("files"):
        if not upload.filename:
            continue
        suffix = "." + upload.filename.rsplit(".", 1)[-1].lower() if "." in upload.filename else ""
        if suffix not in ALLOWED:
            raise FormError(gettext("Chỉ nhận tệp PDF, DOCX, XLSX: %(name)s", name=upload.filename))
        data = upload.read(MAX_FILE + 1)
        if len(data) > MAX_FILE:
            raise FormError(gettext("Tệp %(name)s lớn quá 10 MB.", name=upload.filename))
        files.append(NewAttachment(upload.filename, ALLOWED[suffix], data))
    return tuple(files)
