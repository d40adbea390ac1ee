"""Faults an IT department will see over the years: the IMAP server away for a while, the SMTP server
refusing or gone, PostgreSQL restarted under load. Each running process rides them out by itself,
and no message is lost."""

from __future__ import annotations

import collections
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from tests.conftest import environment
from tests.factories import make_mail, ours
from tests.servers import postgres
from tests.servers.dovecot import Dovecot, free_port, is_listening
from tests.servers.settings import mail_server_settings
from tests.servers.smtp import SmtpServer

BIN = Path(sys.executable).parent
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="Dovecot's master needs root")


def start(env: dict[str, str], *command: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, env={**os.environ, **env}, start_new_session=True)


def stop(*processes: subprocess.Popen[bytes]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_for(condition: Callable[[], bool], processes: list, timeout: float = 90, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert all(p.poll() is None for p in processes), "a process stopped by itself"
        assert time.monotonic() < deadline, f"no progress: {what}"
        time.sleep(0.1)


class Probe:
    """Reads the database as an operator would, from outside the processes under test."""

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url, pool_pre_ping=True)

    def count(self, sql: str) -> int:
        try:
            with self.engine.connect() as connection:
                return int(connection.execute(sa.text(sql)).scalar_one())
        except sa.exc.OperationalError:  # the server is restarting
            return -1

    def states(self) -> list:
        with self.engine.connect() as connection:
            return [
                *connection.execute(
                    sa.text("SELECT state, outcome, count(*) FROM inbound_message GROUP BY 1, 2")
                ),
                *connection.execute(sa.text("SELECT state, count(*) FROM delivery GROUP BY 1")),
            ]

    def close(self) -> None:
        self.engine.dispose()


HANDLED = "SELECT count(*) FROM inbound_message WHERE state = 'done'"
SENT = "SELECT count(*) FROM delivery WHERE state = 'sent'"


def join_requests(dovecot: Dovecot, first: int, count: int) -> None:
    with dovecot.client() as client:
        for n in range(first, first + count):
            client.append("INBOX", make_mail(f"gv{n:03d}@truong.edu.vn", ours("dangky-THPT")))


@pytest.fixture
def own_dovecot() -> Iterator[Dovecot]:
    """A Dovecot of this test's own, since the test stops it."""
    directory = Path(tempfile.mkdtemp(prefix="nhomthu-dovecot-"))
    directory.chmod(0o755)
    with Dovecot(directory) as server:
        yield server
    shutil.rmtree(directory, ignore_errors=True)


@needs_root
def test_imap_server_away_for_a_while_the_mailgate_reconnects_and_loses_nothing(
    make_app, own_dovecot, smtp, database_url, tmp_path
):
    make_app()
    env = environment(database_url, tmp_path, **mail_server_settings(own_dovecot, smtp), LOG_LEVEL="ERROR")
    probe = Probe(database_url)
    mailgate = start(env, str(BIN / "nhomthu"), "mailgate")
    try:
        join_requests(own_dovecot, 0, 5)
        wait_for(lambda: probe.count(SENT) == 5, [mailgate], what="first five")

        own_dovecot.stop()
        time.sleep(4)  # the mailgate finds the server gone and backs off: 1 s, 2 s, 4 s …
        local = make_mail("gv100@truong.edu.vn", ours("dangky-THPT"))
        inject = tmp_path / "local.eml"
        inject.write_bytes(local)
        subprocess.run([BIN / "nhomthu", "mail", "inject", inject], env={**os.environ, **env}, check=True)
        wait_for(lambda: probe.count(SENT) == 6, [mailgate], what="mail sent while IMAP is away")

        own_dovecot.start()
        join_requests(own_dovecot, 5, 5)
        wait_for(
            lambda: probe.count(SENT) == 11, [mailgate], timeout=60, what="after the IMAP server came back"
        )
        processed = probe.count("SELECT count(*) FROM inbound_message WHERE outcome = 'processed'")
    finally:
        stop(mailgate)
        probe.close()

    assert own_dovecot.uids("INBOX") == []
    assert len(own_dovecot.uids("nhomthu-da-xu-ly")) == 10
    assert processed == 11
    assert len({r.recipients[0] for r in smtp.received}) == 11


@needs_root
def test_smtp_server_refusing_then_gone_the_outbox_waits_and_delivers_later(
    make_app, imap, database_url, tmp_path
):
    make_app()
    relay = SmtpServer()
    relay.__enter__()
    env = environment(
        database_url,
        tmp_path,
        **mail_server_settings(imap, relay),
        OUTBOX_RETRY_SECONDS="1",
        LOG_LEVEL="ERROR",
    )
    probe = Probe(database_url)
    mailgate = start(env, str(BIN / "nhomthu"), "mailgate")
    try:
        relay.fail_next(*["451 4.3.0 Hệ thống bận, thử lại sau"] * 3)
        join_requests(imap, 0, 3)
        wait_for(lambda: probe.count(HANDLED) == 3, [mailgate], what="requests processed")
        wait_for(lambda: probe.count(SENT) == 3, [mailgate], what="sent after the refusals")
        assert probe.count("SELECT max(attempts) FROM delivery") >= 2, "refused, then tried again"

        relay.controller.stop()  # the relay is gone: connections are refused
        join_requests(imap, 3, 3)
        wait_for(lambda: probe.count(HANDLED) == 6, [mailgate], what="processed while the relay is gone")
        time.sleep(2)
        assert probe.count(SENT) == 3
        assert probe.count("SELECT count(*) FROM delivery WHERE state = 'pending'") == 3, (
            "waiting, not failed"
        )

        relay.controller = Controller(relay.recorder, hostname="127.0.0.1", port=relay.port)
        relay.controller.start()
        wait_for(lambda: probe.count(SENT) == 6, [mailgate], timeout=30, what="sent once the relay is back")
    finally:
        stop(mailgate)
        relay.__exit__()
        probe.close()

    copies = collections.Counter(str(r.message["Message-ID"]) for r in relay.received)
    assert len(copies) == 6 and max(copies.values()) == 1


@pytest.mark.skipif(not postgres.is_available(), reason="needs root and the PostgreSQL server binaries")
def test_postgresql_restarted_under_load_every_process_recovers_by_itself(imap, smtp, tmp_path):
    server = postgres.PrivatePostgres()
    server.start()
    url = server.url
    port = free_port()
    # A batch cut off by the restart stays claimed until its lease runs out (5 minutes by default).
    env = environment(
        url,
        tmp_path,
        **mail_server_settings(imap, smtp),
        WORKER_TICK_SECONDS="1",
        OUTBOX_LEASE_SECONDS="5",
        LOG_LEVEL="ERROR",
    )
    subprocess.run(
        [BIN / "nhomthu", "init"], env={**os.environ, **env}, check=True, stdout=subprocess.DEVNULL
    )
    count = 150
    join_requests(imap, 0, count)
    probe = Probe(url)
    processes = [
        start(env, str(BIN / "nhomthu"), "mailgate"),
        start(env, str(BIN / "nhomthu"), "worker"),
        start(
            env,
            str(BIN / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "wiring:create_web_app()",
        ),
    ]
    try:
        wait_for(lambda: 0 < probe.count(HANDLED) < count // 2, processes, what="processing started")
        server.restart()
        wait_for(lambda: count // 3 < probe.count(SENT) < count, processes, what="sending after a restart")
        server.restart()
        wait_for(
            lambda: probe.count(SENT) >= count, processes, timeout=120, what=f"all sent: {probe.states()}"
        )

        wait_for(lambda: is_listening("127.0.0.1", port), processes, what="gunicorn listening")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as answer:
            assert answer.status == 200  # its pooled connections died with the server: pre-ping replaced them
        runs = probe.count("SELECT sum(runs) FROM job_lock")
        with probe.engine.begin() as connection:
            connection.execute(sa.text("UPDATE job_lock SET next_run_at = '2000-01-01'"))
        wait_for(lambda: probe.count("SELECT sum(runs) FROM job_lock") >= runs + 4, processes, what="jobs")
        assert all(p.poll() is None for p in processes)
    finally:
        stop(*processes)
        probe.close()
        server.stop()
        server.remove()

    copies = collections.Counter(str(r.message["Message-ID"]) for r in smtp.received)
    assert len(copies) == count
    assert sum(n - 1 for n in copies.values()) <= 2, "at most what was in flight at each restart goes twice"
