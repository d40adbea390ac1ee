"""What the web forum needs to know, built by wiring.py."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from models.services.consultations import PeriodRules
from models.services.memberships import JoinRules
from models.site import Site


@dataclass(frozen=True)
class WebSettings:
    site: Site
    join: JoinRules  # the same rules the mailgate applies (wiring builds them once)
    # The embedded default's mail folder: set, the test mailbox page (Hộp thư thử nghiệm) is served.
    local_mail_folder: Path | None = None
    consultation: PeriodRules = PeriodRules()  # minimum comment periods of drafts, by document type
    # The chat bot, offered on a signed-in person's page: Telegram's @name, Zalo's Official Account page.
    telegram_bot: str = ""
    zalo_oa_url: str = ""


def web_settings() -> WebSettings:
    settings: WebSettings = current_app.extensions["nhomthu.web"]
    return settings
