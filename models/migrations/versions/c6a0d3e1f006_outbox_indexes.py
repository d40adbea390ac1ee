"""outbox indexes

Two fewer index entries written per delivery and per change of it, which at a million copies of a
notice is most of what the database does (issue 4): the index on delivery.message_id was never read
(the copies of a post share its Message-ID; replies are matched to posts), and the index on claim
now holds only the rows a sender has claimed, not every row ever sent.

Revision ID: c6a0d3e1f006
Revises: c5f1d16e5005
Create Date: 2026-11-23

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c6a0d3e1f006'
down_revision = 'c5f1d16e5005'
branch_labels = None
depends_on = None

CLAIMED = sa.text('claim IS NOT NULL')


def upgrade():
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_delivery_message_id')
        batch_op.drop_index('ix_delivery_claim')
        batch_op.create_index(
            'ix_delivery_claim', ['claim'], unique=False, sqlite_where=CLAIMED, postgresql_where=CLAIMED
        )


def downgrade():
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_delivery_claim')
        batch_op.create_index('ix_delivery_claim', ['claim'], unique=False)
        batch_op.create_index('ix_delivery_message_id', ['message_id'], unique=False)
