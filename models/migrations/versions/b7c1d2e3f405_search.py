"""search: FTS5 on SQLite, a GIN full-text index on PostgreSQL, over post.search_text

Revision ID: b7c1d2e3f405
Revises: 90663e060d00
Create Date: 2026-11-22

Not expressible as models: both live outside the metadata, and the migration check leaves them out
(models.search_schema.is_search_object).
"""
from alembic import op

revision = "b7c1d2e3f405"
down_revision = "90663e060d00"
branch_labels = None
depends_on = None

SQLITE = [
    "CREATE VIRTUAL TABLE post_fts USING fts5(search_text, content='post', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER post_fts_insert AFTER INSERT ON post BEGIN "
    "INSERT INTO post_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER post_fts_delete AFTER DELETE ON post BEGIN "
    "INSERT INTO post_fts(post_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER post_fts_update AFTER UPDATE OF search_text ON post BEGIN "
    "INSERT INTO post_fts(post_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO post_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "INSERT INTO post_fts(post_fts) VALUES ('rebuild')",
]
POSTGRESQL = ["CREATE INDEX ix_post_search_gin ON post USING gin (to_tsvector('simple', search_text))"]


def upgrade():
    for statement in SQLITE if op.get_bind().dialect.name == "sqlite" else POSTGRESQL:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for name in ("post_fts_insert", "post_fts_delete", "post_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS post_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_post_search_gin")
