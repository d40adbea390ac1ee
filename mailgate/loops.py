"""Mail that must never be answered: auto-replies, bounces, lists, and our own mail coming back.

The registration addresses are an open door; answering any of these would make a mail loop or
backscatter (RFC 3834 section 2 and 5). Posts are judged less strictly: a member's message relayed by
another list (Precedence: list, a foreign List-Id) is still a post, but a vacation reply never is.
"""

from __future__ import annotations

from email.message import Message

from mailgate.parsing import ParsedMail
from mailgate.routing import RouteKind, route_for

LOOP_HEADER = "X-Loop"
_ROBOT_LOCAL_PARTS = ("mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply", "do-not-reply")
_AUTOREPLY_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Auto-Reply", "X-Autoreply-From")


def why_not_answer(mail: ParsedMail, domain: str) -> str | None:
    """The reason this message must get no answer, or None when a person may be answered."""
    message = mail.message
    return (
        _auto_reply(message)
        or _bulk(message)
        or _bounce(message, mail.sender)
        or _ours(message, mail.sender, domain)
    )


def why_not_post(mail: ParsedMail, domain: str) -> str | None:
    """The reason this message must not become a post, or None when a person wrote it."""
    message = mail.message
    return _auto_reply(message) or _bounce(message, mail.sender) or _ours(message, mail.sender, domain)


def kind(mail: ParsedMail, domain: str) -> str:
    """message, auto_reply or bounce (for `nhomthu mail parse`)."""
    if _bounce(mail.message, mail.sender):
        return "bounce"
    return "auto_reply" if why_not_answer(mail, domain) else "message"


def _auto_reply(message: Message) -> str | None:
    auto = str(message.get("Auto-Submitted", "no")).strip().lower()
    if auto and not auto.startswith("no"):
        return f"thư tự động (Auto-Submitted: {auto})"
    if str(message.get("Precedence", "")).strip().lower() == "auto_reply":
        return "thư tự động (Precedence: auto_reply)"
    for header in _AUTOREPLY_HEADERS:
        if message.get(header) is not None:
            return f"thư trả lời tự động ({header})"
    return None


def _bulk(message: Message) -> str | None:
    precedence = str(message.get("Precedence", "")).strip().lower()
    if precedence in ("bulk", "junk", "list"):
        return f"thư hàng loạt (Precedence: {precedence})"
    if message.get("List-Id") is not None:
        return "thư từ một nhóm thư khác (List-Id)"
    return None


def _bounce(message: Message, sender: str | None) -> str | None:
    if str(message.get("Return-Path", "")).strip() == "<>":
        return "thư báo lỗi phát (Return-Path rỗng)"
    if message.get_content_type() == "multipart/report":
        return "thư báo lỗi phát (multipart/report)"
    local = (sender or "").partition("@")[0]
    if local in _ROBOT_LOCAL_PARTS:
        return f"thư từ địa chỉ máy ({sender})"
    if sender is None:
        return "không có địa chỉ người gửi"
    return None


def _ours(message: Message, sender: str | None, domain: str) -> str | None:
    if any(domain.lower() in str(value).lower() for value in message.get_all(LOOP_HEADER, [])):
        return f"thư của chính hệ thống quay lại ({LOOP_HEADER})"
    route = route_for(sender or "", domain)
    if route is not None and route.kind != RouteKind.POST:
        return f"thư từ địa chỉ của hệ thống ({sender})"
    return None
