"""A real SMTP server (aiosmtpd) in a process of its own, so that a test can kill it mid-run.

    python -m tests.servers.recording_smtp PORT FILE    (prints "ready" once it listens)

Each accepted message's recipients are appended to FILE in one write before the 250 answer, so a
SIGKILL never loses a message the server acknowledged; one it recorded but could not acknowledge is
the sender's to send again.
"""

from __future__ import annotations

import os
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.servers.smtp import offer_pipelining


class Appender:
    def __init__(self, descriptor: int) -> None:
        self.descriptor = descriptor

    async def handle_EHLO(self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses):  # noqa: ANN001,ANN201
        session.host_name = hostname
        return offer_pipelining(responses)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        os.write(self.descriptor, "".join(f"{r}\n" for r in envelope.rcpt_tos).encode())
        return "250 2.0.0 Ok: queued"


def main() -> None:
    port, path = int(sys.argv[1]), sys.argv[2]
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    controller = Controller(Appender(descriptor), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
