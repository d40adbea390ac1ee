"""Handing rendered mail to the world: an SMTP server over one reused connection, or a local folder.

With a server that offers PIPELINING (RFC 2920), `send_many` pipelines across messages: each write
carries the content of the message whose DATA the server has just accepted and the MAIL, RCPT and DATA
of the next one, and the replies come back in that order. DATA must end a group (its 354 is awaited),
so one round trip per message is the least plain SMTP allows; without pipelining a message costs four,
which on loopback to a busy server was half a delivery's time. At most two messages are in flight:
the one whose content was sent, and the next.
"""

from __future__ import annotations

import mailbox
import re
import smtplib
import ssl
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from mailgate.settings import SmtpServer


class TemporaryFailure(Exception):
    """4xx or no connection: try again later."""


class ConnectionLost(TemporaryFailure):
    """No usable connection to the server: nothing is wrong with the message or its recipient."""


class PermanentFailure(Exception):
    """5xx: the server will not take this message for this recipient."""


Outcome = str | TemporaryFailure | PermanentFailure  # the server's answer, or why it was not taken
Reply = tuple[int, bytes]


@dataclass(frozen=True, slots=True)
class Letter:
    key: int  # the caller's name for it: the delivery's id
    sender: str
    recipient: str
    data: bytes


class Transport(Protocol):
    def send(self, sender: str, recipient: str, data: bytes) -> str:
        """Deliver; the server's answer. Raises TemporaryFailure or PermanentFailure."""

    def send_many(self, letters: Iterable[Letter]) -> Iterator[tuple[int, Outcome]]:
        """Each letter's outcome, in order; after a ConnectionLost the stream ends, the rest unsent."""

    def close(self) -> None: ...


def one_by_one(transport: Transport, letters: Iterable[Letter]) -> Iterator[tuple[int, Outcome]]:
    for letter in letters:
        try:
            yield letter.key, transport.send(letter.sender, letter.recipient, letter.data)
        except (TemporaryFailure, PermanentFailure) as failure:
            yield letter.key, failure
            if isinstance(failure, ConnectionLost):
                return


