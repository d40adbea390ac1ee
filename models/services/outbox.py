"""The outbox: every message that leaves the system is first a Delivery row, committed with its cause.

Senders (the mailgate for email, the bot for chats) claim rows, deliver them, and settle each one.
Claims carry a lease: a row claimed by a process that died is claimed again once the lease runs out,
so a crash repeats at most what was in flight and never skips a row.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, literal, or_, select, tuple_, update
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from models.mail import Delivery, DeliveryState
from models.people import Person


@dataclass(frozen=True)
class RetryPolicy:
    """Like an MTA's queue: temporary refusals are retried with backoff until the message is too old."""

    max_age: timedelta = timedelta(days=3)
    first_delay: timedelta = timedelta(minutes=1)
    lease: timedelta = timedelta(minutes=5)

    def delay(self, attempts: int) -> timedelta:
        """1, 2, 4, 8 … minutes, capped at an hour."""
        return min(self.first_delay * (2 ** max(attempts - 1, 0)), timedelta(hours=1))


def new_message_id(domain: str) -> str:
    return f"<{secrets.token_hex(12)}@{domain}>"


def enqueue(
    session: Session,
    *,
    key: str,
    recipient: str,
    template: str,
    domain: str,
    now: datetime,
    person: Person | None = None,
    params: dict[str, Any] | None = None,
    secret: str | None = None,
    in_reply_to: str | None = None,
    channel: str = "email",
) -> Delivery:
    """Add a delivery unless the same (key, recipient, channel) exists; return the row either way."""
    existing = session.scalar(
        select(Delivery).where(
            Delivery.message_key == key, Delivery.recipient == recipient, Delivery.channel == channel
        )
    )
    if existing is not None:
        return existing
    delivery = Delivery(
        message_key=key,
        recipient=recipient,
        person=person,
        channel=channel,
        template=template,
        params=params or {},
        secret=secret,
        message_id=new_message_id(domain),
        in_reply_to=in_reply_to,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(delivery)
    session.flush()
    return delivery


CHUNK = 5000  # rows of a fan-out written at once: a million members cost the memory of one chunk


def pending_row(
    *,
    key: str,
    recipient: str,
    person_id: int | None,
    template: str,
    params: dict[str, Any],
    message_id: str,
    now: datetime,
    channel: str = "email",
) -> dict[str, Any]:
    """One fan-out row, due now, for `add_streamed`: the columns a bulk insert must give itself."""
    return {
        "message_key": key,
        "recipient": recipient,
        "person_id": person_id,
        "channel": channel,
        "template": template,
        "params": params,
        "message_id": message_id,
        "state": DeliveryState.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def add_streamed(session: Session, rows: Iterable[dict[str, Any]]) -> int:
    """Insert a fan-out's rows `CHUNK` at a time as they come; how many there were."""
    count, chunk = 0, []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            count += add_many(session, chunk)
    return count + add_many(session, chunk)


def add_many(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert a chunk of a fan-out's rows (all with the same keys), and empty the list; how many there were.

    On PostgreSQL through COPY: an INSERT per row, even pipelined, took 28 s for 100,000 members.
    """
    if rows:
        connection = session.connection()
        if connection.dialect.name == "postgresql":
            _copy(connection, rows)
        else:
            session.execute(insert(Delivery), rows)
    count = len(rows)
    rows.clear()
    return count


def _copy(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """COPY FROM STDIN in the session's transaction, each value through its column's own bind processing.

    A value every row of the chunk shares (the notice's key, its time, the state …) is processed once:
    the processors cost 24 µs a row, most of a fan-out's queueing time, when each row paid for all."""
    names = list(rows[0])
    processors = _bind_processors(connection.dialect, names)
    first = rows[0]
    shared = {
        name: process(first[name]) if process else first[name]
        for name, process in zip(names, processors, strict=True)
        if all(row[name] is first[name] for row in rows)
    }
    varying = [(n, p) for n, p in zip(names, processors, strict=True) if n not in shared]
    statement = f"COPY {_TABLE.name} ({', '.join(names)}) FROM STDIN"
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            values = shared | {n: p(row[n]) if p else row[n] for n, p in varying}
            copy.write_row([values[name] for name in names])


def _bind_processors(dialect: Dialect, columns: list[str]) -> list[Callable[[Any], Any] | None]:
    """What the delivery columns' types do to a value before the driver sees it (enums by value, times as
    naive UTC), for statements that bypass SQLAlchemy's binding: COPY, and arrays for unnest."""
    return [_TABLE.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns]


def count_recent(session: Session, recipient: str, template: str, since: datetime) -> int:
    return (
        session.scalar(
            select(func.count(Delivery.id)).where(
                Delivery.recipient == recipient, Delivery.template == template, Delivery.created_at >= since
            )
        )
        or 0
    )


def claim_batch(
    session: Session, channel: str, now: datetime, policy: RetryPolicy, limit: int = 50
) -> list[Delivery]:
    """Claim due rows for one sender. The caller commits right away, before delivering any of them.

    Each look is one walk along the index on (state, channel, next_attempt_at, id) (a single query
    with OR made SQLite sort every waiting row for every batch). On PostgreSQL a look is one statement,
    `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING`, so concurrent senders pass over
    each other's rows; and since a claimed row leaves a dead entry at the front of that index until
    VACUUM, a walk from the start would grow with every batch sent: there this process goes on from
    where its last claim ended, and looks from the start (and for rows whose sender died, their lease
    run out) only when that comes up short, or once a lease. SQLite removes the entries at once, and
    seeks a row value only by its first column.
    """
    waiting = (Delivery.state == DeliveryState.PENDING) & (Delivery.next_attempt_at <= now)
    stale = (Delivery.state == DeliveryState.SENDING) & (Delivery.claimed_at <= now - policy.lease)
    engine = session.connection().engine
    if engine.dialect.name != "postgresql":
        found = _claimable(session, channel, stale, limit)
        found = list(dict.fromkeys(found + _claimable(session, channel, waiting, limit)))[:limit]
        return _take(session, [number for number, _ in found], now, policy) if found else []
    position = _POSITIONS.setdefault((str(engine.url), channel), _Position())
    claim, claimed = secrets.token_hex(8), []
    if position.after and now - position.looked_from_start < policy.lease:
        due, number = position.after  # compared as the index orders, so the walk starts there
        onward = tuple_(Delivery.next_attempt_at, Delivery.id) > tuple_(
            literal(due, Delivery.next_attempt_at.type), literal(number)
        )
        claimed = _claim_locked(session, channel, waiting & onward, limit, claim, now)
    if len(claimed) < limit:
        for due_rows in (stale, waiting):
            if len(claimed) < limit:
                claimed += _claim_locked(session, channel, due_rows, limit - len(claimed), claim, now)
        position.looked_from_start = now
    if claimed:
        position.after = max((delivery.next_attempt_at, delivery.id) for delivery in claimed)
    return sorted(claimed, key=lambda delivery: delivery.id)


@dataclass
class _Position:
    """Where this process's last claim of a channel ended, in claim order; a hint, never a promise."""

    after: tuple[datetime, int] | None = None
    looked_from_start: datetime = datetime.min.replace(tzinfo=UTC)


_POSITIONS: dict[tuple[str, str], _Position] = {}


def _claim_locked(
    session: Session, channel: str, due: ColumnElement[bool], limit: int, claim: str, now: datetime
) -> list[Delivery]:
    """PostgreSQL: lock up to `limit` due rows other senders have not locked, and claim them, at once.
    A row changed by another sender meanwhile is checked again against `due` before it is locked."""
    chosen = (
        select(Delivery.id)
        .where(Delivery.channel == channel, due)
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(Delivery)
        .where(Delivery.id.in_(chosen.scalar_subquery()))
        .values(state=DeliveryState.SENDING, claim=claim, claimed_at=now)
        .returning(Delivery)
    )
    options = {"synchronize_session": False, "populate_existing": True}
    return list(session.scalars(statement, execution_options=options))


def _claimable(
    session: Session, channel: str, due: ColumnElement[bool], limit: int
) -> list[tuple[int, datetime]]:
    candidates = (
        select(Delivery.id, Delivery.next_attempt_at)
        .where(Delivery.channel == channel, due)
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
    )
    return [(row.id, row.next_attempt_at) for row in session.execute(candidates)]


def _take(session: Session, ids: list[int], now: datetime, policy: RetryPolicy) -> list[Delivery]:
    """SQLite: claim the rows that are still due (another sender may have claimed one since they were
    read): their state is read through coalesce, so that SQLite finds them by id instead of by state."""
    state = func.coalesce(Delivery.state, "")
    still_due = or_(
        (state == DeliveryState.SENDING.value) & (Delivery.claimed_at <= now - policy.lease),
        (state == DeliveryState.PENDING.value) & (Delivery.next_attempt_at <= now),
    )
    claim = secrets.token_hex(8)
    session.execute(
        update(Delivery)
        .where(Delivery.id.in_(ids), still_due)
        .values(state=DeliveryState.SENDING, claim=claim, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    claimed = select(Delivery).where(Delivery.claim == claim).order_by(Delivery.id)
    return list(session.scalars(claimed.execution_options(populate_existing=True)))


def renew_claims(session: Session, claim: str, now: datetime) -> set[int]:
    """Renew the lease of a batch still being delivered; the ids that are still this claim's."""
    session.execute(
        update(Delivery)
        .where(Delivery.claim == claim, Delivery.state == DeliveryState.SENDING)
        .values(claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    return set(session.scalars(select(Delivery.id).where(Delivery.claim == claim)))


def mark_sent(session: Session, delivery: Delivery, answer: str, now: datetime) -> bool:
    return settle(session, Settlement().sent(delivery, answer, now)) == 1


def mark_failed(
    session: Session, delivery: Delivery, answer: str, now: datetime, policy: RetryPolicy, *, permanent: bool
) -> bool:
    """A permanent refusal settles the row; a temporary one is tried again later, until it is too old."""
    return settle(session, Settlement().failed(delivery, answer, now, policy, permanent=permanent)) == 1


def release(
    session: Session, deliveries: list[Delivery], answer: str, now: datetime, policy: RetryPolicy
) -> None:
    """Give rows back unsent, without counting an attempt (the server went away, not the recipient)."""
    settle(session, Settlement().released(deliveries, answer, now, policy))


_Shape = tuple[bool, tuple[str, ...]]


@dataclass
class Settlement:
    """The outcomes of a batch, kept until they are written together by `settle`: one statement per kind
    of outcome for the whole batch, instead of a statement and a commit per row."""

    rows: dict[_Shape, list[dict[str, Any]]] = field(default_factory=dict)

    def sent(self, delivery: Delivery, answer: str, now: datetime) -> Settlement:
        values = {"state": DeliveryState.SENT, "last_answer": answer, "sent_at": now}
        return self._add(delivery, True, values | {"secret": None, "claim": None})

    def failed(
        self, delivery: Delivery, answer: str, now: datetime, policy: RetryPolicy, *, permanent: bool
    ) -> Settlement:
        """A permanent refusal settles the row; a temporary one is tried again later, until it is too old."""
        if permanent or now - delivery.created_at >= policy.max_age:
            values = {"state": DeliveryState.FAILED, "last_answer": answer, "secret": None, "claim": None}
            return self._add(delivery, True, values)
        later = now + policy.delay(delivery.attempts + 1)
        values = {"state": DeliveryState.PENDING, "last_answer": answer, "claim": None}
        return self._add(delivery, True, values | {"next_attempt_at": later})

    def released(
        self, deliveries: list[Delivery], answer: str, now: datetime, policy: RetryPolicy
    ) -> Settlement:
        later = now + policy.first_delay
        for delivery in deliveries:
            values = {"state": DeliveryState.PENDING, "claim": None, "last_answer": answer}
            self._add(delivery, False, values | {"next_attempt_at": later})
        return self

    def _add(self, delivery: Delivery, count_attempt: bool, values: dict[str, Any]) -> Settlement:
        shape = (count_attempt, tuple(sorted(values)))
        params = {"row": delivery.id, "mine": delivery.claim} | {f"new_{k}": v for k, v in values.items()}
        self.rows.setdefault(shape, []).append(params)
        return self

    def __len__(self) -> int:
        return sum(len(rows) for rows in self.rows.values())


def settle(session: Session, settlement: Settlement) -> int:
    """Write a batch's outcomes, each only where this process's claim still holds; the rows updated.

    On PostgreSQL the commit that follows need not wait for the disk: the claims were committed durably
    before anything was sent, so outcomes lost in a database crash only send those rows again once their
    lease runs out, as a crash of the sender would.
    """
    updated = 0
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL synchronous_commit = off")
        for shape, rows in settlement.rows.items():
            statement, params = _guarded_postgresql(shape, connection.dialect)
            arrays = {n: [p(row[n]) if p else row[n] for row in rows] for n, p in params}
            updated += connection.exec_driver_sql(statement, arrays).rowcount
        return updated
    for shape, rows in settlement.rows.items():
        result = connection.execute(_guarded(shape), rows)
        updated += result.rowcount if len(rows) == 1 or _counts_many(connection) else len(rows)
    return updated


_TABLE = Delivery.__table__
_GUARDED: dict[_Shape, Any] = {}


def _guarded(shape: _Shape) -> Any:
    """One UPDATE per shape of outcome, compiled once (building one per row cost more than running it)."""
    statement = _GUARDED.get(shape)
    if statement is None:
        count_attempt, names = shape
        assignments: dict[str, Any] = {name: bindparam(f"new_{name}") for name in names}
        if count_attempt:
            assignments["attempts"] = _TABLE.c.attempts + 1
        statement = _GUARDED[shape] = (
            update(_TABLE)
            .where(
                _TABLE.c.id == bindparam("row"),
                _TABLE.c.claim == bindparam("mine"),
                _TABLE.c.state == DeliveryState.SENDING,
            )
            .values(**assignments)
        )
    return statement


_GUARDED_POSTGRESQL: dict[_Shape, tuple[str, list[tuple[str, Callable[[Any], Any] | None]]]] = {}


def _guarded_postgresql(
    shape: _Shape, dialect: Dialect
) -> tuple[str, list[tuple[str, Callable[[Any], Any] | None]]]:
    """PostgreSQL: a shape's outcomes for the whole batch in one statement over arrays (unnest), one
    round trip and one set of parameters instead of one per row (that was a third of a sender's CPU).
    Each array is cast to its column's type and its values go through that column's bind processing."""
    found = _GUARDED_POSTGRESQL.get(shape)
    if found is None:
        count_attempt, names = shape
        params = {"row": "id", "mine": "claim"} | {f"new_{name}": name for name in names}
        types = [_TABLE.c[column].type.compile(dialect=dialect) for column in params.values()]
        assignments = [f"{name} = v.new_{name}" for name in names]
        if count_attempt:
            assignments.append("attempts = delivery.attempts + 1")
        arrays = ", ".join(f"%({p})s::{t}[]" for p, t in zip(params, types, strict=True))
        statement = (
            f"UPDATE delivery SET {', '.join(assignments)} FROM unnest({arrays}) AS v({', '.join(params)}) "
            f"WHERE delivery.id = v.row AND delivery.claim = v.mine AND delivery.state = 'sending'"
        )
        processors = _bind_processors(dialect, list(params.values()))
        found = _GUARDED_POSTGRESQL[shape] = (statement, list(zip(params, processors, strict=True)))
    return found


def _counts_many(connection: Connection) -> bool:
    return bool(connection.dialect.supports_sane_multi_rowcount)
