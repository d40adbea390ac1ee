"""The search structures the migration creates outside the models (see services/search.py)."""

from __future__ import annotations

from typing import Any


def is_search_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic's include_object: False for the FTS5 tables, PostgreSQL's stored `search_vector` column and
    the GIN indexes, so autogenerate and the migration check neither drop nor report them."""
    return not (name or "").startswith(("post_fts", "ix_post_search", "search_vector"))
