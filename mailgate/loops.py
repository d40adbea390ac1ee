"""Mail that must never be answered: auto-replies, bounces, lists, and our own mail coming back.

The registration addresses are an open door; answering any of these would make a mail loop or
backscatter (RFC 3834 section 2 and 5).
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
    return _automatic(message) or _bounce(message, mail.sender) or _ours(message, mail.sender, domain)


def _automatic(message: Message) -> str | None:
    auto = str(message.get("Auto-Submitted", "no")).strip().lower()
    if auto and not auto.startswith("no"):
        return f"thư tự động (Auto-Submitted: {auto})"
    precedence = str(message.get("Precedence", "")).strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"thư tự động (Precedence: {precedence})"
    for header in _AUTOREPLY_HEADERS:
        if message.get(header) is not None:
            return f"thư trả lời tự động ({header})"
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
