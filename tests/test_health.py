"""/health and /metrics tell an operator what every process did, read from the database."""

from __future__ import annotations

from datetime import timedelta

from models import db
from models.services import outbox
from tests.factories import address, make_mail, ours
from wiring.processes import Job, run_job


def test_health_reports_the_mail_servers_queues_and_jobs(app, imap, smtp, gate):
    imap.append(make_mail(address("An"), ours("dangky-THPT")))
    gate.drain()
    outbox.enqueue(
        db.session,
        key="later",
        recipient=address("Binh"),
        template="goodbye",
        domain="nhomthu.test",
        now=gate.clock() - timedelta(minutes=3),
    )
    db.session.commit()
    run_job(app, Job("purge_tokens", lambda: 4, minutes=60), "worker-a")

    report = app.test_client().get("/health").get_json()

    assert report["status"] == "ok"
    assert 0 <= report["mail"]["imap_last_fetch_seconds"] < 60
    assert 0 <= report["mail"]["smtp_last_send_seconds"] < 60
    assert report["outbox_waiting"] == {"email": 1}
    assert 170 < report["outbox_oldest_seconds"] < 300
    assert report["jobs"]["purge_tokens"]["runs"] == 1 and report["jobs"]["purge_tokens"]["ok"]


def test_metrics_count_deliveries_by_outcome_and_inbound_by_result(app, imap, smtp, gate):
    for name in ("An", "Binh"):
        imap.append(make_mail(address(name), ours("dangky-THPT")))
    smtp.fail_next("550 5.1.1 No such user")
    gate.drain()

    answer = app.test_client().get("/metrics")
    text = answer.get_data(as_text=True)

    assert answer.status_code == 200 and answer.mimetype == "text/plain"
    assert 'nhomthu_deliveries{channel="email",state="sent"} 1.0' in text
    assert 'nhomthu_deliveries{channel="email",state="failed"} 1.0' in text
    assert 'nhomthu_inbound_messages{outcome="processed"} 2.0' in text
    assert 'nhomthu_ingest_lag_seconds{quantile="p95"}' in text
    assert 'nhomthu_heartbeat_age_seconds{name="mail.fetch"}' in text
