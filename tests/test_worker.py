"""The worker: each job once per turn however many workers run, its runs recorded, failures retried,
and the jobs of the schedule doing what they say."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import select

from models import db, utcnow
from models.bounces import Bounce
from models.operations import JobLock
from models.services.bounces import decay_bounce_scores
from models.services.jobs import claim_job, finish_job
from tests.conftest import environment
from tests.factories import make_member
from wiring.processes import Job, configure_jobs, run_job

NHOMTHU = str(Path(sys.executable).parent / "nhomthu")
LEASE = timedelta(minutes=15)


def test_a_job_is_held_by_one_worker_until_it_finishes(make_app):
    make_app()
    now = utcnow()

    assert claim_job(db.session, "purge_tokens", "worker-a", now, LEASE)
    db.session.commit()
    assert not claim_job(db.session, "purge_tokens", "worker-b", now + timedelta(seconds=1), LEASE)

    assert finish_job(db.session, "purge_tokens", "worker-a", now, now + timedelta(hours=1), 3, None)
    db.session.commit()
    assert not claim_job(db.session, "purge_tokens", "worker-b", now + timedelta(minutes=59), LEASE)
    assert claim_job(db.session, "purge_tokens", "worker-b", now + timedelta(hours=1), LEASE)


def test_the_lock_of_a_worker_that_died_lapses(make_app):
    make_app()
    now = utcnow()
    claim_job(db.session, "remind_due", "dead-worker", now, LEASE)
    db.session.commit()

    assert not claim_job(db.session, "remind_due", "worker-b", now + LEASE - timedelta(seconds=1), LEASE)
    assert claim_job(db.session, "remind_due", "worker-b", now + LEASE, LEASE)
    db.session.commit()
    # the dead worker, come back to life, cannot record a run it no longer holds
    assert not finish_job(db.session, "remind_due", "dead-worker", now, now, 0, None)


def test_run_job_records_what_the_job_did_and_runs_it_once_per_turn(make_app):
    app = make_app()
    calls = []
    job = Job("count_calls", lambda: calls.append(1) or len(calls), minutes=60)

    assert run_job(app, job, "worker-a") == 1
    assert run_job(app, job, "worker-b") is None
    row = db.session.get(JobLock, "count_calls")
    db.session.refresh(row)

    assert calls == [1]
    assert (row.runs, row.last_done, row.last_error, row.holder) == (1, 1, None, None)
    assert row.next_run_at - row.last_started_at == timedelta(minutes=60)


def test_a_failing_job_is_recorded_and_tried_again_within_five_minutes(make_app):
    app = make_app()

    def fail() -> int:
        raise RuntimeError("máy chủ bận")

    assert run_job(app, Job("daily", fail, minutes=24 * 60), "worker-a") is None
    row = db.session.scalar(select(JobLock).where(JobLock.name == "daily"))

    assert "máy chủ bận" in row.last_error
    assert row.holder is None
    assert row.next_run_at - row.last_started_at == timedelta(minutes=5)


def test_bounce_scores_decay_when_the_bounces_grow_old(make_app):
    make_app()
    now = utcnow()
    old, recent, clean = make_member("Cu"), make_member("Moi"), make_member("Sach")
    for person, age in ((old, 40), (old, 35), (recent, 40), (recent, 2)):
        db.session.add(Bounce(person=person, permanent=True, source="dsn", at=now - timedelta(days=age)))
    old.bounce_score, recent.bounce_score = 2, 2
    db.session.commit()

    assert decay_bounce_scores(db.session, now) == 2
    db.session.commit()

    assert (old.bounce_score, recent.bounce_score, clean.bounce_score) == (0, 1, 0)
    assert decay_bounce_scores(db.session, now) == 0


def test_two_worker_processes_run_each_job_once(make_app, database_url, tmp_path):
    """Two workers started by mistake, ticking every second: every job still runs once in its turn."""
    app = make_app()
    names = {job.name for job in configure_jobs(app.extensions["nhomthu.settings"])}
    env = {**os.environ, **environment(database_url, tmp_path, WORKER_TICK_SECONDS="1", LOG_LEVEL="ERROR")}
    workers = [subprocess.Popen([NHOMTHU, "worker"], env=env) for _ in range(2)]
    probe = sa.create_engine(database_url)
    try:
        deadline = time.monotonic() + 60
        while _runs(probe).keys() != names or 0 in _runs(probe).values():
            assert all(w.poll() is None for w in workers), "a worker stopped"
            assert time.monotonic() < deadline, f"jobs not run: {_runs(probe)}"
            time.sleep(0.2)
        time.sleep(3)  # three more ticks of both workers

        assert _runs(probe) == dict.fromkeys(names, 1)
        assert all(w.poll() is None for w in workers)
    finally:
        for process in workers:
            process.terminate()
            process.wait(timeout=10)
        probe.dispose()


def _runs(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return dict(connection.execute(sa.text("SELECT name, runs FROM job_lock")).all())


def test_a_tick_a_hair_early_still_runs_the_job_in_its_turn(make_app):
    """Ticks every minute, a job every minute: the tick that comes just before the due time takes it."""
    app = make_app()
    job = Job("every_minute", lambda: 1, minutes=1)
    run_job(app, job, "worker-a", early=timedelta(seconds=30))
    db.session.execute(
        sa.update(JobLock).values(next_run_at=utcnow() + timedelta(seconds=10))  # due in ten seconds
    )
    db.session.commit()

    assert run_job(app, job, "worker-a", early=timedelta(seconds=30)) == 1
