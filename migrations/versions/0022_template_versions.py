"""Every text a template has had (template_versions), and the clinic's SMS segment limit.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02 17:45:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('template_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('saved_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('saved_by_id', sa.Integer(), nullable=True),
    sa.Column('restored_from_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['template_id'], ['templates.id'],
                            name=op.f('fk_template_versions_template_id_templates'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['saved_by_id'], ['users.id'],
                            name=op.f('fk_template_versions_saved_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['restored_from_id'], ['template_versions.id'],
                            name=op.f('fk_template_versions_restored_from_id_template_versions'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_template_versions'))
    )
    with op.batch_alter_table('template_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_template_versions_template_id'), ['template_id'], unique=False)
    with op.batch_alter_table('clinic_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sms_segment_limit', sa.Integer(), server_default='3', nullable=False))


def downgrade():
    with op.batch_alter_table('clinic_settings', schema=None) as batch_op:
        batch_op.drop_column('sms_segment_limit')
    with op.batch_alter_table('template_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_template_versions_template_id'))
    op.drop_table('template_versions')
