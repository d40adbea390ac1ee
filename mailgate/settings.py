"""What the mail gateway needs to know, built by wiring.py from the environment."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from mailgate.signing import DkimKey
from models.services.consultations import PeriodRules
from models.services.memberships import JoinRules
from models.site import Site


@dataclass(frozen=True)
class ImapAccount:
    host: str
    port: int
    user: str
    password: str
    ssl: bool = True
    folder: str = "INBOX"
    done_folder: str = "nhomthu-da-xu-ly"  # handled messages are moved here, after the database commit
    timeout: float = 60.0


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    user: str = ""
    password: str = ""
    starttls: bool = False
    ssl: bool = False
    timeout: float = 60.0


@dataclass(frozen=True)
class MailSettings:
    site: Site
    imap: ImapAccount | None  # None: the embedded default, mail through a local folder
    smtp: SmtpServer | None
    folder: Path  # the local mail folder: outgoing mail is kept in folder/sent when smtp is None
    join: JoinRules  # the same rules the forum applies (wiring builds them once)
    # Rows claimed, sent, then settled together: a sender killed mid-batch sends the batch again.
    send_batch: int = 100
    max_age: timedelta = timedelta(days=3)  # a message still refused after this is given up
    lease: timedelta = timedelta(minutes=5)
    first_retry: timedelta = timedelta(minutes=1)  # after a refusal or a lost server; doubles each time
    # The authserv-id our own receiving server writes in Authentication-Results (RFC 8601); empty: trust none.
    trusted_authserv_id: str = ""
    # A publisher's signed mail older than this (by its signed Date) is held, not published: a replay.
    notice_max_age: timedelta = timedelta(days=3)
    # How DKIM keys are looked up (dkimpy's dnsfunc); None: DNS. Tests give keys without a network.
    dkim_dns: Callable[..., bytes | None] | None = None
    dkim: DkimKey | None = None  # signs what we send (mailgate.signing); None: the relay signs, or nobody
    consultation: PeriodRules = PeriodRules()  # minimum comment periods; the forum applies the same
