"""No crash and nothing unaccounted for on every message of shared/corpora/fixtures/, sent to a group."""

from __future__ import annotations

import collections

from sqlalchemy import select

from models import InboundMessage, Post, db, utcnow
from models.services.inbound import store_raw
from tests.corpora import fixture_messages
from tests.factories import open_discussion, ours
from wiring.processes import build_gate


def as_delivered_to_group(raw: bytes) -> bytes:
    lines = raw.split(b"\n", 1)
    body = lines[1] if lines[0].startswith(b"From ") and len(lines) > 1 else raw
    return f"Delivered-To: {ours('thpt')}\n".encode() + body


def test_every_fixture_message_gets_an_outcome_and_none_crashes(make_app):
    app = make_app()
    open_discussion()
    messages = fixture_messages()
    for _, raw in messages:
        store_raw(db.session, as_delivered_to_group(raw), mailbox="local", now=utcnow())
    db.session.commit()
    build_gate(app.extensions["nhomthu.settings"]).drain()

    rows = db.session.scalars(select(InboundMessage).order_by(InboundMessage.id)).all()
    assert len(rows) == len(messages) == 492
    assert all(row.state == "done" and row.outcome for row in rows)
    crashed = [
        (name, row.reason)
        for (name, _), row in zip(messages, rows, strict=True)
        if row.step == "process"  # the step the loop names when a step raised
    ]
    assert crashed == []
    outcomes = collections.Counter(str(row.outcome) for row in rows)

    posts = db.session.scalar(select(db.func.count(Post.id)))
    # Held posts are posts too (non-members); ignored are robots, duplicates and lists; the rest quarantined.
    assert outcomes["processed"] + outcomes["held"] >= posts > 0
    assert set(outcomes) <= {"processed", "held", "ignored", "quarantined"}
