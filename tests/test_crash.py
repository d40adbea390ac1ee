"""Nothing lost, nothing twice: the mailgate killed with SIGKILL mid-batch, twice, then restarted."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from tests.conftest import environment
from tests.factories import make_mail, ours
from tests.servers.dovecot import Dovecot
from tests.servers.smtp import SmtpServer

MESSAGES = 240
BATCH = 10  # the outcomes of a batch are committed together: a kill repeats at most the batch in flight
NHOMTHU = str(Path(sys.executable).parent / "nhomthu")


def start_mailgate(env: dict[str, str], *arguments: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([NHOMTHU, "mailgate", *arguments], env={**os.environ, **env})


def kill_when(process: subprocess.Popen[bytes], condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, "the mailgate stopped by itself"
        assert time.monotonic() < deadline, "the mailgate made no progress"
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()


def test_sigkill_mid_batch_loses_nothing_and_repeats_nothing(
    app: Flask, imap: Dovecot, smtp: SmtpServer, mail_env: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    senders = [f"gv{n:03d}@truong{n % 7}.edu.vn" for n in range(MESSAGES)]
    with imap.client() as client:
        for sender in senders:
            client.append("INBOX", make_mail(sender, ours("dangky-THPT")))
    env = environment(
        database_url,
        tmp_path,
        **mail_env,
        OUTBOX_LEASE_SECONDS="1",
        OUTBOX_BATCH=str(BATCH),
        LOG_LEVEL="ERROR",
    )
    probe = sa.create_engine(database_url)

    def count(sql: str) -> int:
        with probe.connect() as connection:
            return connection.execute(sa.text(sql)).scalar_one()

    handled = "SELECT count(*) FROM inbound_message WHERE state = 'done'"
    sent = "SELECT count(*) FROM delivery WHERE state = 'sent'"

    kill_when(start_mailgate(env), lambda: 0 < count(handled) < MESSAGES // 2)
    assert count(handled) < MESSAGES
    kill_when(start_mailgate(env), lambda: MESSAGES // 3 < count(sent) < MESSAGES)
    assert count(sent) < MESSAGES
    time.sleep(1.1)  # the lease of what the killed process had claimed runs out
    assert start_mailgate(env, "--drain").wait(timeout=120) == 0

    assert count("SELECT count(*) FROM inbound_message") == MESSAGES
    assert count("SELECT count(DISTINCT message_id) FROM inbound_message") == MESSAGES
    assert count("SELECT count(*) FROM inbound_message WHERE outcome = 'processed'") == MESSAGES
    assert count("SELECT count(*) FROM membership WHERE state = 'pending'") == MESSAGES
    assert count("SELECT count(*) FROM delivery WHERE template = 'confirm' AND state = 'sent'") == MESSAGES
    assert imap.uids("INBOX") == []
    assert len(imap.uids("nhomthu-da-xu-ly")) == MESSAGES

    copies = collections.Counter(str(r.message["Message-ID"]) for r in smtp.received)
    assert {r for received in smtp.received for r in received.recipients} == set(senders)
    assert len(copies) == MESSAGES, "every confirmation reached the SMTP server"
    repeats = sum(n - 1 for n in copies.values())
    assert repeats <= 2 * BATCH, f"only the batch in flight at each of the two kills may go twice: {repeats}"
    probe.dispose()


def test_two_mailgates_at_once_handle_each_message_once(
    app: Flask, imap: Dovecot, smtp: SmtpServer, mail_env: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    count = 120
    with imap.client() as client:
        for n in range(count):
            client.append("INBOX", make_mail(f"gv{n:03d}@truong.edu.vn", ours("dangky-THPT")))
    env = environment(database_url, tmp_path, **mail_env, LOG_LEVEL="ERROR")
    gates = [start_mailgate(env, "--drain") for _ in range(2)]
    assert [gate.wait(timeout=120) for gate in gates] == [0, 0]
    assert start_mailgate(env, "--drain").wait(timeout=120) == 0  # whatever a race left for later

    probe = sa.create_engine(database_url)
    with probe.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT outcome, count(*) FROM inbound_message GROUP BY outcome")
        ).all()
        confirmations = connection.execute(
            sa.text("SELECT count(*) FROM delivery WHERE state = 'sent'")
        ).scalar()
    probe.dispose()
    assert dict(rows) == {"processed": count}
    assert confirmations == count
    copies = collections.Counter(str(r.message["Message-ID"]) for r in smtp.received)
    assert len(copies) == count and max(copies.values()) == 1
