"""digests

Daily digest choice per membership (issue 4).
Reserved in the chain before the work began, so that branches worked on at the same time
add their tables here instead of forking Alembic's history.

Revision ID: c5f1d16e5005
Revises: c4e0b5a9d004
Create Date: 2026-11-22

"""
from alembic import op
import sqlalchemy as sa

import models.base


# revision identifiers, used by Alembic.
revision = 'c5f1d16e5005'
down_revision = 'c4e0b5a9d004'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
