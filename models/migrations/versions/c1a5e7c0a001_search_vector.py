"""search_vector: a stored tsvector for PostgreSQL search

Ranking with `ts_rank(to_tsvector('simple', search_text), …)` re-parsed the text of every match, and
Vietnamese syllables are common ("hoc sinh" matched 474,794 of 1,000,000 posts in the forum benchmark:
25 s a search). A stored generated column is parsed once, when the post is written, and its GIN index
replaces the expression index. SQLite keeps its FTS5 table; nothing changes there.

Like the first search migration, this lives outside the models (models.search_schema.is_search_object).

Revision ID: c1a5e7c0a001
Revises: f2cc4c6cb8b4
Create Date: 2026-11-22

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c1a5e7c0a001'
down_revision = 'f2cc4c6cb8b4'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "ALTER TABLE post ADD COLUMN search_vector tsvector "
        "GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED"
    )
    op.execute("CREATE INDEX ix_post_search_vector ON post USING gin (search_vector)")
    op.execute("DROP INDEX IF EXISTS ix_post_search_gin")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE INDEX ix_post_search_gin ON post USING gin (to_tsvector('simple', search_text))")
    op.execute("DROP INDEX IF EXISTS ix_post_search_vector")
    op.execute("ALTER TABLE post DROP COLUMN search_vector")
