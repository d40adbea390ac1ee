"""Following the answers to one notice sent to N members: the page's table, and the reminders.

    .venv/bin/python bench/answers.py [--recipients 100000] [--organisations 1000]
                                      [--postgresql postgresql://postgres@127.0.0.1:5432/postgres]

Fills N members, spread over the organisations (one in a hundred belongs to none), publishes a report
request to them all, and lets one member of every tenth organisation answer. Statistics are gathered
(ANALYZE), as PostgreSQL's autovacuum soon would. Then times answer_table (what the notice's page shows
its publisher, best of three), remind_due (the reminders, queued once) and remind_due again (nothing left
to queue). The baseline, measured in the same run on the same database, is counting the notice's delivery
rows (`SELECT count(*)`, best of three): the least any table of its recipients must read. Prints one JSON
line. With --postgresql the run is on a throwaway database of that server, dropped afterwards; else on
SQLite in a temporary directory.
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, insert, select, text  # noqa: E402

from bench.filling import membership_row  # noqa: E402
from models import Delivery, Membership, Organisation, Person, db, utcnow  # noqa: E402
from models.notices import Answer, Notice, NoticeKind  # noqa: E402
from models.people import OrganisationKind  # noqa: E402
from models.roles import RoleName  # noqa: E402
from models.services import seeding  # noqa: E402
from models.services.notices import NoticeDraft, answer_table, publish_notice, remind_due  # noqa: E402
from models.services.roles import grant  # noqa: E402
from wiring import create_app, load_settings  # noqa: E402

DOMAIN = "nhomthu.test"
CHUNK = 20_000
PASSES = 3


@contextmanager
def throwaway_database(server: str, work: Path) -> Iterator[str]:
    """A database of its own: a new one on the PostgreSQL server, dropped afterwards; else SQLite."""
    if not server:
        yield f"sqlite:///{work / 'bench.db'}"
        return
    admin_url = sa.make_url(server).set(drivername="postgresql+psycopg")
    name = f"nhomthu_bench_answers_{secrets.token_hex(4)}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def add_members(group_id: int, members: int, organisations: int) -> None:
    """Schools, and members in them: one in a hundred members belongs to none."""
    now = utcnow()
    db.session.execute(
        insert(Organisation),
        [
            {"name": f"Trường số {n:05d}", "kind": OrganisationKind.SCHOOL, "created_at": now}
            for n in range(organisations)
        ],
    )
    schools = db.session.scalars(select(Organisation.id).where(Organisation.name.like("Trường số %"))).all()
    for start in range(0, members, CHUNK):
        people = [
            {
                "email": f"gv{n}@truong{n % organisations}.edu.vn",
                "name": f"Giáo viên {n}",
                "organisation_id": None if n % 100 == 99 else schools[n % organisations],
                "locale": "vi",
                "created_at": now,
                "bounce_score": 0,
            }
            for n in range(start, min(start + CHUNK, members))
        ]
        db.session.execute(insert(Person), people)
    ids = db.session.scalars(select(Person.id).where(Person.email.like("gv%")).order_by(Person.id)).all()
    for start in range(0, len(ids), CHUNK):
        memberships = [membership_row(i, group_id, now) for i in ids[start : start + CHUNK]]
        db.session.execute(insert(Membership), memberships)
    db.session.commit()


def answer_from_every_tenth_organisation(notice: Notice) -> int:
    """The first member of every tenth school answers (as a reply in the thread would record it)."""
    firsts = db.session.execute(
        select(func.min(Person.id), Person.organisation_id)
        .where(
            Person.email.like("gv%"), Person.organisation_id.is_not(None), Person.organisation_id % 10 == 0
        )
        .group_by(Person.organisation_id)
    ).all()
    now = utcnow()
    db.session.execute(
        insert(Answer),
        [
            {"notice_id": notice.id, "person_id": p, "organisation_id": o, "answered_at": now, "late": False}
            for p, o in firsts
        ],
    )
    db.session.commit()
    return len(firsts)


def best(function: Callable[[], Any]) -> tuple[float, Any]:
    """The shortest of a few passes, and what the last one returned (each pass in a fresh transaction)."""
    times, result = [], None
    for _ in range(PASSES):
        db.session.rollback()
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return min(times), result


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = function()
    db.session.commit()
    return time.perf_counter() - started, result


def main() -> None:
    options = argparse.ArgumentParser()
    options.add_argument("--recipients", type=int, default=100_000)
    options.add_argument("--organisations", type=int, default=1000)
    options.add_argument(
        "--postgresql", default="", help="a PostgreSQL server's URL: run on a throwaway database"
    )
    args = options.parse_args()
    work = Path(tempfile.mkdtemp(prefix="nhomthu-answers-"))
    result: dict[str, object] = {
        "database": "postgresql" if args.postgresql else "sqlite",
        "recipients": args.recipients,
        "organisations": args.organisations,
    }
    try:
        with throwaway_database(args.postgresql, work) as url:
            result |= run(url, work, args.recipients, args.organisations)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result))


def run(url: str, work: Path, recipients: int, organisations: int) -> dict[str, object]:
    env = {
        "DATABASE_URL": url,
        "DATA_DIR": str(work),
        "LOG_LEVEL": "ERROR",
        "SECRET_KEY": "bench-secret-key-0123456789",
        "MAIL_DOMAIN": DOMAIN,
        "IMAP_HOST": "127.0.0.1",
        "IMAP_USER": "x",
        "IMAP_PASSWORD": "x",
        "SMTP_HOST": "127.0.0.1",
        "BASE_URL": f"https://{DOMAIN}",
    }
    with create_app(load_settings(env)).app_context():
        try:
            return measure(recipients, organisations)
        finally:
            db.session.remove()
            db.engine.dispose()  # so the throwaway database can be dropped


def measure(recipients: int, organisations: int) -> dict[str, object]:
    upgrade()
    group = seeding.ensure_standard_groups(db.session, seeding.ensure_ministry(db.session, f"x@{DOMAIN}"))[0]
    publisher = Person(email="vanphong@moet.edu.vn", name="Văn phòng Bộ")
    db.session.add(publisher)
    db.session.flush()
    grant(db.session, publisher, RoleName.PUBLISHER, group=group)
    add_members(group.id, recipients, organisations)
    draft = NoticeDraft(
        kind=NoticeKind.REPORT_REQUESTED,
        title="Báo cáo sơ kết học kỳ I",
        body="Đề nghị các trường gửi báo cáo.",
        groups=(group,),
        deadline=utcnow() + timedelta(days=1),
    )
    notice = publish_notice(db.session, draft, publisher, unit=None, domain=DOMAIN, now=utcnow())
    db.session.commit()
    answered = answer_from_every_tenth_organisation(notice)
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    rows = select(func.count(Delivery.id)).where(Delivery.message_key == f"notice:{notice.id}")
    counting, delivered = best(lambda: db.session.scalar(rows))
    tabling, table = best(lambda: answer_table(db.session, notice))
    reminding, reminded = timed(lambda: remind_due(db.session, utcnow(), DOMAIN))
    again, reminded_again = timed(lambda: remind_due(db.session, utcnow(), DOMAIN))
    return {
        "delivered": delivered,
        "organisations_answered": answered,
        "table_rows": len(table),
        "answer_table_s": round(tabling, 4),
        "reminders": reminded,
        "remind_due_s": round(reminding, 3),
        "reminders_second_run": reminded_again,
        "remind_due_second_run_s": round(again, 3),
        "baseline_count_rows_s": round(counting, 4),
        "answer_table_ratio": round(tabling / counting, 1),
        "remind_due_ratio": round(reminding / counting, 1),
    }


if __name__ == "__main__":
    main()
