"""The long-running processes of the Procfile, and the worker's schedule (one table of jobs)."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from mailgate.gate import Gate
from mailgate.imap import Inbox, poll_once
from mailgate.transport import FolderTransport, SmtpTransport, Transport
from models import db, utcnow
from models.services.bounces import decay_bounce_scores
from models.services.consultations import close_due, open_due, remind_consultations
from models.services.digests import send_digests
from models.services.jobs import claim_job, finish_job, schedule
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
    # A worker that dies mid-run holds the job this long at most; a run must finish well within it.
    lease: timedelta = timedelta(minutes=15)


def configure_jobs(settings: Settings) -> tuple[Job, ...]:
    """The whole schedule, in one table. Outbox retries need no row: the mailgate sends each
    delivery again when its next_attempt_at comes (1, 2, 4 … 60 minutes after a refusal)."""
    domain = settings.site.domain
    account = settings.mail.imap
    return (
        # Servers without IDLE (some Exchange and hosted mailboxes) are polled here, once for all mailgates.
        Job("poll_mailbox", lambda: poll_once(db.session, account, utcnow) if account else 0, minutes=1),
        Job("purge_tokens", lambda: purge_tokens(db.session, utcnow()), minutes=60),
        Job("remind_due", lambda: remind_due(db.session, utcnow(), domain), minutes=30),
        Job("open_consultations", lambda: open_due(db.session, utcnow()), minutes=5),
        Job("close_consultations", lambda: close_due(db.session, utcnow()), minutes=5),
        Job("remind_consultations", lambda: remind_consultations(db.session, utcnow(), domain), minutes=30),
        Job("decay_bounces", lambda: decay_bounce_scores(db.session, utcnow()), minutes=24 * 60),
        Job("send_digests", lambda: send_digests(db.session, utcnow(), domain), minutes=30),
    )


def worker_name() -> str:
    """Names the holder of a job lock: which machine and process, and which start of it."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(3)}"


def run_job(app: Flask, job: Job, holder: str = "", early: timedelta = timedelta(0)) -> int | None:
    """Run the job if it is due and no other worker holds it; how much it did, or None if not run.

    The claim is committed before the work, the work in its own transaction, then the run is recorded.
    A failure is logged and recorded on the job's row; the job is tried again at its next turn.
    `holder` names the worker (a fresh name when not given, as for a single run from a test or the CLI).
    """
    holder = holder or worker_name()
    with app.app_context():
        started = utcnow()
        try:
            taken = claim_job(db.session, job.name, holder, started, job.lease, early)
            db.session.commit()
        except SQLAlchemyError as error:  # the database is away: the next tick tries again
            db.session.rollback()
            log.warning("job %s: database unreachable (%r)", job.name, error)
            return None
        if not taken:
            return None
        done, error = _work(job)
        interval = timedelta(minutes=job.minutes)
        retry = started + (interval if error is None else min(interval, timedelta(minutes=5)))
        try:
            finish_job(db.session, job.name, holder, utcnow(), retry, done, error)
            db.session.commit()
        except SQLAlchemyError as failure:  # the lock lapses by itself at the end of its lease
            db.session.rollback()
            log.warning("job %s: could not record its run (%r)", job.name, failure)
    log.info(
        "job %s: %s", job.name, done if error is None else "failed", extra={"job": job.name, "done": done}
    )
    return done


def _work(job: Job) -> tuple[int | None, str | None]:
    try:
        done = job.run()
        db.session.commit()
        return done, None
    except Exception as error:
        db.session.rollback()
        log.exception("job %s failed", job.name)
        return None, repr(error)


def run_worker(app: Flask) -> None:
    """Every WORKER_TICK_SECONDS each job is offered to this worker; the job's row in the database
    decides whether it is due and not running elsewhere, so several workers run each job once."""
    settings: Settings = app.extensions["nhomthu.settings"]
    scheduler = BlockingScheduler(timezone="UTC")
    jobs = configure_jobs(settings)
    with app.app_context():
        schedule(db.session, [job.name for job in jobs], utcnow())
        db.session.commit()
    holder = worker_name()
    for job in jobs:
        scheduler.add_job(
            run_job,
            "interval",
            args=(app, job, holder, timedelta(seconds=settings.worker_tick / 2)),
            seconds=settings.worker_tick,
            id=job.name,
            name=job.name,
            coalesce=True,
            max_instances=1,
            next_run_time=utcnow(),
        )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # not a line per job and tick
    log.info("worker %s: %d jobs scheduled", holder, len(jobs))
    scheduler.start()


def run_bot(
    app: Flask, *, drain: bool = False, broadcast_only: bool = False, no_broadcast: bool = False
) -> int:
    """Telegram and Zalo, and their broadcasters; with no platform configured, stay up quietly so the
    Procfile's other processes run. `drain`: send what is due, then return the number sent.

    `broadcast_only`: the broadcasters alone, a light process that never imports aiogram (draining does
    not either); `no_broadcast`: the dispatcher and webhooks alone, beside such a process."""
    settings: Settings = app.extensions["nhomthu.settings"]
    if not settings.bot.configured:
        log.info("bot: chưa cấu hình TELEGRAM_BOT_TOKEN hay ZALO_APP_ID (no chat platform); waiting")
        if drain:
            return 0
        signal.pause()
    if drain or broadcast_only:
        from bot.broadcasting import Broadcasting  # aiohttp only: no aiogram in this process

        broadcasting = Broadcasting(settings.bot, app.app_context)
        if drain:
            return asyncio.run(broadcasting.drain()).sent
        log.info("bot: broadcasting only, %s", ", ".join(b.channel for b in broadcasting.broadcasters))
        asyncio.run(broadcasting.serve())
        return 0
    from bot.process import BotProcess  # aiogram takes seconds and 140 MB to import: only this process pays

    process = BotProcess(settings.bot, app.app_context, broadcast=not no_broadcast)
    channels = [b.channel for b in process.broadcasting.broadcasters] if process.broadcasting else []
    log.info("bot: updates%s", "".join(f", {channel}" for channel in channels) or ", no broadcasting")
    asyncio.run(process.serve())
    return 0
