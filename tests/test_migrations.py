"""The migrations bring an empty database to exactly the models, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from models import db
from models.search_schema import is_search_object


def test_migrated_database_matches_the_models(make_app):
    make_app()  # the database_url fixture ran `upgrade` on an empty database
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": is_search_object}
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_every_table_has_a_migration(make_app):
    make_app()
    tables = {
        t for t in sa.inspect(db.engine).get_table_names() if is_search_object(None, t, "table", True, None)
    }
    tables -= {"alembic_version"}
    assert tables == set(db.metadata.tables)
