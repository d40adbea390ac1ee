"""digests

Daily digest choice per membership (issue 4), and the index of the outbox senders' claim.
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
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.add_column(sa.Column('digest', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_delivery_state_next_attempt_at')
        batch_op.create_index(
            'ix_delivery_state_channel_next_attempt_at_id',
            ['state', 'channel', 'next_attempt_at', 'id'],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_delivery_state_channel_next_attempt_at_id')
        batch_op.create_index('ix_delivery_state_next_attempt_at', ['state', 'next_attempt_at'], unique=False)
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_column('digest')
