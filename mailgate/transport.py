"""Handing rendered mail to the world: an SMTP server over one reused connection, or a local folder."""

from __future__ import annotations

import mailbox
import re
import smtplib
import ssl
from pathlib import Path
from typing import Protocol

from mailgate.settings import SmtpServer


class TemporaryFailure(Exception):
    """4xx or no connection: try again later."""


class ConnectionLost(TemporaryFailure):
    """No usable connection to the server: nothing is wrong with the message or its recipient."""


class PermanentFailure(Exception):
    """5xx: the server will not take this message for this recipient."""


class Transport(Protocol):
    def send(self, sender: str, recipient: str, data: bytes) -> str:
        """Deliver; the server's answer. Raises TemporaryFailure or PermanentFailure."""

    def close(self) -> None: ...


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

    def _transaction(self, connection: smtplib.SMTP, sender: str, recipient: str, data: bytes) -> str:
        if connection.has_extn("pipelining") and (sender + recipient).isascii():
            return _pipelined(connection, sender, recipient, data)
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

    def send(self, sender: str, recipient: str, data: bytes) -> str:
        envelope = f"Return-Path: <{sender}>\r\nX-Envelope-To: <{recipient}>\r\n".encode()
        key = self.maildir.add(envelope + data)
        return f"250 lưu trong thư mục cục bộ ({key})"

    def close(self) -> None:
        return None


def _pipelined(connection: smtplib.SMTP, sender: str, recipient: str, data: bytes) -> str:
    """RFC 2920: MAIL, RCPT and DATA in one write, then the message: two round trips instead of four."""
    connection.send(f"MAIL FROM:<{sender}>\r\nRCPT TO:<{recipient}>\r\nDATA\r\n")
    replies = [connection.getreply() for _ in range(3)]
    refused = next(((code, reply) for code, reply in replies if code >= 400), None)
    if replies[2][0] == 354 and refused is not None:  # nobody to deliver to: end the message empty
        connection.send(b".\r\n")
        connection.getreply()
    elif replies[2][0] == 354:
        connection.send(_DOTS.sub(b"..", data) + (b"" if data.endswith(b"\r\n") else b"\r\n") + b".\r\n")
        replies.append(connection.getreply())
        refused = replies[3] if replies[3][0] >= 400 else None
    if refused is not None:
        raise smtplib.SMTPResponseException(*refused)
    if replies[2][0] != 354:  # no refusal, yet no DATA either: a server we do not understand
        raise smtplib.SMTPResponseException(451, b"unexpected answer to DATA: " + replies[2][1])
    return f"{replies[3][0]} {_text(replies[3][1])}"


_DOTS = re.compile(rb"(?m)^\.")


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
