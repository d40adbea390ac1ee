"""The signed keys in our plus-addresses: traloi+<key>@ names the delivery a reply answers,
bounces+<key>@ the delivery a bounce is about. A MAC stops anyone from naming another's."""

from __future__ import annotations

import base64
import hashlib
import hmac

from models.site import Site


def signed_key(purpose: str, number: int, secret_key: str) -> str:
    return f"{number}-{_mac(purpose, number, secret_key)}"


def read_signed_key(purpose: str, key: str, secret_key: str) -> int | None:
    """The number a key names, or None when it is malformed or its MAC is wrong."""
    number, _, mac = key.lower().partition("-")
    if not number.isdigit() or len(number) > 18:
        return None
    return int(number) if hmac.compare_digest(mac, _mac(purpose, int(number), secret_key)) else None


def reply_address(delivery_id: int, site: Site) -> str:
    return f"traloi+{signed_key('reply', delivery_id, site.secret_key)}@{site.domain}"


def bounce_address(delivery_id: int, site: Site) -> str:
    return f"bounces+{signed_key('bounce', delivery_id, site.secret_key)}@{site.domain}"


def _mac(purpose: str, number: int, secret_key: str) -> str:
    digest = hmac.new(secret_key.encode(), f"{purpose}:{number}".encode(), hashlib.sha256).digest()[:10]
    return base64.b32encode(digest).decode().lower()
