"""consultations

Draft consultations: documents, provisions, comments, decisions (issue 6).
Reserved in the chain before the work began, so that branches worked on at the same time
add their tables here instead of forking Alembic's history.

Revision ID: c3d4f7a1c003
Revises: c2b07c4a7002
Create Date: 2026-11-22

"""
from alembic import op
import sqlalchemy as sa

import models.base


# revision identifiers, used by Alembic.
revision = 'c3d4f7a1c003'
down_revision = 'c2b07c4a7002'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
