"""Signing in by a one-time link sent by email, and signing out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from forum.auth import sign_in_as, sign_out
from forum.settings import web_settings
from models import db, utcnow
from models.errors import InvalidAddress, TokenInvalid
from models.services.signin import request_sign_in, sign_in
from models.services.tokens import find_token
from models.tokens import TokenPurpose

blueprint = Blueprint("signin", __name__)


@blueprint.route("/dang-nhap", methods=["GET", "POST"])
def ask() -> str:
    if request.method == "GET":
        return render_template("sign_in.html", next=_safe_next(request.args.get("next")))
    address = request.form.get("email", "")
    try:
        request_sign_in(
            db.session,
            address,
            client=request.remote_addr or "?",
            domain=web_settings().site.domain,
            now=utcnow(),
        )
    except InvalidAddress:
        return render_template("sign_in.html", error=gettext("Địa chỉ thư không hợp lệ."), email=address)
    db.session.commit()
    # The same answer whether or not the address is known: the page must not reveal who is a member.
    return render_template(
        "message.html",
        title=gettext("Kiểm tra hộp thư"),
        text=gettext(
            "Nếu %(address)s có trong hệ thống, một liên kết đăng nhập vừa được gửi tới. "
            "Liên kết dùng được một lần, trong 30 phút.",
            address=address,
        ),
    )


@blueprint.route("/dang-nhap/<token>", methods=["GET", "POST"])
def follow(token: str) -> str | Response | tuple[str, int]:
    """GET asks (mail scanners open links); POST signs in."""
    try:
        if request.method == "GET":
            row = find_token(db.session, token, TokenPurpose.SIGN_IN)
            if row.used_at is not None or row.expires_at <= utcnow():
                raise TokenInvalid(token)
            return render_template(
                "sign_in_confirm.html", person=row.person, next=request.args.get("next", "")
            )
        person = sign_in(db.session, token, utcnow())
    except TokenInvalid:
        db.session.rollback()
        return render_template(
            "message.html",
            title=gettext("Liên kết không còn dùng được"),
            text=gettext("Liên kết đăng nhập đã được dùng hoặc đã hết hạn. Hãy yêu cầu liên kết mới."),
        ), 400
    db.session.commit()
    sign_in_as(person)
    return redirect(_safe_next(request.form.get("next")) or url_for("groups.index"))


@blueprint.post("/dang-xuat")
def leave() -> Response:
    sign_out()
    return redirect(url_for("groups.index"))


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect."""
    if not target:
        return ""
    parts = urlsplit(target)
    return (
        target
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//")
        else ""
    )
