"""Confirming by link and leaving by link, including RFC 8058 one-click unsubscribe.

A GET never changes anything: mail scanners open links before people do. The page asks, the
button POSTs. The one-click POST of RFC 8058 comes from mail clients, without cookies or a form
token; the unforgeable key in its URL is its proof, so only that POST skips the CSRF check.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from flask_wtf.csrf import validate_csrf
from wtforms import ValidationError

from forum.auth import current_person, signed_in
from forum.languages import localized
from forum.settings import web_settings
from models import db, utcnow
from models.errors import InvalidAddress, NotAMember, TokenExpired, TokenInvalid, TokenUsed, UnknownGroup
from models.groups import MembershipSource
from models.services.digests import active_membership, choose_digest
from models.services.memberships import (
    confirm_request,
    end_membership,
    find_by_unsubscribe_key,
    find_group,
    request_membership,
)
from models.services.tokens import find_token
from models.tokens import TokenPurpose

blueprint = Blueprint("membership", __name__)
CONFIRMATIONS = (TokenPurpose.CONFIRM_MEMBERSHIP, TokenPurpose.CONFIRM_LEAVE)

TOKEN_PROBLEMS = {
    TokenExpired: lazy_gettext(
        "Liên kết xác nhận đã hết hạn. Hãy gửi lại một thư tới địa chỉ đăng ký của nhóm."
    ),
    TokenUsed: lazy_gettext("Liên kết này đã được dùng: đăng ký đã hoàn tất."),
    TokenInvalid: lazy_gettext("Liên kết không đúng hoặc đã bị cắt ngắn. Hãy mở lại liên kết trong thư."),
}


def _problem(error: Exception, status: int = 400) -> tuple[str, int]:
    text = next(str(text) for kind, text in TOKEN_PROBLEMS.items() if isinstance(error, kind))
    return render_template("message.html", title=gettext("Không xác nhận được"), text=text), status


@blueprint.route("/xac-nhan/<token>", methods=["GET", "POST"])
def confirm(token: str) -> str | tuple[str, int]:
    """The link in a confirmation mail, to join or to leave: the page asks, the button confirms."""
    try:
        if request.method == "GET":
            row = find_token(db.session, token, *CONFIRMATIONS)
            if row.used_at is not None:
                raise TokenUsed(token)
            if row.expires_at <= utcnow():
                raise TokenExpired(token)
            return render_template(
                "confirm.html", membership=row.membership, leaving=row.purpose != CONFIRMATIONS[0]
            )
        done = confirm_request(db.session, token, rules=web_settings().join, now=utcnow())
    except TokenInvalid as error:
        db.session.rollback()
        return _problem(error)
    db.session.commit()
    person, group = done.membership.person, done.membership.group
    names = {"person": person.email, "group": localized(group.name_vi, group.name_en)}
    if done.joined:
        text = gettext(
            "Địa chỉ %(person)s đã là thành viên nhóm %(group)s. Thư chào mừng đang được gửi tới bạn.",
            **names,
        )
        return render_template("message.html", title=gettext("Đã xác nhận"), text=text)
    text = gettext("Địa chỉ %(person)s đã rời nhóm %(group)s.", **names)
    return render_template("message.html", title=gettext("Đã rời nhóm"), text=text)


@blueprint.route("/huy-dang-ky/<key>", methods=["GET", "POST"])
def unsubscribe(key: str) -> str | tuple[str, int]:
    """The List-Unsubscribe URL: a page on GET; on POST, one click from a mail client or the page's button."""
    one_click = request.form.get("List-Unsubscribe") == "One-Click"
    if request.method == "POST" and not one_click:
        try:
            validate_csrf(request.form.get("csrf_token"))
        except ValidationError:
            abort(400)
    try:
        membership = find_by_unsubscribe_key(db.session, key, web_settings().site.secret_key)
    except (TokenInvalid, NotAMember):
        return render_template(
            "message.html",
            title=gettext("Không còn trong nhóm"),
            text=gettext("Liên kết đã hết hiệu lực: địa chỉ này không còn là thành viên."),
        ), 404
    if request.method == "GET":
        return render_template("unsubscribe.html", membership=membership, key=key)
    end_membership(
        db.session,
        membership,
        via="one-click" if one_click else "web",
        rules=web_settings().join,
        now=utcnow(),
    )
    db.session.commit()
    return render_template(
        "message.html",
        title=gettext("Đã rời nhóm"),
        text=gettext(
            "Địa chỉ %(person)s đã rời nhóm %(group)s.",
            person=membership.person.email,
            group=localized(membership.group.name_vi, membership.group.name_en),
        ),
    )


@blueprint.post("/nhom/<slug>/dang-ky")
def join(slug: str) -> str | tuple[str, int]:
    """Joining from the web: the same confirmation by email as dangky-, so nobody subscribes another."""
    try:
        group = find_group(db.session, slug)
        request_membership(
            db.session,
            group,
            request.form.get("email", ""),
            source=MembershipSource.WEB,
            rules=web_settings().join,
            now=utcnow(),
        )
    except UnknownGroup:
        abort(404)
    except InvalidAddress:
        db.session.rollback()
        return render_template(
            "message.html",
            title=gettext("Địa chỉ không hợp lệ"),
            text=gettext(
                "Hãy nhập một địa chỉ thư điện tử đầy đủ, ví dụ %(example)s.", example="ten@truong.edu.vn"
            ),
        ), 400
    db.session.commit()
    return render_template(
        "message.html",
        title=gettext("Kiểm tra hộp thư"),
        text=gettext(
            "Một thư xác nhận đã được gửi tới %(address)s. "
            "Mở liên kết trong thư, hoặc nhấn Trả lời, để tham gia nhóm %(group)s.",
            address=request.form.get("email", "").strip(),
            group=localized(group.name_vi, group.name_en),
        ),
    )


@blueprint.post("/nhom/<slug>/cach-nhan-thu")
@signed_in
def receive(slug: str) -> str | tuple[str, int]:
    """A member's choice for one group: each message as it comes, or the daily digest."""
    try:
        group = find_group(db.session, slug)
    except UnknownGroup:
        abort(404)
    person = current_person()
    membership = active_membership(db.session, person, group)
    if person is None or membership is None:
        abort(403)
    digest = request.form.get("cach") == "ban-tin"
    choose_digest(db.session, membership, digest, actor=f"web:{person.email}")
    db.session.commit()
    names = {"group": localized(group.name_vi, group.name_en)}
    text = (
        gettext(
            "Từ nay bạn nhận một bản tin tổng hợp mỗi ngày của nhóm %(group)s. Thông báo cần trả lời, "
            "có hạn chót hoặc mời họp vẫn được gửi ngay.",
            **names,
        )
        if digest
        else gettext("Từ nay bạn nhận từng thư của nhóm %(group)s ngay khi có.", **names)
    )
    return render_template(
        "message.html",
        title=gettext("Đã lưu cách nhận thư"),
        text=text,
        back=url_for("threads.group", slug=group.slug),
    )
