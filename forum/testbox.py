"""Hộp thư thử nghiệm: the embedded default's mail folder, in the browser.

With no mail server configured, outgoing mail is kept in a local Maildir; this page shows it and
lets anyone write inbound mail as any address, so a newcomer sees the whole flow without a mail server.
Served only in that mode.
"""

from __future__ import annotations

import email.policy
import email.utils
import mailbox
from dataclasses import dataclass
from email.message import EmailMessage

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from forum.settings import web_settings
from models import db, utcnow
from models.services.inbound import store_raw

blueprint = Blueprint("testbox", __name__, url_prefix="/quan-tri/hop-thu-thu-nghiem")
SHOWN = 50


@dataclass(frozen=True)
class Letter:
    key: str
    sender: str
    recipient: str
    reply_to: str
    subject: str
    date: str
    body: str


@blueprint.get("/")
def index() -> str:
    folder = web_settings().local_mail_folder
    assert folder is not None
    sent = folder / "sent"
    letters = _read(mailbox.Maildir(sent, create=False)) if sent.exists() else []
    letters.sort(key=lambda letter: letter.date, reverse=True)
    return render_template(
        "testbox.html",
        letters=letters[:SHOWN],
        total=len(letters),
        domain=web_settings().site.domain,
        prefill=request.args,
    )


@blueprint.post("/gui")
def send() -> Response:
    """Store a message as if the mail server had received it; the mailgate handles it next."""
    form = request.form
    message = EmailMessage()
    message["From"] = form.get("sender", "").strip()
    message["To"] = form.get("recipient", "").strip()
    message["Subject"] = form.get("subject", "").strip()
    message["Date"] = email.utils.format_datetime(utcnow())
    message["Message-ID"] = email.utils.make_msgid(domain="hop-thu-thu-nghiem.local")
    message.set_content(form.get("body", "") or " ")
    store_raw(db.session, message.as_bytes(), mailbox="local", now=utcnow())
    db.session.commit()
    flash(
        gettext(
            "Đã gửi tới %(recipient)s. Tải lại trang sau vài giây để xem thư trả lời.",
            recipient=message["To"],
        )
    )
    return redirect(url_for("testbox.index"))


def _read(box: mailbox.Maildir) -> list[Letter]:
    letters = []
    for key in box.keys():
        with box.get_file(key) as handle:
            message = email.message_from_binary_file(handle, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        letters.append(
            Letter(
                key=key,
                sender=str(message.get("From", "")),
                recipient=email.utils.parseaddr(str(message.get("To", "")))[1],
                reply_to=email.utils.parseaddr(str(message.get("Reply-To", "") or message.get("From", "")))[
                    1
                ],
                subject=str(message.get("Subject", "")),
                date=email.utils.parsedate_to_datetime(message["Date"]).isoformat()
                if message["Date"]
                else "",
                body=body.get_content() if body is not None else "",
            )
        )
    return letters
