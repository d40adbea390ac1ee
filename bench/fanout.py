"""One notice to N members, through the real outbox, to an SMTP server on loopback that counts and discards.

    .venv/bin/python bench/fanout.py [--members 100000] [--million] [--database-url URL] [--kill-smtp]
                                     [--batch N] [--python-sink]

Prints one JSON line: personalised deliveries/s, the sender's CPU time per delivery, peak RSS, and as the
baseline the same server's rate from a minimal sender (smtplib, one connection, one pre-built message) in
the same run. The server is Postfix's smtp-sink when installed (C, so the 2-core machine's second core is
left to the database), else bench/smtp_sink.py. With --kill-smtp the
server is killed (SIGKILL) at a third and at two thirds of the run and restarted; the line then also
says how many members got the notice twice and how many never got it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from bench.filling import membership_row  # noqa: E402
from mailgate.sending import send_pending  # noqa: E402
from mailgate.transport import Transport  # noqa: E402
from models import Membership, Person, db, utcnow  # noqa: E402
from models.notices import NoticeKind  # noqa: E402
from models.roles import RoleName  # noqa: E402
from models.services import seeding  # noqa: E402
from models.services.notices import NoticeDraft, publish_notice  # noqa: E402
from models.services.roles import grant  # noqa: E402
from tests.servers.dovecot import free_port  # noqa: E402
from wiring import Settings, create_app, load_settings  # noqa: E402
from wiring.processes import build_gate  # noqa: E402

BODY = (
    "Kính gửi các Sở Giáo dục và Đào tạo,\n\n"
    + "Đề nghị các đơn vị báo cáo kết quả thực hiện nhiệm vụ năm học. " * 20
)


POSTFIX_SINK = Path("/usr/sbin/smtp-sink")


class Sink:
    """bench/smtp_sink.py in a subprocess, on one port across restarts; it records recipients."""

    name = "bench/smtp_sink.py"

    def __init__(self, record: Path | None = None) -> None:
        self.port, self.record = free_port(), record
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, str(ROOT / "bench" / "smtp_sink.py"), str(self.port)]
        command += [str(self.record)] if self.record else []
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE)
        assert self.process.stdout is not None and self.process.stdout.readline().strip() == b"ready"

    def stop(self, sig: int = signal.SIGTERM) -> None:
        assert self.process is not None and self.process.stdout is not None
        self.process.send_signal(sig)
        self.process.wait()
        self.process.stdout.close()

    def count(self) -> int:
        with smtplib.SMTP("127.0.0.1", self.port) as connection:
            return int(connection.docmd("XCOUNT")[1])

    def recorded(self) -> Counter[str]:
        return Counter(self.record.read_text().split()) if self.record and self.record.exists() else Counter()


class PostfixSink(Sink):
    """Postfix's smtp-sink (C, pipelining): a far end that costs the 2-core machine almost nothing, so
    the run measures our sender rather than the receiver. It counts messages on its standard output."""

    name = "postfix smtp-sink"

    def __init__(self, work: Path) -> None:
        super().__init__()
        self.output = work / "smtp-sink.out"

    def start(self) -> None:
        user = ["-u", "nobody"] if os.getuid() == 0 else []  # it refuses to run as root otherwise
        command = [str(POSTFIX_SINK), "-c", *user, f"127.0.0.1:{self.port}", "256"]
        with self.output.open("wb") as output:
            self.process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.01)
        raise RuntimeError(f"smtp-sink did not start: {self.output.read_text()}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        assert self.process is not None
        self.process.send_signal(sig)
        self.process.wait()

    def count(self) -> int:
        """The last "mesg=N" of the running counters (each update ends with a carriage return)."""
        time.sleep(0.2)  # the counters are written when a session ends
        with self.output.open("rb") as output:
            output.seek(max(0, output.seek(0, os.SEEK_END) - 4096))
            tail = output.read().decode()
        return int(tail.rsplit("mesg=", 1)[1].split()[0])


def kill_twice(sink: Sink, total: int, done: threading.Event) -> None:
    """SIGKILL the sink when a third, then two thirds, of the copies are recorded; start it again."""
    assert sink.record is not None
    seen, lines = 0, 0
    for kill in (1, 2):
        while lines < kill * total // 3:
            if done.wait(0.01):
                return
            if sink.record.exists():
                with sink.record.open("rb") as record:
                    record.seek(seen)
                    new = record.read()
                seen, lines = seen + len(new), lines + new.count(b"\n")
        sink.stop(signal.SIGKILL)
        time.sleep(0.5)
        sink.start()


def add_members(group_id: int, members: int) -> None:
    now = utcnow()
    for start in range(0, members, 20_000):
        chunk = range(start, min(start + 20_000, members))
        db.session.execute(
            insert(Person),
            [
                {
                    "email": f"gv{n}@truong{n % 500}.edu.vn",
                    "name": f"Giáo viên {n}",
                    "locale": "vi",
                    "created_at": now,
                    "bounce_score": 0,
                }
                for n in chunk
            ],
        )
        ids = db.session.scalars(
            select(Person.id)
            .where(Person.email.like("gv%"))
            .order_by(Person.id)
            .offset(start)
            .limit(len(chunk))
        ).all()
        db.session.execute(
            insert(Membership),
            [membership_row(i, group_id, now) for i in ids],
        )
    db.session.commit()


def baseline(port: int, messages: int, size: int) -> float:
    data = b"From: a@b\r\nTo: c@d\r\nSubject: x\r\n\r\n" + b"x" * size + b"\r\n"
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as connection:
        for n in range(messages):
            connection.sendmail("bounces@nhomthu.test", [f"gv{n}@truong.edu.vn"], data)
    return messages / (time.perf_counter() - start)


class Clock:
    """Now, or later than now: rows given back when the server went away wait a minute, which a
    benchmark need not spend waiting."""

    def __init__(self) -> None:
        self.ahead = timedelta()

    def __call__(self) -> datetime:
        return utcnow() + self.ahead


def drain(settings: Settings, transport: Transport) -> int:
    """Send until the outbox is empty; how many batches found the server gone."""
    clock, deferrals = Clock(), 0
    while (counts := send_pending(db.session, settings.mail, transport, clock)).total:
        if counts.deferred:
            clock.ahead += timedelta(minutes=2)
            deferrals += 1
            time.sleep(0.05)
    return deferrals


def main() -> None:
    options = argparse.ArgumentParser()
    options.add_argument("--members", type=int, default=100_000)
    options.add_argument("--million", action="store_true")
    options.add_argument("--database-url", default="")
    options.add_argument("--kill-smtp", action="store_true", help="kill the SMTP server twice mid-run")
    options.add_argument("--batch", type=int, default=0, help="OUTBOX_BATCH (default: the setting's)")
    options.add_argument(
        "--python-sink", action="store_true", help="receive with bench/smtp_sink.py, not Postfix's smtp-sink"
    )
    args = options.parse_args()
    members = 1_000_000 if args.million else args.members
    work = Path(tempfile.mkdtemp(prefix="nhomthu-fanout-"))
    if args.kill_smtp:  # the record of who got what, across the kills, is the Python sink's
        sink = Sink(work / "received.txt")
    elif args.python_sink or not POSTFIX_SINK.exists():
        sink = Sink()
    else:
        sink = PostfixSink(work)
    sink.start()
    env = {
        "DATA_DIR": str(work),
        "LOG_LEVEL": "ERROR",
        "SECRET_KEY": "bench-secret-key-0123456789",
        "MAIL_DOMAIN": "nhomthu.test",
        "IMAP_HOST": "127.0.0.1",
        "IMAP_USER": "x",
        "IMAP_PASSWORD": "x",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(sink.port),
        "BASE_URL": "https://nhomthu.test",
    }
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    if args.batch:
        env["OUTBOX_BATCH"] = str(args.batch)
    settings = load_settings(env)
    app = create_app(settings)
    done = threading.Event()
    killer = threading.Thread(target=kill_twice, args=(sink, members, done))
    result: dict[str, object] = {
        "database": "postgresql" if args.database_url else "sqlite",
        "members": members,
        "smtp_server": sink.name,
    }
    result["batch"] = settings.mail.send_batch
    try:
        with app.app_context():
            upgrade()
            group = seeding.ensure_standard_groups(
                db.session, seeding.ensure_ministry(db.session, "x@nhomthu.test")
            )[0]
            publisher = Person(email="vanphong@moet.edu.vn", name="Văn phòng Bộ")
            db.session.add(publisher)
            db.session.flush()
            grant(db.session, publisher, RoleName.PUBLISHER, group=group)
            add_members(group.id, members)
            started = time.perf_counter()
            draft = NoticeDraft(
                kind=NoticeKind.NOTICE, title="Thông báo lịch nghỉ Tết", body=BODY, groups=(group,)
            )
            publish_notice(db.session, draft, publisher, unit=None, domain="nhomthu.test", now=utcnow())
            db.session.commit()
            result["queue_seconds"] = round(time.perf_counter() - started, 2)
            gate = build_gate(settings)
            if args.kill_smtp:
                killer.start()
            started, cpu = time.perf_counter(), time.process_time()
            deferrals = drain(settings, gate.transport)
            sending, cpu = time.perf_counter() - started, time.process_time() - cpu
            done.set()
            gate.close()
            result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        if args.kill_smtp:
            killer.join()
            copies = sink.recorded()
            delivered = len(copies)
            result |= {
                "smtp_kills": 2,
                "batches_deferred": deferrals,
                "repeats": sum(n - 1 for n in copies.values()),
                "missing": members - delivered,
            }
        else:
            delivered = sink.count()
        reference = baseline(sink.port, min(members, 20_000), len(BODY.encode()) * 2)
    finally:
        done.set()
        sink.stop()
        shutil.rmtree(work, ignore_errors=True)
    result |= {
        "delivered": delivered,
        "send_seconds": round(sending, 1),
        "deliveries_per_s": round(delivered / sending, 1),
        "sender_cpu_us_per_delivery": round(cpu / delivered * 1e6),
        "baseline_minimal_sender_per_s": round(reference, 1),
        "ratio": round(delivered / sending / reference, 3),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
