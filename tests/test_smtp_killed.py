"""The SMTP server killed twice while a notice fans out, and restarted: every member still gets the
notice, and at most the message in flight at each kill goes twice."""

from __future__ import annotations

import collections
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from mailgate.sending import send_pending
from mailgate.transport import SmtpTransport
from models import Delivery, db, utcnow
from models.mail import DeliveryState
from models.notices import NoticeKind
from models.roles import RoleName
from models.services.memberships import find_group
from models.services.notices import NoticeDraft, publish_notice
from models.services.roles import grant
from tests.conftest import DOMAIN
from tests.factories import make_member
from tests.servers.dovecot import free_port

MEMBERS = 240
KILLS = 2


class KillableSmtp:
    """tests/servers/recording_smtp.py in a subprocess, on one port across restarts."""

    def __init__(self, record: Path) -> None:
        self.port, self.record = free_port(), record
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "tests.servers.recording_smtp", str(self.port), str(self.record)]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE)
        assert self.process.stdout is not None and self.process.stdout.readline().strip() == b"ready"

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        assert self.process.stdout is not None
        self.process.stdout.close()

    def received(self) -> list[str]:
        return self.record.read_text().split() if self.record.exists() else []


def kill_twice_mid_run(server: KillableSmtp, done: threading.Event) -> None:
    """Kill the server when a third, then two thirds, of the members have their copy; restart it."""
    for kill in range(1, KILLS + 1):
        while len(server.received()) < kill * MEMBERS // (KILLS + 1):
            if done.wait(0.002):
                return
        server.kill()
        time.sleep(0.3)  # the sender finds the server gone: refused connections, not only a dropped one
        server.start()


def test_smtp_server_killed_mid_fan_out_reaches_everyone_repeating_only_the_message_in_flight(
    make_app, tmp_path
):
    server = KillableSmtp(tmp_path / "received.txt")
    app = make_app(
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(server.port),
        IMAP_HOST="127.0.0.1",
        IMAP_USER="nobody",
        IMAP_PASSWORD="unused",
        OUTBOX_BATCH="20",
    )
    settings = app.extensions["nhomthu.settings"].mail
    publisher = make_member("VanPhongBo", "so")
    grant(db.session, publisher, RoleName.PUBLISHER, group=find_group(db.session, "so"))
    members = {make_member(f"So{n:03d}", "so").email for n in range(MEMBERS)}
    draft = NoticeDraft(
        kind=NoticeKind.NOTICE,
        title="Lịch nghỉ Tết",
        body="Kính gửi các Sở.",
        groups=(find_group(db.session, "so"),),
    )
    publish_notice(db.session, draft, publisher, unit=None, domain=DOMAIN, now=utcnow())
    db.session.commit()

    unsent = select(func.count(Delivery.id)).where(Delivery.state != DeliveryState.SENT)
    server.start()
    done = threading.Event()
    killer = threading.Thread(target=kill_twice_mid_run, args=(server, done))
    killer.start()
    transport, deferrals = SmtpTransport(settings.smtp), 0
    later = [timedelta()]  # the clock jumps past the minute released rows wait
    deadline = time.monotonic() + 120
    try:
        while db.session.scalar(unsent):
            assert time.monotonic() < deadline, "the outbox did not drain"
            counts = send_pending(db.session, settings, transport, lambda: utcnow() + later[0])
            if counts.deferred:
                later[0], deferrals = later[0] + timedelta(minutes=2), deferrals + 1
                time.sleep(0.05)
    finally:
        done.set()
        killer.join()
        transport.close()
        server.kill()

    received = collections.Counter(server.received())
    assert deferrals >= KILLS, "the sender saw the server go away"
    assert set(received) == members | {publisher.email}, "every member got the notice"
    repeats = sum(n - 1 for n in received.values())
    assert repeats <= KILLS, f"only the message in flight at each kill may go twice, not {repeats}"
