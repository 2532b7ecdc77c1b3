"""Treatment plans, their phases, and the progress recorded on them with the send each made.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 17:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

ACTIVE = sa.text("status = 'active'")


def upgrade():
    op.create_table(
        'treatment_plans',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('public_id', sa.String(length=32), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('practitioner_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('status', sa.Enum('active', 'completed', 'stopped', name='treatmentplanstatus',
                                    native_enum=False, create_constraint=False, length=32), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['patient_id'], ['users.id']),
        sa.ForeignKeyConstraint(['practitioner_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('public_id'),
    )
    op.create_index('ix_treatment_plans_patient', 'treatment_plans', ['patient_id', 'id'])
    op.create_index('ix_treatment_plans_practitioner_id', 'treatment_plans', ['practitioner_id'])
    op.create_index('uq_treatment_plans_one_active', 'treatment_plans', ['patient_id'], unique=True,
                    postgresql_where=ACTIVE, sqlite_where=ACTIVE)
    op.create_table(
        'treatment_phases',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('plan_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['plan_id'], ['treatment_plans.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('plan_id', 'position'),
    )
    op.create_table(
        'treatment_progress',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('plan_id', sa.Integer(), nullable=False),
        sa.Column('phase_id', sa.Integer(), nullable=False),
        sa.Column('percent', sa.Integer(), nullable=False),
        sa.Column('next_milestone', sa.String(length=120), nullable=False),
        sa.Column('notes', sa.Text(), nullable=False),
        sa.Column('recorded_by_id', sa.Integer(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['plan_id'], ['treatment_plans.id']),
        sa.ForeignKeyConstraint(['phase_id'], ['treatment_phases.id']),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id']),
        sa.ForeignKeyConstraint(['group_id'], ['notification_groups.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_treatment_progress_plan', 'treatment_progress', ['plan_id', 'id'])


def downgrade():
    op.drop_index('ix_treatment_progress_plan', table_name='treatment_progress')
    op.drop_table('treatment_progress')
    op.drop_table('treatment_phases')
    op.drop_index('uq_treatment_plans_one_active', table_name='treatment_plans')
    op.drop_index('ix_treatment_plans_practitioner_id', table_name='treatment_plans')
    op.drop_index('ix_treatment_plans_patient', table_name='treatment_plans')
    op.drop_table('treatment_plans')
