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
    op.create_table('consultation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('document_type', sa.String(length=40), nullable=False),
    sa.Column('opens_at', models.base.UtcDateTime(), nullable=False),
    sa.Column('closes_at', models.base.UtcDateTime(), nullable=False),
    sa.Column('state', sa.Enum('scheduled', 'open', 'closed', name='periodstate', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('created_at', models.base.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['notice_id'], ['notice.id'], name=op.f('fk_consultation_notice_id_notice'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consultation')),
    sa.UniqueConstraint('notice_id', name=op.f('uq_consultation_notice_id'))
    )
    with op.batch_alter_table('consultation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consultation_closes_at'), ['closes_at'], unique=False)

    op.create_table('draft_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('attachment_id', sa.Integer(), nullable=True),
    sa.Column('preamble', sa.Text(), nullable=False),
    sa.Column('created_at', models.base.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['attachment_id'], ['post_attachment.id'], name=op.f('fk_draft_version_attachment_id_post_attachment')),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultation.id'], name=op.f('fk_draft_version_consultation_id_consultation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_draft_version')),
    sa.UniqueConstraint('consultation_id', 'number', name=op.f('uq_draft_version_consultation_id_number'))
    )
    op.create_table('provision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('phan', 'chuong', 'muc', 'tieu_muc', 'dieu', 'khoan', 'diem', name='provisionkind', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('label', sa.String(length=80), nullable=False),
    sa.Column('citation', sa.String(length=200), nullable=False),
    sa.Column('anchor', sa.String(length=200), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('heading', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('previous_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['parent_id'], ['provision.id'], name=op.f('fk_provision_parent_id_provision')),
    sa.ForeignKeyConstraint(['previous_id'], ['provision.id'], name=op.f('fk_provision_previous_id_provision')),
    sa.ForeignKeyConstraint(['version_id'], ['draft_version.id'], name=op.f('fk_provision_version_id_draft_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provision')),
    sa.UniqueConstraint('version_id', 'anchor', name=op.f('uq_provision_version_id_anchor'))
    )
    with op.batch_alter_table('provision', schema=None) as batch_op:
        batch_op.create_index('ix_provision_version_id_position', ['version_id', 'position'], unique=False)

    op.create_table('draft_comment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('provision_id', sa.Integer(), nullable=True),
    sa.Column('cited', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('state', sa.Enum('anchored', 'general', 'review', name='commentstate', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('created_at', models.base.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultation.id'], name=op.f('fk_draft_comment_consultation_id_consultation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_draft_comment_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_draft_comment_person_id_person')),
    sa.ForeignKeyConstraint(['post_id'], ['post.id'], name=op.f('fk_draft_comment_post_id_post'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provision_id'], ['provision.id'], name=op.f('fk_draft_comment_provision_id_provision')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_draft_comment'))
    )
    with op.batch_alter_table('draft_comment', schema=None) as batch_op:
        batch_op.create_index('ix_draft_comment_consultation_id_state', ['consultation_id', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_draft_comment_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_draft_comment_post_id'), ['post_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_draft_comment_provision_id'), ['provision_id'], unique=False)

    op.create_table('draft_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('verdict', sa.Enum('tiep_thu', 'giai_trinh', 'khong_tiep_thu', name='verdict', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', models.base.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['draft_comment.id'], name=op.f('fk_draft_decision_comment_id_draft_comment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['person.id'], name=op.f('fk_draft_decision_decided_by_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_draft_decision')),
    sa.UniqueConstraint('comment_id', name=op.f('uq_draft_decision_comment_id'))
    )


def downgrade():
    op.drop_table('draft_decision')
    with op.batch_alter_table('draft_comment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_draft_comment_provision_id'))
        batch_op.drop_index(batch_op.f('ix_draft_comment_post_id'))
        batch_op.drop_index(batch_op.f('ix_draft_comment_person_id'))
        batch_op.drop_index('ix_draft_comment_consultation_id_state')

    op.drop_table('draft_comment')
    with op.batch_alter_table('provision', schema=None) as batch_op:
        batch_op.drop_index('ix_provision_version_id_position')

    op.drop_table('provision')
    op.drop_table('draft_version')
    with op.batch_alter_table('consultation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consultation_closes_at'))

    op.drop_table('consultation')
