"""Reading the catch-all mailbox: store each message first, move it out of the inbox only after the commit."""

from __future__ import annotations

import logging
import socket
import ssl
import time
from collections.abc import Callable
from datetime import datetime

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mailgate.settings import ImapAccount
from models.services import heartbeats, inbound

log = logging.getLogger(__name__)

# Connection-level failures after which the gateway reconnects (with backoff) instead of stopping.
CONNECTION_ERRORS = (OSError, socket.timeout, ssl.SSLError, IMAPClientError)


class Inbox:
    """One IMAP folder, read in batches by UID."""

    def __init__(self, account: ImapAccount) -> None:
        self.account = account
        self._client: IMAPClient | None = None
        self.uidvalidity = 0
        self.fetched_uidvalidity = 0

    @property
    def mailbox(self) -> str:
        return f"imap:{self.account.folder}"

    def client(self) -> IMAPClient:
        if self._client is None:
            account = self.account
            client = IMAPClient(account.host, port=account.port, ssl=account.ssl, timeout=account.timeout)
            client.login(account.user, account.password)
            if not client.folder_exists(account.done_folder):
                client.create_folder(account.done_folder)
            self._client = client
        self.uidvalidity = int(self._client.select_folder(self.account.folder)[b"UIDVALIDITY"])
        return self._client

    def fetch(self, limit: int) -> list[tuple[int, bytes]]:
        client = self.client()
        self.fetched_uidvalidity = self.uidvalidity
        uids = sorted(client.search(["NOT", "DELETED"]))[:limit]
        if not uids:
            return []
        found = client.fetch(uids, ["BODY.PEEK[]"])
        return [(uid, found[uid][b"BODY[]"]) for uid in uids if uid in found]

    def archive(self, uids: list[int]) -> None:
        """Move handled messages to the done folder; those another mailgate moved already are skipped."""
        if not uids:
            return
        client = self.client()
        if self.uidvalidity != self.fetched_uidvalidity:  # the UIDs now name other messages: move nothing
            log.warning("UIDVALIDITY of %s changed; messages will be fetched again", self.account.folder)
            return
        try:
            self._move(client, uids)
        except IMAPClientError as error:
            if "EXPUNGEISSUED" not in str(error) and "no longer exist" not in str(error):
                raise
            remaining = sorted(set(uids) & set(client.search(["NOT", "DELETED"])))
            if remaining:
                self._move(client, remaining)

    def _move(self, client: IMAPClient, uids: list[int]) -> None:
        if client.has_capability("MOVE"):
            client.move(uids, self.account.done_folder)
            return
        client.copy(uids, self.account.done_folder)
        client.delete_messages(uids)
        client.uid_expunge(uids) if client.has_capability("UIDPLUS") else client.expunge()

    def offers_idle(self) -> bool:
        """Whether the server offers IDLE (connecting if need be; the client caches the answer)."""
        client = self._client if self._client is not None else self.client()
        return bool(client.has_capability("IDLE"))

    def wait(self, seconds: float) -> None:
        """Return when new mail arrives or after `seconds`: IDLE when offered, a plain wait otherwise."""
        client = self.client()
        if not client.has_capability("IDLE"):
            time.sleep(seconds)
            return
        client.idle()
        try:
            client.idle_check(timeout=seconds)
        finally:
            client.idle_done()

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.logout()
            except CONNECTION_ERRORS:
                pass
            self._client = None


def fetch_new(session: Session, inbox: Inbox, clock: Callable[[], datetime], limit: int = 50) -> int:
    """Store up to `limit` messages (each committed), then move them out of the inbox; the number fetched.

    A crash between a commit and the move leaves the message in the inbox: it is fetched again,
    recognised by (mailbox, UIDVALIDITY, UID), and only moved.
    """
    handled: list[int] = []
    for uid, raw in inbox.fetch(limit):
        try:
            inbound.store_raw(
                session,
                raw,
                mailbox=inbox.mailbox,
                uidvalidity=inbox.fetched_uidvalidity,
                uid=uid,
                now=clock(),
            )
            session.commit()
        except IntegrityError:  # another mailgate stored this copy between our look and our insert
            session.rollback()
        handled.append(uid)
    inbox.archive(handled)
    return len(handled)


def poll_once(session: Session, account: ImapAccount, clock: Callable[[], datetime]) -> int:
    """The worker's poll of a mailbox whose server offers no IDLE (the mailgate then only sends and
    processes): connect, store what is new, disconnect. The number fetched; 0 when IDLE is offered."""
    inbox = Inbox(account)
    try:
        if inbox.offers_idle():  # the mailgate waits in IDLE and fetches the moment mail arrives
            return 0
        fetched = fetch_new(session, inbox, clock)
        heartbeats.beat(session, heartbeats.FETCH, clock())
        return fetched
    finally:
        inbox.close()
