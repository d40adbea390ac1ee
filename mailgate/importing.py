"""Importing an archive into a group, fast: parsed and threaded in memory, written in batches.

The same parsing, trimming, sanitising and placement rules as the live gateway; only the storage
differs: each batch of messages is written with a few multi-row INSERTs and committed, and the raw
messages are kept like inbound mail (mailbox "import:…", UID = position in the archive), so an
interrupted import resumes after the last batch it committed and a repeated Message-ID is recognised.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Insert, delete, func, select, update
from sqlalchemy.orm import Session

from mailgate.archives import ArchivedMessage, read_archive
from mailgate.bodies import Body, Malformed, extract_body
from mailgate.parsing import ParsedMail, Unreadable, parse, stand_in_id
from mailgate.sanitising import html_to_text, sanitise
from mailgate.trimming import trim_quotes
from models.errors import InvalidAddress
from models.groups import Group
from models.mail import InboundMessage, InboundState, Outcome
from models.people import Person
from models.posts import Post, PostState, Thread
from models.services.people import clean_name, normalise_address
from models.services.search import search_text
from models.services.threads import SUBJECT_WINDOW, Placement, Refs, Spot, place, refs_for

BATCH = 500


@dataclass
class ImportReport:
    imported: int = 0
    repeated: int = 0
    skipped: int = 0  # already imported by an earlier, interrupted run
    quarantined: collections.Counter[str] = field(default_factory=collections.Counter)

    @property
    def total(self) -> int:
        return self.imported + self.repeated + self.skipped + sum(self.quarantined.values())


class MemoryIndex:
    """One group's posts as the importer sees them: what the database had, plus what it placed."""

    def __init__(self, session: Session, group_id: int) -> None:
        self.posts: dict[str, Spot] = {
            row.message_id: Spot(row.id, row.thread_id)
            for row in session.execute(
                select(Post.message_id, Post.id, Post.thread_id).where(Post.group_id == group_id)
            )
        }
        firsts = select(Post.thread_id, func.min(Post.id).label("first")).group_by(Post.thread_id).subquery()
        self.first_post: dict[int, int] = {}  # thread → its first post
        self.subjects: dict[str, tuple[int, datetime]] = {}  # subject key → (latest thread, its last post)
        for row in session.execute(
            select(Thread.subject_key, Thread.id, Thread.last_post_at, firsts.c.first)
            .join(firsts, firsts.c.thread_id == Thread.id)
            .where(Thread.group_id == group_id)
            .order_by(Thread.last_post_at)
        ):
            self.first_post[row.id] = row.first
            self.subjects[row.subject_key] = (row.id, row.last_post_at)
        self.waiting: dict[str, list[int]] = collections.defaultdict(list)  # parent Message-ID → orphan posts
        self.at: datetime | None = None  # the date of the message being placed

    def find(self, message_id: str) -> Spot | None:
        return self.posts.get(message_id)

    def by_subject(self, key: str) -> Spot | None:
        found = self.subjects.get(key)
        if found is None or self.at is None or abs(self.at - found[1]) > SUBJECT_WINDOW:
            return None
        return Spot(self.first_post[found[0]], found[0])


