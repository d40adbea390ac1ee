"""Which of our addresses a message was sent to, and what that address means.

The envelope recipient decides, not the visible To: the catch-all mailbox is read in the order
Delivered-To, X-Original-To, then To and Cc (design.md, "Addresses").
"""

from __future__ import annotations

import email.utils
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.message import Message
from enum import StrEnum


class RouteKind(StrEnum):
    JOIN = "dangky"  # dangky-<group>@
    LEAVE = "huydangky"  # huydangky-<group>@
    CONFIRM = "xacnhan"  # xacnhan+<token>@
    REPLY = "traloi"  # traloi+<key>@
    BOUNCE = "bounces"  # bounces+<key>@
    NOREPLY = "noreply"  # noreply@ (a reply that lost our Reply-To)
    POST = "post"  # <group>@


@dataclass(frozen=True)
class Route:
    kind: RouteKind
    address: str
    value: str  # the group's local part, the token or the key


_PREFIXED = {"dangky-": RouteKind.JOIN, "huydangky-": RouteKind.LEAVE}
_PLUS = {"xacnhan": RouteKind.CONFIRM, "traloi": RouteKind.REPLY, "bounces": RouteKind.BOUNCE}


def route_for(address: str, domain: str) -> Route | None:
    """The meaning of one address; None when it is not in our domain."""
    local, _, host = address.strip().lower().rpartition("@")
    if host != domain.lower() or not local:
        return None
    base, plus, detail = local.partition("+")
    if plus and base in _PLUS and detail:
        return Route(_PLUS[base], address.lower(), detail)
    if base == "noreply":
        return Route(RouteKind.NOREPLY, address.lower(), "")
    for prefix, kind in _PREFIXED.items():
        if base.startswith(prefix) and len(base) > len(prefix):
            return Route(kind, address.lower(), base[len(prefix) :])
    return Route(RouteKind.POST, address.lower(), base)


ENVELOPE_TIERS = (("Delivered-To",), ("X-Original-To",), ("To", "Cc"))


def addresses(message: Message, headers: Iterable[str]) -> list[str]:
    values = [str(v) for header in headers for v in message.get_all(header, [])]
    found = [address.lower() for _, address in email.utils.getaddresses(values) if "@" in address]
    return list(dict.fromkeys(found))


def find_route(message: Message, domain: str, is_group: Callable[[str], bool]) -> Route | None:
    """The route of the most trustworthy tier of recipient headers that names one of ours.

    Within a tier an address with a fixed meaning wins over a group address. A lower tier is read only
    when a higher one names nothing of ours: a copy delivered for thpt@ that also Cc'd dangky-thcs@ is a
    post to thpt, while the catch-all mailbox's own Delivered-To falls through to X-Original-To.
    """
    for tier in ENVELOPE_TIERS:
        routes = [r for r in (route_for(a, domain) for a in addresses(message, tier)) if r is not None]
        usable = [r for r in routes if r.kind != RouteKind.POST or is_group(r.value)]
        if usable:
            return min(usable, key=lambda r: r.kind == RouteKind.POST)
    return None
