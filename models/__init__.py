"""The core of nhomthu: tables and domain operations.

Everything else (mailgate/, forum/, bot/) imports from here; this package imports none of them.
"""

from models.base import UtcDateTime, db, utcnow
from models.entities import (  # noqa: I001
    Answer,
    AuditEvent,
    ChatLink,
    Delivery,
    Group,
    InboundMessage,
    Membership,
    Notice,
    Organisation,
    Person,
    Post,
    PostAttachment,
    Role,
    Thread,
    Token,
)

__all__ = [
    "Answer",
    "AuditEvent",
    "ChatLink",
    "Delivery",
    "Group",
    "InboundMessage",
    "Membership",
    "Notice",
    "Organisation",
    "Person",
    "Post",
    "PostAttachment",
    "Role",
    "Thread",
    "Token",
    "UtcDateTime",
    "db",
    "utcnow",
]