class Importer:
    """Writes one archive's messages into a group; `run` returns the report."""

    def __init__(self, session: Session, group: Group, path: Path, now: datetime) -> None:
        self.session, self.group, self.now = session, group, now
        self.path = path
        self.mailbox = f"import:{group.slug}:{path.resolve()}"[:255]
        self.index = MemoryIndex(session, group.id)
        self.people: dict[str, int] = {}
        self.members: dict[int, list[str]] = collections.defaultdict(list)  # thread id → its Message-IDs
        self.touched: set[int] = set()
        self.report = ImportReport()
        self._statements: dict[str, Insert] = {}

    def run(self, progress: Callable[[int], None] = lambda _: None, batch: int = BATCH) -> ImportReport:
        done = self.session.scalar(
            select(func.max(InboundMessage.uid)).where(InboundMessage.mailbox == self.mailbox)
        )
        for count, message in enumerate(read_archive(self.path), start=1):
            if done is not None and message.index <= done:
                self.report.skipped += 1
                continue
            self.add(message)
            if count % batch == 0:
                self.commit()
                progress(message.end)
        self.commit()
        return self.report

    def commit(self) -> None:
        self._refresh_threads()
        self.session.commit()

    def add(self, message: ArchivedMessage) -> None:
        try:
            mail = parse(message.raw)
            body = extract_body(mail.message)
        except (Unreadable, Malformed) as error:
            self._store(message, Outcome.QUARANTINED, str(error))
            self.report.quarantined[str(error)] += 1
            return
        message_id = mail.message_id or stand_in_id(message.raw)
        existing = self.index.find(message_id)
        if existing is not None:
            self._store(
                message, Outcome.IGNORED, f"bản sao của bài #{existing.post_id} (same Message-ID)", mail
            )
            self.report.repeated += 1
            return
        inbound_id = self._store(message, Outcome.PROCESSED, "imported", mail)
        self._post(
            mail, body, refs_for(message_id, mail.in_reply_to, mail.references, mail.subject), inbound_id
        )
        self.report.imported += 1

    def _store(
        self, message: ArchivedMessage, outcome: Outcome, reason: str, mail: ParsedMail | None = None
    ) -> int:
        return self._insert(
            InboundMessage,
            {
                "raw": message.raw,
                "mailbox": self.mailbox,
                "uidvalidity": 0,
                "uid": message.index,
                "message_id": mail.message_id if mail else None,
                "sender": mail.sender if mail else None,
                "subject": mail.subject[:2000] if mail else None,
                "received_at": self.now,
                "state": InboundState.DONE,
                "outcome": outcome,
                "step": "import",
                "reason": reason,
                "processed_at": self.now,
                "attempts": 0,
            },
        )

    def _post(self, mail: ParsedMail, body: Body, refs: Refs, inbound_id: int) -> None:
        at = mail.date or self.now
        self.index.at = at
        placement = place(refs, self.index)
        thread_id = placement.thread_id or self._new_thread(mail.subject, refs.subject_key, at)
        text = body.text if body.text is not None else html_to_text(body.html or "")
        trimmed = trim_quotes(text)
        post_id = self._insert(
            Post,
            {
                "group_id": self.group.id,
                "thread_id": thread_id,
                "parent_id": placement.parent.post_id if placement.parent else None,
                "parent_message_id": refs.parent_message_id,
                "message_id": refs.message_id,
                "inbound_id": inbound_id,
                "author_id": self._author(mail),
                "author_name": clean_name(mail.sender_name),
                "subject": mail.subject,
                "text": trimmed.text,
                "quoted": trimmed.removed,
                "search_text": search_text(mail.subject, trimmed.text),
                "html": sanitise(body.html) if body.html else None,
                "sent_at": mail.date,
                "created_at": at,
                "state": PostState.VISIBLE,
            },
        )
        self._remember(refs, placement, Spot(post_id, thread_id), at)

    def _remember(self, refs: Refs, placement: Placement, spot: Spot, at: datetime) -> None:
        self.index.posts[refs.message_id] = spot
        self.index.first_post.setdefault(spot.thread_id, spot.post_id)
        self.members[spot.thread_id].append(refs.message_id)
        self.touched.add(spot.thread_id)
        if refs.subject_key:
            self.index.subjects[refs.subject_key] = (spot.thread_id, at)
        for orphan in self.index.waiting.pop(refs.message_id, []):
            self._adopt(orphan, spot)
        if refs.parent_message_id and placement.how not in ("in-reply-to", "reply key"):
            self.index.waiting[refs.parent_message_id].append(spot.post_id)  # re-attached when it comes

    def _adopt(self, orphan_id: int, parent: Spot) -> None:
        """A reply that came before its parent: attach it, and merge the thread it started."""
        orphan_thread, orphan_parent = self.session.execute(
            select(Post.thread_id, Post.parent_id).where(Post.id == orphan_id)
        ).one()
        if orphan_thread != parent.thread_id and orphan_parent is not None:
            return  # placed in another thread by its subject: left where it is
        self.session.execute(update(Post).where(Post.id == orphan_id).values(parent_id=parent.post_id))
        if orphan_thread == parent.thread_id:
            return
        self.session.execute(
            update(Post).where(Post.thread_id == orphan_thread).values(thread_id=parent.thread_id)
        )
        self.session.execute(delete(Thread).where(Thread.id == orphan_thread))
        for message_id in self.members.pop(orphan_thread, []):
            self.index.posts[message_id] = Spot(self.index.posts[message_id].post_id, parent.thread_id)
            self.members[parent.thread_id].append(message_id)
        self.index.subjects = {k: v for k, v in self.index.subjects.items() if v[0] != orphan_thread}
        self.touched.discard(orphan_thread)

    def _new_thread(self, subject: str, key: str, at: datetime) -> int:
        values = {"subject": subject, "subject_key": key, "started_at": at, "last_post_at": at}
        return self._insert(Thread, {"group_id": self.group.id, "post_count": 0, **values})

    def _author(self, mail: ParsedMail) -> int | None:
        try:
            address = normalise_address(mail.sender or "")
        except InvalidAddress:
            return None
        if address not in self.people:
            found = self.session.scalar(select(Person.id).where(Person.email == address))
            values = {
                "email": address,
                "name": clean_name(mail.sender_name),
                "locale": "vi",
                "created_at": self.now,
            }
            self.people[address] = found or self._insert(Person, values)
        return self.people[address]

    def _insert(self, model: type, values: dict[str, object]) -> int:
        """A row through a statement compiled once per table: building statements per row cost more
        than the database's own work."""
        table = model.__table__  # type: ignore[attr-defined]
        if table.name not in self._statements:
            self._statements[table.name] = table.insert().returning(table.c.id)
        return int(self.session.connection().execute(self._statements[table.name], values).scalar_one())

    def _refresh_threads(self) -> None:
        if not self.touched:
            return
        posts = select(func.count(Post.id)).where(Post.thread_id == Thread.id).scalar_subquery()
        last = select(func.max(Post.created_at)).where(Post.thread_id == Thread.id).scalar_subquery()
        self.session.execute(
            update(Thread).where(Thread.id.in_(self.touched)).values(post_count=posts, last_post_at=last)
        )
        self.touched.clear()


def import_archive(
    session: Session,
    group: Group,
    path: Path,
    now: datetime,
    progress: Callable[[int], None] = lambda _: None,
) -> ImportReport:
    return Importer(session, group, path, now).run(progress)
