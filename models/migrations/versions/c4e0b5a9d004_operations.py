"""operations

Operations: job locks and the like (issue 8).
Reserved in the chain before the work began, so that branches worked on at the same time
add their tables here instead of forking Alembic's history.

Revision ID: c4e0b5a9d004
Revises: c3d4f7a1c003
Create Date: 2026-11-22

"""
from alembic import op
import sqlalchemy as sa

import models.base


# revision identifiers, used by Alembic.
revision = 'c4e0b5a9d004'
down_revision = 'c3d4f7a1c003'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
