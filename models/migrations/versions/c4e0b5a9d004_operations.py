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
    op.create_table(
        'job_lock',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('next_run_at', models.base.UtcDateTime(), nullable=False),
        sa.Column('holder', sa.String(length=64), nullable=True),
        sa.Column('locked_until', models.base.UtcDateTime(), nullable=True),
        sa.Column('runs', sa.Integer(), server_default='0', nullable=False),
        sa.Column('last_started_at', models.base.UtcDateTime(), nullable=True),
        sa.Column('last_finished_at', models.base.UtcDateTime(), nullable=True),
        sa.Column('last_done', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_job_lock')),
    )
    op.create_table(
        'heartbeat',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('at', models.base.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_heartbeat')),
    )


def downgrade():
    op.drop_table('heartbeat')
    op.drop_table('job_lock')
