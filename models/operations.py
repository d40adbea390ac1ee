"""Running the system: the worker's schedule and locks, and when each process last did its work.

Both tables are small (a row per job, a row per kind of work) and are written with guarded UPDATEs,
so every process on every machine sees the same schedule and the same health.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import UtcDateTime, db


class JobLock(db.Model):  # type: ignore[name-defined]
    """One scheduled job: when it is next due, who is running it now (until when), and its last run."""

    __tablename__ = "job_lock"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_run_at: Mapped[datetime] = mapped_column(UtcDateTime)
    holder: Mapped[str | None] = mapped_column(String(64))  # "<host>:<pid>:<random>" of the worker running it
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)  # a dead holder's lock lapses here
    runs: Mapped[int] = mapped_column(default=0, server_default="0")
    last_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_done: Mapped[int | None] = mapped_column()  # what the job returned: how much it did
    last_error: Mapped[str | None] = mapped_column(Text)  # None when the last run succeeded


class Heartbeat(db.Model):  # type: ignore[name-defined]
    """The last time a kind of work succeeded: "mail.fetch" (the IMAP server answered), "mail.send" (the
    SMTP server took a message). /health and /metrics report their ages."""

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
