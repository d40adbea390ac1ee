"""The mailgate process: fetch, process and send, once, until drained, or for ever."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from mailgate.imap import CONNECTION_ERRORS, Inbox, fetch_new
from mailgate.processing import process_pending
from mailgate.sending import send_pending
from mailgate.settings import MailSettings
from mailgate.transport import Transport
from models.services import heartbeats

log = logging.getLogger(__name__)
# The database went away (restarted, failed over, the network): wait and try again, never exit.
DATABASE_ERRORS = (OperationalError, InterfaceError)


@dataclass(frozen=True)
class Iteration:
    fetched: int
    processed: int
    sent: int

    @property
    def idle(self) -> bool:
        return not (self.fetched or self.processed or self.sent)


@dataclass
class Gate:
    session: Session
    settings: MailSettings
    inbox: Inbox | None  # None: mail arrives through `nhomthu mail inject` or the test mailbox page
    transport: Transport
    clock: Callable[[], datetime]
    beaten: dict[str, datetime] = field(default_factory=dict)  # heartbeats written, to write few

    def run_once(self, fetch: bool = True) -> Iteration:
        """Fetch (unless told not to: the worker polls a server without IDLE), process, send."""
        fetched = 0
        if self.inbox is not None and fetch:
            fetched = fetch_new(self.session, self.inbox, self.clock)
            self._beat(heartbeats.FETCH)
        processed = process_pending(self.session, self.settings, self.clock)
        counts = send_pending(self.session, self.settings, self.transport, self.clock)
        if counts.sent:
            self._beat(heartbeats.SEND)
        return Iteration(fetched, processed, counts.total)

    def _beat(self, name: str, every: timedelta = timedelta(seconds=15)) -> None:
        """Record that the mail server answered; at most every few seconds, not at every iteration."""
        now = self.clock()
        if now - self.beaten.get(name, now - every) >= every:
            heartbeats.beat(self.session, name, now)
            self.session.commit()
            self.beaten[name] = now

    def drain(self, max_iterations: int = 10_000) -> list[Iteration]:
        """Iterate until an iteration finds nothing to do (rows waiting for a retry time are left)."""
        done = []
        for _ in range(max_iterations):
            done.append(self.run_once())
            if done[-1].idle:
                break
        return done

    def serve(self, outbox_poll: float = 5.0) -> None:
        """Run until stopped. An IMAP server that goes away is retried with backoff while the outbox
        keeps moving; a database that goes away is waited for the same way. Nothing is lost: mail
        leaves the IMAP inbox only after its commit, and an outbox row only settles on an answer."""
        imap, database = Backoff("IMAP"), Backoff("database")
        while True:
            fetch = False
            try:
                fetch = self.inbox is not None and imap.is_due() and self.inbox.offers_idle()
                iteration = self.run_once(fetch=fetch)
                if iteration.idle:
                    self._wait(outbox_poll, idle=fetch)
                if fetch:
                    imap.succeeded()
                database.succeeded()
            except CONNECTION_ERRORS as error:  # only the IMAP server: SMTP failures are settled per row
                imap.failed(error)
                self.session.rollback()
                if self.inbox is not None:
                    self.inbox.close()
            except DATABASE_ERRORS as error:
                self.session.rollback()
                self.close()
                time.sleep(database.failed(error))

    def _wait(self, seconds: float, idle: bool) -> None:
        if idle and self.inbox is not None:
            self.inbox.wait(seconds)
        else:
            time.sleep(seconds)

    def close(self) -> None:
        if self.inbox is not None:
            self.inbox.close()
        self.transport.close()


@dataclass
class Backoff:
    """Waits that double after each failure (1 s, 2 s, 4 s … 5 min) and start again after a success."""

    what: str
    delay: float = 1.0
    until: float = 0.0

    def is_due(self) -> bool:
        return time.monotonic() >= self.until

    def failed(self, error: BaseException) -> float:
        wait, self.delay = self.delay, min(self.delay * 2, 300.0)
        self.until = time.monotonic() + wait
        log.warning("%s unreachable (%r); trying again in %.0f s", self.what, error, wait)
        return wait

    def succeeded(self) -> None:
        if self.until:
            log.info("%s reachable again", self.what)
        self.delay, self.until = 1.0, 0.0
