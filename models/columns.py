"""Column types shared by the tables."""

from enum import StrEnum
from typing import Any

from sqlalchemy import Enum


def enum_column(enum: type[StrEnum], length: int = 16) -> Any:
    """A portable enum: a VARCHAR holding the member's value, checked by a constraint."""
    return Enum(
        enum,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        name=enum.__name__.lower(),
    )
