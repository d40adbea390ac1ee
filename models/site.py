"""The public face of the site, shared by every adapter: mail domain, web address, name, signing key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta, timezone

# Times are stored in UTC and shown in Vietnam's time (UTC+7, no daylight saving).
VIETNAM = timezone(timedelta(hours=7), "ICT")


@dataclass(frozen=True)
class Site:
    domain: str
    base_url: str
    secret_key: str
    name_vi: str = "Nhóm thư Bộ Giáo dục và Đào tạo"
    name_en: str = "Ministry of Education and Training email groups"

    @property
    def noreply(self) -> str:
        return f"noreply@{self.domain}"

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path
