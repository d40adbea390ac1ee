"""A minimal SMTP server that counts and discards: the fan-out benchmark's far end, in its own process.

    python bench/smtp_sink.py PORT [RECORD]    (prints "ready" when listening; XCOUNT answers the count)

Written on asyncio streams rather than aiosmtpd so the receiving end is not what the benchmark measures.
With RECORD, each accepted message's recipients are appended to that file in one write before the 250
answer, so that a sink killed with SIGKILL keeps the record of everything it acknowledged.
"""

from __future__ import annotations

import asyncio
import os
import sys

received = 0
record: int | None = None


async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    global received
    writer.write(b"220 sink ESMTP\r\n")
    recipients: list[bytes] = []
    while line := await reader.readline():
        verb = line[:4].upper()
        if verb in (b"EHLO", b"HELO"):
            writer.write(b"250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 52428800\r\n")
        elif verb == b"DATA":
            writer.write(b"354 go on\r\n")
            await writer.drain()
            while (data := await reader.readline()) not in (b".\r\n", b""):
                pass
            if not data:  # the client went away mid-message: nothing was accepted
                break
            received += 1
            if record is not None:
                os.write(record, b"".join(r + b"\n" for r in recipients))
            recipients.clear()
            writer.write(b"250 2.0.0 Ok: queued\r\n")
        elif verb == b"QUIT":
            writer.write(b"221 bye\r\n")
            break
        elif verb in (b"MAIL", b"RSET"):
            recipients.clear()
            writer.write(b"250 Ok\r\n")
        elif verb == b"RCPT":
            recipients.append(line.partition(b"<")[2].partition(b">")[0])
            writer.write(b"250 Ok\r\n")
        elif verb == b"XCOU":
            writer.write(f"250 {received}\r\n".encode())
        else:
            writer.write(b"250 Ok\r\n")
        await writer.drain()
    writer.close()


async def main(port: int) -> None:
    server = await asyncio.start_server(session, "127.0.0.1", port, limit=1 << 20)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) > 2:
        record = os.open(sys.argv[2], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    asyncio.run(main(int(sys.argv[1])))
