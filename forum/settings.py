"""What the web forum needs to know, built by wiring.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import current_app

from models.site import Site


@dataclass(frozen=True)
class WebSettings:
    site: Site
    # The embedded default's mail folder: set, the test mailbox page (Hộp thư thử nghiệm) is served.
    local_mail_folder: Path | None = None
    confirmation_ttl: timedelta = timedelta(days=7)
    confirmations_per_day: int = 3


def web_settings() -> WebSettings:
    settings: WebSettings = current_app.extensions["nhomthu.web"]
    return settings
