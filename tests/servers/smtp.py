"""A real SMTP server (aiosmtpd) on loopback that records what it receives and can be told to fail,
like GNU Mailman's testing/mta.py."""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.servers.dovecot import free_port


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Recorder:
    """The handler: keeps every accepted message; `failures` are answered to the next DATA commands."""

    received: list[Received] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    connections: int = 0
    pipelining: bool = (
        True  # offered, as Postfix and Exchange do (aiosmtpd reads pipelined commands in order)
    )

    async def handle_EHLO(self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses):  # noqa: ANN001,ANN201
        self.connections += 1
        session.host_name = hostname
        return offer_pipelining(responses) if self.pipelining else responses

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.failures:
            return self.failures.pop(0)
        data = envelope.original_content or b""
        self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), data))
        return f"250 2.0.0 Ok: queued as T{len(self.received)}"


def offer_pipelining(responses: list[str]) -> list[str]:
    """aiosmtpd's EHLO answer with RFC 2920 PIPELINING among the extensions."""
    return [*responses[:-1], "250-PIPELINING", responses[-1]]


class SmtpServer:
    def __init__(self) -> None:
        self.recorder = Recorder()
        self.port = free_port()
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.controller.stop()

    @property
    def received(self) -> list[Received]:
        return self.recorder.received

    def to(self, address: str) -> list[EmailMessage]:
        return [r.message for r in self.received if address in r.recipients]

    def fail_next(self, *answers: str) -> None:
        self.recorder.failures.extend(answers)

    def reset(self) -> None:
        self.recorder.received.clear()
        self.recorder.failures.clear()
        self.recorder.connections = 0
        self.recorder.pipelining = True
