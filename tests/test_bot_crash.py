"""The broadcaster killed with SIGKILL mid-run, twice, then run again: every chat gets the notice, and
only messages on the wire at a kill may arrive twice."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from models import db, utcnow
from models.notices import NoticeKind
from models.roles import RoleName
from models.services.memberships import find_group
from models.services.notices import NoticeDraft, publish_notice
from models.services.roles import grant
from tests.chat_updates import make_chat
from tests.conftest import environment
from tests.factories import make_member
from tests.servers.telegram import FakeTelegram

CHATS = 150
NHOMTHU = str(Path(sys.executable).parent / "nhomthu")


def test_sigkill_mid_broadcast_loses_nothing(
    bot_app: Flask, telegram: FakeTelegram, bot_env: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    publisher = make_member("VanPhongBo", "so")
    grant(db.session, publisher, RoleName.PUBLISHER, group=find_group(db.session, "so"))
    for n in range(CHATS):
        make_chat(make_member(f"Gv{n:03d}", "so"), 1000 + n)
    draft = NoticeDraft(NoticeKind.NOTICE, "Lịch thi", "Lịch thi học kỳ I.", (find_group(db.session, "so"),))
    publish_notice(db.session, draft, publisher, unit=None, domain="nhomthu.test", now=utcnow())
    db.session.commit()
    env = {
        **os.environ,
        **environment(database_url, tmp_path, **bot_env, OUTBOX_LEASE_SECONDS="1", LOG_LEVEL="ERROR"),
    }
    probe = sa.create_engine(database_url)

    def sent_rows() -> int:
        with probe.connect() as connection:
            return connection.execute(
                sa.text("SELECT count(*) FROM delivery WHERE state = 'sent'")
            ).scalar_one()

    in_flight = 0
    for low, high in ((10, CHATS // 3), (CHATS // 2, CHATS - 10)):
        process = subprocess.Popen([NHOMTHU, "bot", "--drain"], env=env)
        deadline = time.monotonic() + 60
        while not low <= len(telegram.sent()) < high:
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
        process.wait()
        in_flight += len(telegram.sent()) - sent_rows()  # reached Telegram, outcome never written
    assert in_flight <= 2 * 8
    time.sleep(1.1)  # the lease of what the killed processes had claimed runs out
    assert subprocess.run([NHOMTHU, "bot", "--drain"], env=env, timeout=120).returncode == 0

    copies = collections.Counter(c.params["chat_id"] for c in telegram.sent())
    assert set(copies) == set(range(1000, 1000 + CHATS)), "every chat got the notice"
    assert sum(n - 1 for n in copies.values()) <= in_flight
    assert sent_rows() == CHATS
    probe.dispose()
