"""Joining by email, end to end: IMAP fetch, pipeline, confirmation sent over SMTP.

Prints one JSON line. Each stage has a baseline measured in the same run on the same machine, so the
ratios hold on a noisy machine: a plain IMAP fetch of the same messages, a plain SQLite insert and
commit of the same bytes, and plain smtplib sending of the same number of messages over one connection.

    .venv/bin/python bench/registration.py [--messages 1000]   (as root: it starts Dovecot)
"""

from __future__ import annotations

import argparse
import json
import shutil
import smtplib
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask_migrate import upgrade  # noqa: E402

from mailgate.imap import fetch_new  # noqa: E402
from mailgate.processing import process_pending  # noqa: E402
from mailgate.sending import send_pending  # noqa: E402
from models import db, utcnow  # noqa: E402
from models.services import seeding  # noqa: E402
from tests.factories import make_mail  # noqa: E402
from tests.servers.dovecot import Dovecot  # noqa: E402
from tests.servers.settings import mail_server_settings  # noqa: E402
from tests.servers.smtp import SmtpServer  # noqa: E402
from wiring import create_app, load_settings  # noqa: E402
from wiring.processes import build_gate  # noqa: E402


def rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds else float("inf")


def timed(function) -> tuple[object, float]:  # noqa: ANN001
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1000)
    count = parser.parse_args().messages
    work = Path(tempfile.mkdtemp(prefix="nhomthu-bench-"))
    work.chmod(0o755)
    (work / "dovecot").mkdir(mode=0o755)
    mails = [make_mail(f"gv{n}@truong{n % 50}.edu.vn", "dangky-THPT@nhomthu.test") for n in range(count)]
    with Dovecot(work / "dovecot") as imap, SmtpServer() as smtp:
        with imap.client() as client:
            for raw in mails:
                client.append("INBOX", raw)
        baseline_fetch = _plain_fetch(imap)
        env = {
            "DATA_DIR": str(work),
            "MAIL_DOMAIN": "nhomthu.test",
            "LOG_LEVEL": "ERROR",
            **mail_server_settings(imap, smtp),
            "CONFIRMATIONS_PER_DAY": "5",
        }
        settings = load_settings(env)
        app = create_app(settings)
        with app.app_context():
            upgrade()
            seeding.ensure_standard_groups(db.session, seeding.ensure_ministry(db.session, "x@nhomthu.test"))
            db.session.commit()
            gate = build_gate(settings)
            _, fetch_s = timed(lambda: _repeat(lambda: fetch_new(db.session, gate.inbox, utcnow, limit=200)))
            _, process_s = timed(lambda: _repeat(lambda: process_pending(db.session, settings.mail, utcnow)))
            _, send_s = timed(
                lambda: _repeat(lambda: send_pending(db.session, settings.mail, gate.transport, utcnow).total)
            )
            gate.close()
        baseline_store = _plain_store(mails, work / "baseline.db")
        smtp.reset()
        baseline_send = _plain_send(smtp.port, mails)
    print(
        json.dumps(
            {
                "messages": count,
                "fetch_store_per_s": rate(count, fetch_s),
                "baseline_imap_fetch_per_s": rate(count, baseline_fetch),
                "baseline_sqlite_insert_commit_per_s": rate(count, baseline_store),
                "process_per_s": rate(count, process_s),
                "send_per_s": rate(count, send_s),
                "baseline_smtplib_send_per_s": rate(count, baseline_send),
                "fetch_store_vs_baseline": round(baseline_fetch / fetch_s, 3),
                "send_vs_baseline": round(baseline_send / send_s, 3),
                "end_to_end_per_s": rate(count, fetch_s + process_s + send_s),
            }
        )
    )
    shutil.rmtree(work, ignore_errors=True)


def _repeat(step) -> int:  # noqa: ANN001
    total = 0
    while done := step():
        total += done
    return total


def _plain_fetch(imap: Dovecot) -> float:
    with imap.client() as client:
        client.select_folder("INBOX", readonly=True)
        start = time.perf_counter()
        uids = client.search("ALL")
        for first in range(0, len(uids), 200):
            client.fetch(uids[first : first + 200], ["BODY.PEEK[]"])
        return time.perf_counter() - start


def _plain_store(mails: list[bytes], path: Path) -> float:
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE m (id INTEGER PRIMARY KEY, raw BLOB)")
    start = time.perf_counter()
    for raw in mails:
        connection.execute("INSERT INTO m (raw) VALUES (?)", (raw,))
        connection.commit()
    seconds = time.perf_counter() - start
    connection.close()
    return seconds


def _plain_send(port: int, mails: list[bytes]) -> float:
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as connection:
        for n, raw in enumerate(mails):
            connection.sendmail("bounces@nhomthu.test", [f"gv{n}@truong.edu.vn"], raw.replace(b"\n", b"\r\n"))
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
