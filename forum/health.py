"""/health: the database, the mail servers (when each last answered the mailgate), the queues and the
worker's jobs. 200 while the database answers, 503 when it does not: for load balancers and monitors."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from models import db, utcnow
from models.services import heartbeats
from models.services.monitoring import gather

blueprint = Blueprint("health", __name__)


@blueprint.get("/health")
def health() -> tuple[Response, int]:
    now = utcnow()
    try:
        db.session.execute(text("SELECT 1"))
        figures = gather(db.session, now)
    except SQLAlchemyError as error:
        db.session.rollback()
        return jsonify(status="error", database=str(error.__class__.__name__)), 503
    pending = {ch: n for (ch, state), n in figures.deliveries.items() if state == "pending"}
    return jsonify(
        status="ok",
        database="ok",
        mail={
            "imap_last_fetch_seconds": _rounded(figures.heartbeats.get(heartbeats.FETCH)),
            "smtp_last_send_seconds": _rounded(figures.heartbeats.get(heartbeats.SEND)),
        },
        inbound_waiting=figures.inbound.get("new", 0),
        inbound_oldest_seconds=round(figures.inbound_oldest_new),
        outbox_waiting=pending,
        outbox_oldest_seconds=round(max(figures.oldest_due.values(), default=0.0)),
        jobs={
            job.name: {
                "runs": job.runs,
                "last_finished_seconds": _rounded(
                    (now - job.last_finished_at).total_seconds() if job.last_finished_at else None
                ),
                "ok": job.last_error is None,
            }
            for job in figures.jobs
        },
    ), 200


def _rounded(seconds: float | None) -> int | None:
    """None: never happened (no mail server configured, or the mailgate has not run yet)."""
    return None if seconds is None else round(seconds)
