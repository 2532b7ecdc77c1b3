"""Appointments, and the sends made for them (notification_groups.appointment_id).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 14:10:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'appointments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('public_id', sa.String(length=32), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('practitioner_id', sa.Integer(), nullable=False),
        sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('duration_minutes', sa.Integer(), nullable=False),
        sa.Column('treatment', sa.String(length=80), nullable=False),
        sa.Column('location', sa.String(length=120), nullable=False),
        sa.Column('notes', sa.Text(), nullable=False),
        sa.Column('status', sa.Enum('booked', 'rescheduled', 'cancelled', 'completed', 'no_show',
                                    name='appointmentstatus', native_enum=False, create_constraint=False,
                                    length=32), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['patient_id'], ['users.id']),
        sa.ForeignKeyConstraint(['practitioner_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('public_id'),
    )
    op.create_index('ix_appointments_practitioner_start', 'appointments', ['practitioner_id', 'starts_at'])
    op.create_index('ix_appointments_patient_start', 'appointments', ['patient_id', 'starts_at'])
    with op.batch_alter_table('notification_groups') as batch:
        batch.add_column(sa.Column('appointment_id', sa.Integer(), nullable=True))
        batch.create_index('ix_notification_groups_appointment_id', ['appointment_id'])
        batch.create_foreign_key('fk_notification_groups_appointment_id', 'appointments', ['appointment_id'], ['id'])


def downgrade():
    with op.batch_alter_table('notification_groups') as batch:
        batch.drop_constraint('fk_notification_groups_appointment_id', type_='foreignkey')
        batch.drop_index('ix_notification_groups_appointment_id')
        batch.drop_column('appointment_id')
    op.drop_index('ix_appointments_patient_start', table_name='appointments')
    op.drop_index('ix_appointments_practitioner_start', table_name='appointments')
    op.drop_table('appointments')
