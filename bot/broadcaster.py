"""Draining a chat platform's outbox: claim a batch and commit the claim, send each row within the
platform's limits, commit each row's outcome right after its answer.

A crash skips nothing (claimed rows come back when their lease runs out) and repeats at most the
messages that were on the wire: `in_flight` per platform.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.limits import Limits
from bot.senders import Attempt, Result, Sender
from models import Delivery, db, utcnow
from models.services import chats, outbox
from models.services.chats import NoticeSummary

log = logging.getLogger(__name__)
AppContext = Callable[[], AbstractContextManager[Any]]
RETRIES_AFTER_PAUSE = 5  # "retry after" answers to one message before it goes back to the queue


@dataclass
class Counts:
    claimed: int = 0
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    too_fast: int = 0  # 429 answers

    def add(self, other: Counts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


class Broadcaster:
    def __init__(
        self,
        sender: Sender,
        limits: Limits,
        context: AppContext,
        *,
        lease: timedelta = timedelta(minutes=5),
        batch: int = 50,
        in_flight: int = 8,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sender, self.limits, self.context, self.clock = sender, limits, context, clock
        self.policy = outbox.RetryPolicy(first_delay=timedelta(seconds=5), lease=lease)
        self.batch, self.in_flight = batch, in_flight
        self.channel = str(sender.platform)
        self.notices: dict[int, NoticeSummary | None] = {}
        self.held: set[int] = set()

    async def serve(self, idle: float = 1.0) -> None:
        """For ever: a batch, and a short rest whenever there was nothing to send."""
        while True:
            try:
                done = await self.run_once()
            except Exception:
                log.exception("%s broadcaster: batch failed", self.channel)
                done = Counts()
            if done.claimed == 0:
                await asyncio.sleep(idle)

    async def drain(self) -> Counts:
        """Until nothing is due; what waits for a later retry stays queued."""
        total = Counts()
        while (done := await self.run_once()).claimed:
            total.add(done)
        return total

    async def run_once(self) -> Counts:
        counts = Counts()
        with self.context():
            session = db.session()
            session.expire_on_commit = False  # outcomes are guarded UPDATEs; the rows need no reload
            batch = outbox.claim_batch(session, self.channel, self.clock(), self.policy, self.batch)
            session.commit()
            if not batch:
                return counts
            counts.claimed = len(batch)
            self.held = {row.id for row in batch}
            keeper = asyncio.create_task(self._keep_lease(session, batch[0].claim or ""))
            slots = asyncio.Semaphore(self.in_flight)
            tasks = []
            try:
                for row in batch:
                    await slots.acquire()
                    notice = self._notice(session, row)
                    tasks.append(asyncio.create_task(self._deliver(session, row, notice, slots, counts)))
                await asyncio.gather(*tasks)
            finally:
                keeper.cancel()
        return counts

    def _notice(self, session: Session, row: Delivery) -> NoticeSummary | None:
        number = int(row.params.get("notice", 0))
        if number not in self.notices:
            if len(self.notices) > 100:
                self.notices.clear()
            self.notices[number] = chats.summarise_notice(session, number)
        return self.notices[number]

    async def _deliver(
        self,
        session: Session,
        row: Delivery,
        notice: NoticeSummary | None,
        slots: asyncio.Semaphore,
        counts: Counts,
    ) -> None:
        try:
            if notice is None:
                attempt = Attempt(Result.REFUSED, "thông báo không còn (the notice is gone)")
            else:
                for _ in range(RETRIES_AFTER_PAUSE):
                    await self.limits.wait(row.recipient)
                    if row.id not in self.held:  # the lease ran out and another process took it
                        return
                    attempt = await self._send(row, notice)
                    if attempt.result != Result.RETRY_AFTER:
                        break
                    counts.too_fast += 1
                    self.limits.pause(attempt.retry_after)
            self._settle(session, row, attempt, counts)
        finally:
            slots.release()

    async def _send(self, row: Delivery, notice: NoticeSummary) -> Attempt:
        try:
            return await self.sender.send(row.recipient, notice)
        except Exception as error:  # one bad row must not stop the rows behind it
            log.exception("%s delivery #%s failed", self.channel, row.id)
            return Attempt(Result.REFUSED, f"lỗi khi gửi: {error!r}"[:2000])

    def _settle(self, session: Session, row: Delivery, attempt: Attempt, counts: Counts) -> None:
        now, result = self.clock(), attempt.result
        if result == Result.SENT:
            self.limits.succeeded()
            counts.sent += outbox.mark_sent(session, row, attempt.answer, now)
        elif result in (Result.BLOCKED, Result.REFUSED):
            counts.failed += outbox.mark_failed(
                session, row, attempt.answer, now, self.policy, permanent=True
            )
            if result == Result.BLOCKED:
                chats.mark_blocked(session, self.sender.platform, row.recipient, now, attempt.answer)
        elif result == Result.SERVER_ERROR:
            self.limits.failed()
            counts.deferred += outbox.mark_failed(
                session, row, attempt.answer, now, self.policy, permanent=False
            )
        else:  # unreachable, or still too fast after several pauses: back, without counting an attempt
            if result == Result.UNREACHABLE:
                self.limits.failed()
            outbox.release(session, [row], attempt.answer, now, self.policy)
            counts.deferred += 1
        session.commit()

    async def _keep_lease(self, session: Session, claim: str) -> None:
        """Renew the batch's lease a few times per lease, so a slow batch is never taken over mid-way."""
        every = self.policy.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(every)
            self.held = outbox.renew_claims(session, claim, self.clock())
            session.commit()