class SmtpTransport:
    """One connection, opened on first use and kept for the following messages."""

    def __init__(self, server: SmtpServer) -> None:
        self.server = server
        self._connection: smtplib.SMTP | None = None

    def send(self, sender: str, recipient: str, data: bytes) -> str:
        try:
            return self._transaction(self._connect(), sender, recipient, data)
        except smtplib.SMTPResponseException as error:
            answer = f"{error.smtp_code} {_text(error.smtp_error)}"
            if error.smtp_code == 421 or error.smtp_code < 400:  # the server is closing the channel
                self.close()
                raise ConnectionLost(answer) from error
            self._reset()
            raise (TemporaryFailure if error.smtp_code < 500 else PermanentFailure)(answer) from error
        except (OSError, smtplib.SMTPException) as error:
            self.close()
            raise ConnectionLost(f"không kết nối được máy chủ thư: {error!r}") from error

    def send_many(self, letters: Iterable[Letter]) -> Iterator[tuple[int, Outcome]]:
        """Pipelined across messages when the server offers PIPELINING (see `pipelined`)."""
        letters = iter(letters)
        try:
            connection = self._connect()
        except (OSError, smtplib.SMTPException) as error:
            first = next(letters, None)
            if first is not None:
                yield first.key, ConnectionLost(f"không kết nối được máy chủ thư: {error!r}")
            return
        if not connection.has_extn("pipelining"):
            yield from one_by_one(self, letters)
            return
        clean = False
        try:
            for key, outcome in pipelined(connection, letters):
                if isinstance(outcome, ConnectionLost):
                    self._drop()
                yield key, outcome
            clean = True
        finally:
            if not clean:  # stopped mid-stream: the server may be waiting for content that will not come
                self._drop()

    def _transaction(self, connection: smtplib.SMTP, sender: str, recipient: str, data: bytes) -> str:
        for code, reply in (connection.mail(sender), connection.rcpt(recipient)):
            if code >= 400:
                raise smtplib.SMTPResponseException(code, reply)
        code, reply = connection.data(data)
        if code >= 400:
            raise smtplib.SMTPResponseException(code, reply)
        return f"{code} {_text(reply)}"

    def _connect(self) -> smtplib.SMTP:
        if self._connection is not None:
            return self._connection
        server = self.server
        factory = smtplib.SMTP_SSL if server.ssl else smtplib.SMTP
        connection = factory(server.host, server.port, timeout=server.timeout)
        connection.ehlo()
        if server.starttls:
            connection.starttls(context=ssl.create_default_context())
            connection.ehlo()
        if server.user:
            connection.login(server.user, server.password)
        self._connection = connection
        return connection

    def _reset(self) -> None:
        if self._connection is not None:
            try:
                self._connection.rset()
            except (OSError, smtplib.SMTPException):
                self.close()

    def _drop(self) -> None:
        """Close the socket without a QUIT, which mid-DATA would be read as content."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self._connection = None


class FolderTransport:
    """The embedded default: mail is kept in a local Maildir, readable on the test mailbox page."""

    def __init__(self, folder: Path) -> None:
        (folder / "sent").parent.mkdir(parents=True, exist_ok=True)
        self.maildir = mailbox.Maildir(folder / "sent", create=True)

    def send_many(self, letters: Iterable[Letter]) -> Iterator[tuple[int, Outcome]]:
        return one_by_one(self, letters)

    def send(self, sender: str, recipient: str, data: bytes) -> str:
        envelope = f"Return-Path: <{sender}>\r\nX-Envelope-To: <{recipient}>\r\n".encode()
        key = self.maildir.add(envelope + data)
        return f"250 lưu trong thư mục cục bộ ({key})"

    def close(self) -> None:
        return None


class _Closing(Exception):
    """421, or a reply where a reply cannot be: the channel is gone."""


def pipelined(connection: smtplib.SMTP, letters: Iterable[Letter]) -> Iterator[tuple[int, Outcome]]:
    """Each letter's outcome, in order (see the module's docstring). If the connection fails, the
    letters in flight come out as ConnectionLost and the stream ends; the caller gives back the rest."""
    waiting: Letter | None = None  # its DATA was accepted; its content goes with the next write
    current: Letter | None = None
    try:
        for current in letters:
            if not (current.sender + current.recipient).isascii():  # would need SMTPUTF8 (RFC 6531)
                yield current.key, PermanentFailure("553 5.6.7 địa chỉ không phải ASCII (non-ASCII address)")
                continue
            head = _stuffed(waiting.data) if waiting else b""
            envelope = f"MAIL FROM:<{current.sender}>\r\nRCPT TO:<{current.recipient}>\r\nDATA\r\n"
            connection.send(head + envelope.encode())
            if waiting is not None:
                yield waiting.key, _final(connection.getreply())
                waiting = None
            refused = _refusal([connection.getreply() for _ in range(3)], connection)
            if refused is None:
                waiting = current
            else:
                yield current.key, refused
        current = None
        if waiting is not None:
            connection.send(_stuffed(waiting.data))
            yield waiting.key, _final(connection.getreply())
    except (OSError, smtplib.SMTPException, _Closing) as error:
        lost = ConnectionLost(f"mất kết nối máy chủ thư: {error!r}")
        for letter in (waiting, current):
            if letter is not None:
                yield letter.key, lost


def _refusal(replies: list[Reply], connection: smtplib.SMTP) -> Outcome | None:
    """None when MAIL, RCPT and DATA were all accepted; else the first refusal, the transaction reset."""
    if any(code == 421 for code, _ in replies):
        raise _Closing(replies)
    refused = next((reply for reply in replies if reply[0] >= 400), None)
    if refused is None and replies[2][0] == 354:
        return None
    if replies[2][0] == 354:  # DATA accepted though nobody is left to deliver to: end it empty
        connection.send(b".\r\n")
        connection.getreply()
    connection.send(b"RSET\r\n")
    connection.getreply()
    return _failure(refused or (451, b"unexpected answer to DATA: " + replies[2][1]))


def _final(reply: Reply) -> Outcome:
    code, text = reply
    if code == 421 or code < 200:
        raise _Closing(reply)
    return f"{code} {text.decode('utf-8', 'replace')}" if code < 400 else _failure(reply)


def _failure(reply: Reply) -> TemporaryFailure | PermanentFailure:
    code, text = reply
    answer = f"{code} {text.decode('utf-8', 'replace')}"
    return TemporaryFailure(answer) if code < 500 else PermanentFailure(answer)


_DOTS = re.compile(rb"(?m)^\.")


def _stuffed(data: bytes) -> bytes:
    """The content as DATA sends it (RFC 5321 4.5.2): a leading dot doubled, ended by CRLF . CRLF."""
    if data.startswith(b".") or b"\n." in data:
        data = _DOTS.sub(b"..", data)
    return data + (b".\r\n" if data.endswith(b"\r\n") else b"\r\n.\r\n")


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
