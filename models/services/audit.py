"""Recording what happened, for the audit log."""

from typing import Any

from sqlalchemy.orm import Session

from models.audit import AuditEvent
from models.base import db


def record(session: Session, actor: str, action: str, subject: db.Model, **detail: Any) -> AuditEvent:  # type: ignore[name-defined]
    event = AuditEvent(
        actor=actor,
        action=action,
        subject_type=type(subject).__name__.lower(),
        subject_id=subject.id,
        detail=detail,
    )
    session.add(event)
    return event
