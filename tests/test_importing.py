"""Archives: the threads agree with the archive's own index, and an interrupted import resumes."""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from mailgate.archives import read_archive
from mailgate.importing import import_archive
from models import InboundMessage, Post, db, utcnow
from models.services.inbound import store_raw
from models.services.memberships import find_group
from tests.conftest import environment
from tests.corpora import CORPORA
from tests.factories import open_discussion, ours
from tests.threading_truth import parents_from_index
from wiring.processes import build_gate

FEDORA = CORPORA / "fixtures" / "fedora-devel-2010-01"
R_DEVEL = CORPORA / "r-package-devel.mbox.gz"
NHOMTHU = str(Path(sys.executable).parent / "nhomthu")


def our_parents() -> dict[int, int | None]:
    """Archive position → archive position of the parent, as we threaded it."""
    rows = db.session.execute(
        select(InboundMessage.uid, Post.id, Post.parent_id, Post.thread_id).join(
            Post, Post.inbound_id == InboundMessage.id
        )
    ).all()
    position = {row.id: row.uid for row in rows}
    return {row.uid: position.get(row.parent_id) if row.parent_id else None for row in rows}


def our_threads() -> list[frozenset[int]]:
    rows = db.session.execute(
        select(InboundMessage.uid, Post.thread_id).join(Post, Post.inbound_id == InboundMessage.id)
    )
    threads = collections.defaultdict(set)
    for uid, thread_id in rows:
        threads[thread_id].add(uid)
    return [frozenset(t) for t in threads.values()]


def truth_threads(parents: dict[int, int | None]) -> list[frozenset[int]]:
    def root(message: int) -> int:
        while parents[message] is not None:
            message = parents[message]  # type: ignore[assignment]
        return message

    threads = collections.defaultdict(set)
    for message in parents:
        threads[root(message)].add(message)
    return [frozenset(t) for t in threads.values()]


def through_gateway(app) -> None:
    """The month sent to thpt@ one message at a time, through the live pipeline (positions as UIDs)."""
    for message in read_archive(FEDORA / "2010-January.mboxrd"):
        raw = f"Delivered-To: {ours('thpt')}\n".encode() + message.raw
        store_raw(db.session, raw, mailbox="test", uidvalidity=1, uid=message.index, now=utcnow())
    db.session.commit()
    build_gate(app.extensions["nhomthu.settings"]).drain()


def by_import(app) -> None:
    import_archive(db.session, find_group(db.session, "thpt"), FEDORA / "2010-January.mboxrd", utcnow())


@pytest.mark.parametrize("load", [by_import, through_gateway], ids=["import", "gateway"])
def test_fedora_threads_agree_with_the_archive_index(make_app, load):
    app = make_app()
    open_discussion()
    load(app)
    truth = parents_from_index(FEDORA / "2010-January_thread.html")
    ours_ = our_parents()
    assert len(ours_) == len(truth) == 292
    assert sorted(our_threads(), key=min) == sorted(truth_threads(truth), key=min), "all 60 threads identical"

    exact = sum(ours_[m] == truth[m] for m in truth)
    assert exact >= 215
    for message, parent in truth.items():  # the index flattens replies below depth 3 under an ancestor
        ancestors, walk = [], ours_[message]
        while walk is not None:
            ancestors.append(walk)
            walk = ours_[walk]
        assert parent is None or parent == ours_[message] or parent in ancestors, message


def test_interrupted_import_resumes_and_repeats_nothing(make_app, database_url, tmp_path):
    make_app()
    env = {**os.environ, **environment(database_url, tmp_path, LOG_LEVEL="ERROR")}
    command = [NHOMTHU, "mail", "import-mbox", str(R_DEVEL), "--group", "thpt"]
    importer = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    probe = sa.create_engine(database_url)

    def imported() -> int:
        with probe.connect() as connection:
            return connection.execute(sa.text("SELECT count(*) FROM post")).scalar_one()

    deadline = time.monotonic() + 120
    while imported() < 1500:
        assert importer.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    importer.send_signal(signal.SIGKILL)
    importer.wait()
    assert imported() < 11111

    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    assert "đã có từ lần trước" in second.stdout
    with probe.connect() as connection:
        count = lambda sql: connection.execute(sa.text(sql)).scalar_one()  # noqa: E731
        assert count("SELECT count(*) FROM inbound_message") == 11114
        assert count("SELECT count(DISTINCT uid) FROM inbound_message") == 11114
        assert count("SELECT count(*) FROM post") == 11111
        assert count("SELECT count(*) FROM inbound_message WHERE outcome = 'ignored'") == 3, "3 repeated ids"
        assert count("SELECT sum(post_count) FROM thread") == 11111
    probe.dispose()


def test_mail_parse_prints_what_the_gateway_reads(tmp_path):
    fixture = Path(__file__).parent / "data" / "mail" / "bodies"
    files = sorted(fixture.glob("*.eml"))
    env = {**os.environ, "DATA_DIR": str(tmp_path), "LOG_LEVEL": "WARNING"}
    result = subprocess.run(
        [NHOMTHU, "mail", "parse", "--json", *map(str, files)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == len(files)
    keys = {
        "message_id",
        "in_reply_to",
        "references",
        "from_addr",
        "from_name",
        "to",
        "subject",
        "date",
        "kind",
        "text",
        "reply_text",
        "quoted_text",
        "html",
        "attachments",
    }
    assert all(keys <= set(line) for line in lines if "error" not in line)
    assert [Path(line["file"]).name for line in lines if "error" in line] == [
        "multipart_without_boundary_empty.eml"
    ]
    vietnamese = next(line for line in lines if "windows_1258" in line["file"])
    assert "Kính gửi" in vietnamese["text"]
