"""Is the From address really the sender's? Only then may a publisher's mail go out as a notice.

Either our own receiving server vouched for it (an Authentication-Results header with our authserv-id,
topmost, saying dmarc=pass for the From domain: RFC 8601), or a DKIM signature verifies (dkimpy) for the
From domain or a domain above it. Anything else is held for moderation: a forged From never goes out.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import dkim

from mailgate.parsing import ParsedMail

log = logging.getLogger(__name__)
DnsLookup = Callable[..., bytes | None]
_DMARC_PASS = re.compile(r"\bdmarc=pass\b[^;]*\bheader\.from=([^\s;]+)", re.IGNORECASE)


def verified_by(
    mail: ParsedMail, raw: bytes, trusted_authserv_id: str, dns: DnsLookup | None = None
) -> str | None:
    """How the sender was verified ("dmarc", "dkim"), or None."""
    domain = (mail.sender or "").rpartition("@")[2]
    if not domain:
        return None
    if trusted_authserv_id and _dmarc_passed(mail, trusted_authserv_id, domain):
        return "dmarc"
    signatures = len(mail.message.get_all("DKIM-Signature", []))
    return "dkim" if _dkim_aligned(raw, signatures, domain, dns) else None


def _dmarc_passed(mail: ParsedMail, authserv_id: str, domain: str) -> bool:
    """Only the topmost Authentication-Results counts: ours is added last, on top; the rest came with
    the mail, and anyone can write them."""
    results = mail.message.get_all("Authentication-Results", [])
    if not results:
        return False
    top = str(results[0])
    if top.split(";", 1)[0].strip().split()[0].lower() != authserv_id.lower():
        return False
    found = _DMARC_PASS.search(top)
    return found is not None and found.group(1).lower() == domain.lower()


def _dkim_aligned(raw: bytes, signatures: int, domain: str, dns: DnsLookup | None) -> bool:
    checker = dkim.DKIM(raw)
    for index in range(signatures):
        try:
            valid = checker.verify(idx=index, dnsfunc=dns) if dns else checker.verify(idx=index)
        except dkim.DKIMException as error:
            log.info("DKIM signature %d unusable: %s", index, error)
            continue
        signer = (checker.domain or b"").decode().lower()
        if valid and (domain.lower() == signer or domain.lower().endswith("." + signer)):
            return True
    return False
