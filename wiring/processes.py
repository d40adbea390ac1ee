"""The long-running processes of the Procfile, and the worker's schedule (one table of jobs)."""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from mailgate.gate import Gate
from mailgate.imap import Inbox
from mailgate.transport import FolderTransport, SmtpTransport, Transport
from models import db, utcnow
from models.services.digests import send_digests
from models.services.notices import remind_due
from models.services.tokens import purge_tokens
from wiring.environment import Settings

log = logging.getLogger("nhomthu")


def build_gate(settings: Settings) -> Gate:
    """The mailgate on the configured servers, or on the local mail folder when there are none."""
    mail = settings.mail
    transport: Transport = SmtpTransport(mail.smtp) if mail.smtp else FolderTransport(mail.folder)
    inbox = Inbox(mail.imap) if mail.imap else None
    return Gate(session=db.session, settings=mail, inbox=inbox, transport=transport, clock=utcnow)


@dataclass(frozen=True)
class Job:
    """A one-iteration function run on a schedule; it returns how much it did."""

    name: str
    run: Callable[[], int]
    minutes: int


def configure_jobs(settings: Settings) -> tuple[Job, ...]:
    """The whole schedule, in one table."""
    domain = settings.site.domain
    return (
        Job("purge_tokens", lambda: purge_tokens(db.session, utcnow()), minutes=60),
        Job("remind_due", lambda: remind_due(db.session, utcnow(), domain), minutes=30),
        Job("send_digests", lambda: send_digests(db.session, utcnow(), domain), minutes=30),
    )


def run_job(app: Flask, job: Job) -> int:
    """A fresh app context per run; the job's work is committed, or rolled back on failure."""
    with app.app_context():
        try:
            done = job.run()
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("job %s failed", job.name)
            raise
    log.info("job %s: %s", job.name, done)
    return done


def run_worker(app: Flask) -> None:
    scheduler = BlockingScheduler(timezone="UTC")
    jobs = configure_jobs(app.extensions["nhomthu.settings"])
    for job in jobs:
        scheduler.add_job(
            run_job,
            "interval",
            args=(app, job),
            minutes=job.minutes,
            id=job.name,
            coalesce=True,
            max_instances=1,
            next_run_time=utcnow(),
        )
    log.info("worker: %d jobs scheduled", len(jobs))
    scheduler.start()


def run_bot(settings: Settings) -> None:
    """No chat platform is configured yet (issue 7): stay up quietly so the Procfile's other processes run."""
    log.info("bot: no chat platform configured; waiting")
    signal.pause()
