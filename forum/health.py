"""/health: is the database reachable, and how old is the oldest mail waiting in each queue."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from models import Delivery, InboundMessage, db, utcnow
from models.mail import DeliveryState, InboundState

blueprint = Blueprint("health", __name__)


@blueprint.get("/health")
def health() -> tuple[Response, int]:
    try:
        db.session.execute(text("SELECT 1"))
        oldest_in = db.session.scalar(
            select(func.min(InboundMessage.received_at)).where(InboundMessage.state == InboundState.NEW)
        )
        oldest_out = db.session.scalar(
            select(func.min(Delivery.next_attempt_at)).where(Delivery.state == DeliveryState.PENDING)
        )
    except SQLAlchemyError as error:
        return jsonify(status="error", database=str(error.__class__.__name__)), 503
    now = utcnow()
    return jsonify(
        status="ok",
        database="ok",
        inbound_oldest_seconds=round((now - oldest_in).total_seconds()) if oldest_in else 0,
        outbox_oldest_seconds=max(round((now - oldest_out).total_seconds()), 0) if oldest_out else 0,
    ), 200
