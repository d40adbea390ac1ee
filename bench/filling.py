"""What the benchmarks fill their databases with, written once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from models.groups import MembershipSource, MembershipState


def membership_row(person_id: int, group_id: int, now: datetime) -> dict[str, Any]:
    """An active membership as a roster import makes it: no confirmation, a nonce for unsubscribing."""
    return {
        "person_id": person_id,
        "group_id": group_id,
        "state": MembershipState.ACTIVE,
        "source": MembershipSource.IMPORT,
        "unsubscribe_nonce": f"{person_id:016x}",
        "requested_at": now,
        "updated_at": now,
    }
