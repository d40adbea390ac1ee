"""One notice to N members, through the real outbox, to an SMTP server on loopback that counts and discards.

    .venv/bin/python bench/fanout.py [--members 100000] [--million] [--database-url URL]

Prints one JSON line: personalised deliveries/s, peak RSS, and as the baseline the same server's rate from
a minimal sender (smtplib, one connection, one pre-built message) in the same run.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import smtplib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from mailgate.sending import send_pending  # noqa: E402
from models import Membership, Person, db, utcnow  # noqa: E402
from models.groups import MembershipSource, MembershipState  # noqa: E402
from models.notices import NoticeKind  # noqa: E402
from models.roles import RoleName  # noqa: E402
from models.services import seeding  # noqa: E402
from models.services.notices import NoticeDraft, publish_notice  # noqa: E402
from models.services.roles import grant  # noqa: E402
from tests.servers.dovecot import free_port  # noqa: E402
from wiring import create_app, load_settings  # noqa: E402
from wiring.processes import build_gate  # noqa: E402

BODY = (
    "Kính gửi các Sở Giáo dục và Đào tạo,\n\n"
    + "Đề nghị các đơn vị báo cáo kết quả thực hiện nhiệm vụ năm học. " * 20
)


def start_sink() -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    sink = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "smtp_sink.py"), str(port)], stdout=subprocess.PIPE
    )
    assert sink.stdout is not None and sink.stdout.readline().strip() == b"ready"
    return sink, port


def count(port: int) -> int:
    with smtplib.SMTP("127.0.0.1", port) as connection:
        return int(connection.docmd("XCOUNT")[1])


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
            [
                {
                    "person_id": i,
                    "group_id": group_id,
                    "state": MembershipState.ACTIVE,
                    "source": MembershipSource.IMPORT,
                    "unsubscribe_nonce": f"{i:016x}",
                    "requested_at": now,
                    "updated_at": now,
                }
                for i in ids
            ],
        )
    db.session.commit()


def baseline(port: int, messages: int, size: int) -> float:
    data = b"From: a@b\r\nTo: c@d\r\nSubject: x\r\n\r\n" + b"x" * size + b"\r\n"
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as connection:
        for n in range(messages):
            connection.sendmail("bounces@nhomthu.test", [f"gv{n}@truong.edu.vn"], data)
    return messages / (time.perf_counter() - start)


def main() -> None:
    options = argparse.ArgumentParser()
    options.add_argument("--members", type=int, default=100_000)
    options.add_argument("--million", action="store_true")
    options.add_argument("--database-url", default="")
    args = options.parse_args()
    members = 1_000_000 if args.million else args.members
    work = Path(tempfile.mkdtemp(prefix="nhomthu-fanout-"))
    sink, port = start_sink()
    env = {
        "DATA_DIR": str(work),
        "LOG_LEVEL": "ERROR",
        "SECRET_KEY": "bench-secret-key-0123456789",
        "MAIL_DOMAIN": "nhomthu.test",
        "IMAP_HOST": "127.0.0.1",
        "IMAP_USER": "x",
        "IMAP_PASSWORD": "x",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "BASE_URL": "https://nhomthu.test",
    }
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    settings = load_settings(env)
    app = create_app(settings)
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
            queued = time.perf_counter() - started
            gate = build_gate(settings)
            started = time.perf_counter()
            while send_pending(db.session, settings.mail, gate.transport, utcnow).total:
                pass
            sending = time.perf_counter() - started
            gate.close()
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        delivered = count(port)
        reference = baseline(port, min(members, 20_000), len(BODY.encode()) * 2)
    finally:
        sink.terminate()
        sink.wait()
        shutil.rmtree(work, ignore_errors=True)
    print(
        json.dumps(
            {
                "database": "postgresql" if args.database_url else "sqlite",
                "members": members,
                "delivered": delivered + 0,
                "queue_seconds": round(queued, 2),
                "deliveries_per_s": round(delivered / sending, 1),
                "baseline_minimal_sender_per_s": round(reference, 1),
                "ratio": round(delivered / sending / reference, 3),
                "peak_rss_mb": round(rss, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
