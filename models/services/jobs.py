"""The worker's schedule, kept in the database so that any number of workers run each job once.

A job is claimed with one guarded UPDATE (due, and not held by a live worker), committed before the
job runs; the run is settled by another UPDATE that only its holder can make. The same statements
work on SQLite and PostgreSQL, and a worker that dies mid-job leaves a lock that lapses by itself.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models.operations import JobLock

_TABLE = JobLock.__table__


def ensure_rows(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert the rows whose primary key is not there yet; leave existing ones alone (either engine)."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    module = {"postgresql": postgresql, "sqlite": sqlite}.get(dialect)
    if module is None:
        raise NotImplementedError(dialect)
    session.execute(module.insert(table).on_conflict_do_nothing(), rows)


def schedule(session: Session, names: list[str], now: datetime) -> None:
    """Make sure every job of the table has its row; a new job is due at once."""
    ensure_rows(session, _TABLE, [{"name": name, "next_run_at": now} for name in names])


def claim_job(
    session: Session, name: str, holder: str, now: datetime, lease: timedelta, early: timedelta = timedelta(0)
) -> bool:
    """Take the job if it is due (or due within `early`: a worker's tick that comes a hair before the due
    time must not wait a whole tick) and no live worker holds it. The caller commits before running it."""
    statement = (
        update(_TABLE)
        .where(
            _TABLE.c.name == name,
            _TABLE.c.next_run_at <= now + early,
            (_TABLE.c.locked_until.is_(None)) | (_TABLE.c.locked_until <= now),
        )
        .values(holder=holder, locked_until=now + lease, last_started_at=now)
    )
    taken = session.execute(statement).rowcount == 1  # type: ignore[attr-defined]
    if not taken and session.get(JobLock, name) is None:
        schedule(session, [name], now)
        taken = session.execute(statement).rowcount == 1  # type: ignore[attr-defined]
    return taken


def finish_job(
    session: Session,
    name: str,
    holder: str,
    now: datetime,
    next_run_at: datetime,
    done: int | None,
    error: str | None,
) -> bool:
    """Record the run and release the lock; False when the lock had lapsed and another worker took it."""
    result = session.execute(
        update(_TABLE)
        .where(_TABLE.c.name == name, _TABLE.c.holder == holder)
        .values(
            holder=None,
            locked_until=None,
            next_run_at=next_run_at,
            runs=_TABLE.c.runs + 1,
            last_finished_at=now,
            last_done=done,
            last_error=error[:2000] if error else None,
        )
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def job_states(session: Session) -> list[JobLock]:
    return list(session.scalars(select(JobLock).order_by(JobLock.name)))
