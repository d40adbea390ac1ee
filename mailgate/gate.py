"""The mailgate process: fetch, process and send, once, until drained, or for ever."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from mailgate.imap import CONNECTION_ERRORS, Inbox, fetch_new
from mailgate.processing import process_pending
from mailgate.sending import send_pending
from mailgate.settings import MailSettings
from mailgate.transport import Transport

log = logging.getLogger(__name__)


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

    def run_once(self) -> Iteration:
        fetched = fetch_new(self.session, self.inbox, self.clock) if self.inbox else 0
        processed = process_pending(self.session, self.settings, self.clock)
        sent = send_pending(self.session, self.settings, self.transport, self.clock).total
        return Iteration(fetched, processed, sent)

    def drain(self, max_iterations: int = 10_000) -> list[Iteration]:
        """Iterate until an iteration finds nothing to do (rows waiting for a retry time are left)."""
        done = []
        for _ in range(max_iterations):
            done.append(self.run_once())
            if done[-1].idle:
                break
        return done

    def serve(self, outbox_poll: float = 5.0) -> None:
        """Run until stopped; reconnect to the mail server with backoff when it goes away."""
        backoff = 1.0
        while True:
            try:
                if self.run_once().idle:
                    self._wait(outbox_poll)
                backoff = 1.0
            except (*CONNECTION_ERRORS, OperationalError) as error:
                log.warning("mail server or database unreachable (%r); retrying in %.0f s", error, backoff)
                self.session.rollback()
                self.close()
                time.sleep(backoff)
                backoff = min(backoff * 2, 300.0)

    def _wait(self, seconds: float) -> None:
        if self.inbox is None:
            time.sleep(seconds)
        else:
            self.inbox.wait(seconds)

    def close(self) -> None:
        if self.inbox is not None:
            self.inbox.close()
        self.transport.close()
