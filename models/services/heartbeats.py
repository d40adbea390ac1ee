"""When each kind of work last succeeded, for /health and /metrics: one row per name, overwritten."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models.operations import Heartbeat
from models.services.jobs import ensure_rows

FETCH = "mail.fetch"  # the IMAP server answered a fetch
SEND = "mail.send"  # the SMTP server took a message


def beat(session: Session, name: str, now: datetime) -> None:
    table = Heartbeat.__table__
    done = session.execute(update(table).where(table.c.name == name).values(at=now))
    if done.rowcount == 0:  # type: ignore[attr-defined]
        ensure_rows(session, table, [{"name": name, "at": now}])


def last_beats(session: Session) -> dict[str, datetime]:
    return {row.name: row.at for row in session.scalars(select(Heartbeat))}
