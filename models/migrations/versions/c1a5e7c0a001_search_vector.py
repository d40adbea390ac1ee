"""search_vector

A stored tsvector for PostgreSQL search (issue 5). SQLite keeps FTS5.
Reserved in the chain before the work began, so that branches worked on at the same time
add their tables here instead of forking Alembic's history.

Revision ID: c1a5e7c0a001
Revises: f2cc4c6cb8b4
Create Date: 2026-11-22

"""
from alembic import op
import sqlalchemy as sa

import models.base


# revision identifiers, used by Alembic.
revision = 'c1a5e7c0a001'
down_revision = 'f2cc4c6cb8b4'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
