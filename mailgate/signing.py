"""DKIM signatures on the mail we send (RFC 6376), when the site has a key.

Each delivery is personal (its To, Reply-To and unsubscribe link differ), so each is signed on its own,
after its placeholders are filled. dkimpy signs RSA in pure Python: 17 ms of one core a message here
(a 2048-bit key, a 5 kB notice), so about 60 messages a second per core. A site sending notices to
thousands should sign at its relay (OpenDKIM beside Postfix, or its mail provider) and leave the key
unset; docs/operations.md says so. The key here suits a small site without such a relay.
"""

from __future__ import annotations

from dataclasses import dataclass

import dkim

# What a receiver needs to trust unchanged: who it is from and to, what it is, and how to leave.
SIGNED_HEADERS = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"reply-to",
    b"in-reply-to",
    b"references",
    b"list-id",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"mime-version",
    b"content-type",
)


class BadKey(Exception):
    """The configured key cannot sign."""


@dataclass(frozen=True)
class DkimKey:
    selector: str
    domain: str
    private_key: bytes  # PEM

    def __repr__(self) -> str:  # never the key itself in a log line
        return f"DkimKey(selector={self.selector!r}, domain={self.domain!r})"


def sign(data: bytes, key: DkimKey) -> bytes:
    """The message with its DKIM-Signature header in front."""
    signature = dkim.sign(
        data,
        key.selector.encode(),
        key.domain.encode(),
        key.private_key,
        include_headers=list(SIGNED_HEADERS),
        linesep=b"\r\n",
    )
    return signature + data


def check(key: DkimKey) -> None:
    """Sign a small message once, so a bad key stops the process at start, not every delivery."""
    try:
        sign(b"From: a@" + key.domain.encode() + b"\r\nSubject: x\r\n\r\nx\r\n", key)
    except (dkim.DKIMException, ValueError, TypeError) as error:
        raise BadKey(str(error)) from error
