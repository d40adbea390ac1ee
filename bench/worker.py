"""The worker's job lock: how many claim-and-release cycles a second, against a bare UPDATE of the same row.

    .venv/bin/python bench/worker.py [--cycles 2000] [--database-url URL] [--workers 2]

A cycle is what a worker does for one run of one job: claim it (a guarded UPDATE, committed) and
record the run (another UPDATE, committed). The baseline is the same two commits of a plain UPDATE by
primary key, measured on the same database in the same run. With --workers N, N processes contend for
the same job at once and the figures add how many claims each won (the lock's correctness under load:
the sum of runs equals the claims won, never more).

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from models import db, utcnow  # noqa: E402
from models.operations import JobLock  # noqa: E402
from models.services.jobs import claim_job, finish_job, schedule  # noqa: E402
from wiring import create_app, load_settings  # noqa: E402

LEASE = timedelta(minutes=15)


def build_app(database_url: str, data_dir: str):  # noqa: ANN201
    return create_app(
        load_settings(
            {
                "DATABASE_URL": database_url,
                "DATA_DIR": data_dir,
                "SECRET_KEY": "bench-secret-key-0123456789",
                "LOG_LEVEL": "WARNING",
            }
        )
    )


def cycles(database_url: str, data_dir: str, count: int, name: str) -> tuple[float, int]:
    """Claim and finish `count` times; seconds taken and claims won."""
    app = build_app(database_url, data_dir)
    won = 0
    with app.app_context():
        holder = f"bench-{id(app)}"
        started = time.perf_counter()
        for _ in range(count):
            now = utcnow()
            if claim_job(db.session, name, holder, now, LEASE):
                db.session.commit()
                won += 1
                finish_job(db.session, name, holder, utcnow(), now, 1, None)  # due again at once
            db.session.commit()
        seconds = time.perf_counter() - started
        db.engine.dispose()
    return seconds, won


def baseline(database_url: str, data_dir: str, count: int, name: str) -> float:
    app = build_app(database_url, data_dir)
    table = JobLock.__table__
    statement = sa.update(table).where(table.c.name == name)
    with app.app_context():
        started = time.perf_counter()
        for _ in range(count):
            db.session.execute(statement.values(locked_until=utcnow()))
            db.session.commit()
            db.session.execute(statement.values(locked_until=None, runs=table.c.runs + 1))
            db.session.commit()
        seconds = time.perf_counter() - started
        db.engine.dispose()
    return seconds


def _contend(args: tuple[str, str, int]) -> int:
    return cycles(*args, "contended")[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=2000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="nhomthu-bench-worker-")
    url = options.database_url or f"sqlite:///{data_dir}/bench.db"
    app = build_app(url, data_dir)
    with app.app_context():
        upgrade()
        db.session.execute(sa.delete(JobLock))
        schedule(db.session, ["alone", "plain", "contended"], utcnow())
        db.session.commit()
        engine = db.engine.url.get_backend_name()
        db.engine.dispose()

    lock_seconds, _ = cycles(url, data_dir, options.cycles, "alone")
    plain_seconds = baseline(url, data_dir, options.cycles, "plain")
    with multiprocessing.get_context("spawn").Pool(options.workers) as pool:
        won = pool.map(_contend, [(url, data_dir, options.cycles)] * options.workers)
    with app.app_context():
        runs = db.session.get(JobLock, "contended").runs
        db.engine.dispose()
    print(
        json.dumps(
            {
                "bench": "worker",
                "engine": engine,
                "cycles": options.cycles,
                "lock_cycles_per_s": round(options.cycles / lock_seconds),
                "baseline_update_cycles_per_s": round(options.cycles / plain_seconds),
                "ratio": round(plain_seconds / lock_seconds, 2),
                "contending_workers": options.workers,
                "claims_won": won,
                "runs_recorded": runs,
            }
        )
    )


if __name__ == "__main__":
    main()
