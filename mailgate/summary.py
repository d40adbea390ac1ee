"""What `nhomthu mail parse --json` prints: one message read the way the gateway reads it."""

from __future__ import annotations

import email.utils
from typing import Any

from mailgate.bodies import Malformed, extract_body
from mailgate.loops import kind
from mailgate.parsing import Unreadable, parse, raw_header
from mailgate.sanitising import html_to_text, sanitise
from mailgate.trimming import trim_quotes
from models.services.citations import find_provisions


def summarise(raw: bytes, domain: str) -> dict[str, Any]:
    try:
        mail = parse(raw)
        body = extract_body(mail.message)
    except (Unreadable, Malformed) as error:
        return {"error": str(error)}
    text = body.text if body.text is not None else html_to_text(body.html or "")
    trimmed = trim_quotes(text)
    recipients = email.utils.getaddresses([raw_header(mail.message, "To"), raw_header(mail.message, "Cc")])
    return {
        "message_id": mail.message_id,
        "in_reply_to": mail.in_reply_to,
        "references": list(mail.references),
        "from_addr": mail.sender,
        "from_name": mail.sender_name,
        "to": [address.lower() for _, address in recipients if "@" in address],
        "subject": mail.subject,
        "date": mail.date.isoformat() if mail.date else None,
        "kind": kind(mail, domain),
        "text": text,
        "reply_text": trimmed.text,
        "quoted_text": trimmed.removed,
        "provisions": find_provisions(trimmed.text),
        "html": sanitise(body.html) if body.html else None,
        "attachments": [
            {"filename": a.filename, "content_type": a.content_type, "size": len(a.data)}
            for a in body.attachments
        ],
        "problems": list(body.problems),
    }
