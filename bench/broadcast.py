"""A notice to N linked Telegram chats, sent by the bot's broadcaster (`nhomthu bot --broadcast-only
--drain`, a real process, without aiogram) through the fake Bot API on loopback, which enforces 30
messages a second and answers 429.

    .venv/bin/python bench/broadcast.py [--chats 10000] [--kills 3] [--queued 100000] [--database-url URL]

The broadcaster is killed with SIGKILL `--kills` times early in the run, then run to the end. Prints one
JSON line: the rate over the uninterrupted final run and over the whole, the busiest one-second window,
429s, losses and repeats (against what was on the wire at the kills), the broadcaster's peak RSS, its
peak RSS serving (`nhomthu bot --broadcast-only`) idle and with `--queued` rows waiting, beside it the
dispatcher's (`nhomthu bot --no-broadcast`, aiogram's process) idle; and as the baseline, the fake server's
own request rate from a bare aiohttp client (no database, no limits) in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from models import ChatLink, Delivery, Membership, Person, db, utcnow  # noqa: E402
from models.groups import MembershipSource, MembershipState  # noqa: E402
from models.mail import DeliveryState  # noqa: E402
from models.notices import NoticeKind  # noqa: E402
from models.roles import RoleName  # noqa: E402
from models.services import seeding  # noqa: E402
from models.services.notices import NoticeDraft, publish_notice  # noqa: E402
from models.services.roles import grant  # noqa: E402
from tests.servers.telegram import FakeTelegram  # noqa: E402
from wiring import create_app, load_settings  # noqa: E402

NHOMTHU = str(Path(sys.executable).parent / "nhomthu")
BODY = "Kính gửi các Sở Giáo dục và Đào tạo,\n\n" + "Đề nghị các đơn vị báo cáo kết quả năm học. " * 20
FIRST_CHAT = 10_000_000


def add_chats(group_id: int, chats: int) -> None:
    now = utcnow()
    for start in range(0, chats, 20_000):
        numbers = range(start, min(start + 20_000, chats))
        db.session.execute(
            insert(Person),
            [
                {"email": f"gv{n}@truong.edu.vn", "name": "", "locale": "vi", "created_at": now}
                for n in numbers
            ],
        )
        ids = db.session.execute(
            select(Person.id, Person.email).where(Person.email.like("gv%@truong.edu.vn"))
        ).all()
        by_email = dict((email, i) for i, email in ids)
        people = [by_email[f"gv{n}@truong.edu.vn"] for n in numbers]
        db.session.execute(
            insert(Membership),
            [
                {
                    "person_id": i,
                    "group_id": group_id,
                    "state": MembershipState.ACTIVE,
                    "source": MembershipSource.IMPORT,
                    "unsubscribe_nonce": "b",
                    "requested_at": now,
                    "updated_at": now,
                }
                for i in people
            ],
        )
        db.session.execute(
            insert(ChatLink),
            [
                {
                    "person_id": i,
                    "platform": "telegram",
                    "chat_id": str(FIRST_CHAT + n),
                    "name": "",
                    "active": True,
                    "linked_at": now,
                }
                for n, i in zip(numbers, people, strict=True)
            ],
        )
    db.session.commit()


def peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Run:
    """Starts `nhomthu bot --broadcast-only --drain`, watches its memory, kills it."""

    def __init__(self, env: dict[str, str]) -> None:
        command = [NHOMTHU, "bot", "--broadcast-only", "--drain"]
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
        self.rss = 0.0

    def watch(self) -> bool:
        self.rss = max(self.rss, peak_rss_mb(self.process.pid))
        return self.process.poll() is None

    def kill(self) -> None:
        self.watch()
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()


def import_rss(statement: str) -> float:
    """What one import costs a fresh interpreter (aiogram's pydantic models are most of the dispatcher's
    memory; the broadcaster never imports it)."""
    code = f"{statement}\nimport resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    return round(int(subprocess.check_output([sys.executable, "-c", code])) / 1024, 1)


async def bare_client_rate(url: str, seconds: float = 3.0) -> float:
    """The fake server answering a bare client (getMe, one connection, no database, no limits)."""
    async with aiohttp.ClientSession() as session:
        done, until = 0, time.perf_counter() + seconds
        started = time.perf_counter()
        while time.perf_counter() < until:
            async with session.post(f"{url}/bot4242:bench/getMe") as answer:
                await answer.read()
            done += 1
        return done / (time.perf_counter() - started)


def main() -> None:
    options = argparse.ArgumentParser()
    options.add_argument("--chats", type=int, default=10_000)
    options.add_argument("--kills", type=int, default=3)
    options.add_argument("--queued", type=int, default=100_000)
    options.add_argument("--database-url", default="")
    args = options.parse_args()
    work = Path(tempfile.mkdtemp(prefix="nhomthu-broadcast-"))
    telegram = FakeTelegram(rate=30, per_chat=1.0)
    telegram.server.start()
    env = {
        "DATA_DIR": str(work),
        "LOG_LEVEL": "ERROR",
        "SECRET_KEY": "bench-secret-key-0123456789",
        "MAIL_DOMAIN": "nhomthu.test",
        "BASE_URL": "https://nhomthu.test",
        "TELEGRAM_BOT_TOKEN": "4242:bench",
        "TELEGRAM_API_URL": telegram.url,
        "OUTBOX_LEASE_SECONDS": "5",
    }
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    settings = load_settings(env)
    app = create_app(settings)
    child_env = {**os.environ, **env, "DATABASE_URL": settings.database_url}
    try:
        with app.app_context():
            upgrade()
            groups = seeding.ensure_standard_groups(
                db.session, seeding.ensure_ministry(db.session, "x@nhomthu.test")
            )
            group = groups[0]
            publisher = Person(email="vanphong@moet.edu.vn", name="Văn phòng Bộ")
            db.session.add(publisher)
            db.session.flush()
            grant(db.session, publisher, RoleName.PUBLISHER, group=group)
            add_chats(group.id, args.chats)
            draft = NoticeDraft(NoticeKind.NOTICE, "Thông báo lịch nghỉ Tết", BODY, (group,))
            publish_notice(db.session, draft, publisher, unit=None, domain="nhomthu.test", now=utcnow())
            db.session.commit()
        figures = broadcast(args, telegram, child_env, app)
        if args.queued:
            idle, queued = queued_rss(args.queued, child_env, app)
            figures |= {
                "serving_idle_peak_rss_mb": idle,
                "queued_rows": args.queued,
                "queued_peak_rss_mb": queued,
                "dispatcher_idle_peak_rss_mb": peak_while_serving(child_env, "--no-broadcast"),
            }
            figures["aiogram_import_rss_mb"] = import_rss("import aiogram")
        figures["baseline_bare_client_requests_per_s"] = round(asyncio.run(bare_client_rate(telegram.url)), 1)
    finally:
        telegram.server.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(figures))


def broadcast(args: argparse.Namespace, telegram: FakeTelegram, env: dict[str, str], app) -> dict:
    engine = sa.create_engine(env["DATABASE_URL"])

    def sent_rows() -> int:
        with engine.connect() as connection:
            return connection.execute(
                sa.text("SELECT count(*) FROM delivery WHERE state = 'sent'")
            ).scalar_one()

    in_flight, rss = 0, 0.0
    for kill in range(args.kills):  # early in the run, so the final run is long enough to pace
        run = Run(env)
        target = (kill + 1) * args.chats // (10 * max(args.kills, 1))
        while len(telegram.sent()) < max(target, 1) and run.watch():
            time.sleep(0.05)
        run.kill()
        rss = max(rss, run.rss)
        in_flight += len(telegram.sent()) - sent_rows()
    final_start = len(telegram.sent())
    while sent_rows() < args.chats:
        run = Run(env)
        while run.watch():
            time.sleep(0.2)
        rss = max(rss, run.rss)
        if sent_rows() < args.chats:
            time.sleep(1)  # what waits for a lease or a retry
    engine.dispose()
    accepted = telegram.sent()
    copies = collections.Counter(c.params["chat_id"] for c in accepted)
    final = sorted(c.at for c in accepted[final_start:])
    everything = sorted(c.at for c in accepted)
    return {
        "database": "postgresql" if "postgresql" in env["DATABASE_URL"] else "sqlite",
        "chats": args.chats,
        "rate_final_run_per_s": round((len(final) - 1) / (final[-1] - final[0]), 2),
        "rate_overall_per_s": round((len(everything) - 1) / (everything[-1] - everything[0]), 2),
        "max_accepted_in_any_1s_window": telegram.max_in_window(1.0),
        "max_tried_in_any_1s_window": telegram.max_in_window(1.0, tried=True),
        "answers_429": telegram.answered(429),
        "kills": args.kills,
        "lost": args.chats - len(copies),
        "repeats": sum(n - 1 for n in copies.values()),
        "in_flight_at_kills": in_flight,
        "peak_rss_mb": round(rss, 1),
    }


def queued_rss(rows: int, env: dict[str, str], app) -> tuple[float, float]:
    """The broadcaster with nothing to send, then with `rows` chat messages waiting: peak memory over
    twenty seconds of each, so the queue's own cost shows beside the process's."""
    idle = peak_while_serving(env)
    with app.app_context():
        db.session.execute(sa.delete(Delivery).where(Delivery.channel == "telegram"))
        notice = db.session.scalar(sa.text("SELECT max(id) FROM notice"))
        now = utcnow()
        for start in range(0, rows, 20_000):
            db.session.execute(
                insert(Delivery),
                [
                    {
                        "message_key": f"notice:{notice}",
                        "recipient": str(FIRST_CHAT + n),
                        "channel": "telegram",
                        "template": "notice",
                        "params": {"notice": notice},
                        "message_id": f"<q{n}@nhomthu.test>",
                        "state": DeliveryState.PENDING,
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                    for n in range(start, min(start + 20_000, rows))
                ],
            )
        db.session.commit()
    return idle, peak_while_serving(env)


def peak_while_serving(env: dict[str, str], role: str = "--broadcast-only", seconds: float = 20) -> float:
    run = subprocess.Popen([NHOMTHU, "bot", role], env=env, stdout=subprocess.DEVNULL)
    peak, until = 0.0, time.monotonic() + seconds
    while time.monotonic() < until and run.poll() is None:
        peak = max(peak, peak_rss_mb(run.pid))
        time.sleep(0.2)
    run.send_signal(signal.SIGKILL)
    run.wait()
    return round(peak, 1)


if __name__ == "__main__":
    main()
