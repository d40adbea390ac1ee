"""chat_links

Chat links for the Telegram and Zalo bot (issue 7).
Reserved in the chain before the work began, so that branches worked on at the same time
add their tables here instead of forking Alembic's history.

Revision ID: c2b07c4a7002
Revises: c1a5e7c0a001
Create Date: 2026-11-22

"""
from alembic import op
import sqlalchemy as sa

import models.base


# revision identifiers, used by Alembic.
revision = 'c2b07c4a7002'
down_revision = 'c1a5e7c0a001'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
