"""Is the From address really the sender's, and was this very mail meant for this group?

A sender is proven when our own receiving server vouched for it (the topmost Authentication-Results,
written with our authserv-id, saying dmarc=pass for the From domain: RFC 8601, parsed by
`mailgate.authresults`), or when a DKIM signature verifies (dkimpy) for the From domain or a domain
above it.

A notice asks for more, because any DKIM-signed mail a publisher ever sent stays valid for years: one
resent to <group>@ must not become a notice. So a notice needs an aligned DKIM signature whose signed
To or Cc names the group, a Date the signature covers within a few days of its arrival, and no
dmarc=fail from our server. Anything else is held for moderation: a forged From never goes out.
"""

from __future__ import annotations

import email.utils
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import dkim

from mailgate.authresults import AuthResults, parse_auth_results
from mailgate.parsing import ParsedMail

log = logging.getLogger(__name__)
DnsLookup = Callable[..., bytes | None]


@dataclass(frozen=True)
class NoticeProof:
    how: str | None  # "dkim", "dkim+dmarc"; None: not proven
    why_not: str = ""  # when not proven: what was missing, for the held reason


@dataclass(frozen=True)
class _Signature:
    domain: str
    signed: list[tuple[bytes, bytes]]  # the header fields this signature covers, as hashed


def verified_by(
    mail: ParsedMail, raw: bytes, trusted_authserv_id: str, dns: DnsLookup | None = None
) -> str | None:
    """How the sender was verified ("dmarc", "dkim"), or None."""
    domain = _from_domain(mail)
    if not domain:
        return None
    ours = our_results(mail, trusted_authserv_id)
    if ours is not None and ours.passed("dmarc", "header.from", domain):
        return "dmarc"
    return "dkim" if _aligned_signatures(mail, raw, domain, dns) else None


def prove_notice(
    mail: ParsedMail,
    raw: bytes,
    *,
    group_address: str,
    now: datetime,
    trusted_authserv_id: str,
    dns: DnsLookup | None = None,
    max_age: timedelta = timedelta(days=3),
) -> NoticeProof:
    """Whether this mail may go out as a notice to the group at `group_address`."""
    domain = _from_domain(mail)
    ours = our_results(mail, trusted_authserv_id)
    if not domain or (ours is not None and _failed_dmarc(ours, domain)):
        return NoticeProof(None, "máy chủ nhận thư báo DMARC không đạt (dmarc=fail)")
    signatures = _aligned_signatures(mail, raw, domain, dns)
    if not signatures:
        return NoticeProof(None, "không có chữ ký DKIM hợp lệ của tên miền người gửi (no aligned DKIM)")
    covering = [each for each in signatures if _names_recipient(each, group_address)]
    if not covering:
        return NoticeProof(None, "chữ ký DKIM không bao gồm địa chỉ nhóm ở To/Cc (possible replay)")
    if not any(_signed_date_recent(each, now, max_age) for each in covering):
        return NoticeProof(None, "ngày gửi (Date đã ký) quá cũ hoặc không có (possible replay)")
    dmarc = ours is not None and ours.passed("dmarc", "header.from", domain)
    return NoticeProof("dkim+dmarc" if dmarc else "dkim")


def our_results(mail: ParsedMail, authserv_id: str) -> AuthResults | None:
    """Our receiving server's Authentication-Results: only the topmost instance, and only when it
    carries our authserv-id. Our server adds its own on top and removes any bearing its id on arrival
    (RFC 8601 §5); every other instance came with the mail, and anyone can write those."""
    if not authserv_id:
        return None
    fields = mail.message.get_all("Authentication-Results", [])
    top = parse_auth_results(str(fields[0])) if fields else None
    return top if top is not None and top.authserv_id == authserv_id.lower() else None


def _failed_dmarc(results: AuthResults, domain: str) -> bool:
    return any(
        found.method == "dmarc"
        and found.result != "pass"
        and found.properties.get("header.from", "").lower() == domain.lower()
        for found in results.results
    )


def _from_domain(mail: ParsedMail) -> str:
    return (mail.sender or "").rpartition("@")[2].lower()


def _aligned_signatures(mail: ParsedMail, raw: bytes, domain: str, dns: DnsLookup | None) -> list[_Signature]:
    """The DKIM signatures that verify and belong to the From domain or a domain above it."""
    found: list[_Signature] = []
    checker = dkim.DKIM(raw)
    for index in range(len(mail.message.get_all("DKIM-Signature", []))):
        try:
            valid = checker.verify(idx=index, dnsfunc=dns) if dns else checker.verify(idx=index)
        except dkim.DKIMException as error:
            log.info("DKIM signature %d unusable: %s", index, error)
            continue
        signer = (checker.domain or b"").decode().lower()
        if valid and (domain == signer or domain.endswith("." + signer)):
            found.append(_Signature(signer, list(checker.signed_headers)))
    return found


def _names_recipient(signature: _Signature, address: str) -> bool:
    values = [
        value.decode("utf-8", "replace") for name, value in signature.signed if name.lower() in (b"to", b"cc")
    ]
    return any(found.lower() == address.lower() for _, found in email.utils.getaddresses(values))


def _signed_date_recent(signature: _Signature, now: datetime, max_age: timedelta) -> bool:
    for name, value in signature.signed:
        if name.lower() == b"date":
            try:
                sent = email.utils.parsedate_to_datetime(value.decode("ascii", "replace").strip())
            except (TypeError, ValueError):
                return False
            if sent.tzinfo is None:  # "-0000": UTC, its offset unknown to the writer (RFC 5322)
                sent = sent.replace(tzinfo=UTC)
            return now - max_age <= sent <= now + timedelta(hours=1)
    return False
