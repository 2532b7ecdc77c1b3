"""Medication courses, their doses, and the reminders sent for them (notification_groups.medication_course_id).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 17:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'medication_courses',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('public_id', sa.String(length=32), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('practitioner_id', sa.Integer(), nullable=False),
        sa.Column('medicine', sa.String(length=120), nullable=False),
        sa.Column('dosage', sa.String(length=120), nullable=False),
        sa.Column('times_of_day', sa.JSON(), nullable=False),
        sa.Column('start_date', sa.Date(), nullable=False),
        sa.Column('end_date', sa.Date(), nullable=False),
        sa.Column('instructions', sa.Text(), nullable=False),
        sa.Column('status', sa.Enum('active', 'stopped', 'ended', name='medicationcoursestatus', native_enum=False,
                                    create_constraint=False, length=32), nullable=False),
        sa.Column('reminders_through', sa.DateTime(timezone=True), nullable=True),
        sa.Column('stopped_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['patient_id'], ['users.id']),
        sa.ForeignKeyConstraint(['practitioner_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('public_id'),
    )
    op.create_index('ix_medication_courses_patient', 'medication_courses', ['patient_id', 'start_date'])
    op.create_index('ix_medication_courses_due', 'medication_courses', ['status', 'reminders_through'])
    with op.batch_alter_table('notification_groups') as batch:
        batch.add_column(sa.Column('medication_course_id', sa.Integer(), nullable=True))
        batch.create_index('ix_notification_groups_medication_course_id', ['medication_course_id'])
        batch.create_foreign_key('fk_notification_groups_medication_course_id', 'medication_courses',
                                 ['medication_course_id'], ['id'])
    op.create_table(
        'medication_doses',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('course_id', sa.Integer(), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=False),
        sa.Column('taken_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['course_id'], ['medication_courses.id']),
        sa.ForeignKeyConstraint(['group_id'], ['notification_groups.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('group_id'),
    )
    op.create_index('uq_medication_doses_course_due', 'medication_doses', ['course_id', 'due_at'], unique=True,
                    postgresql_where=sa.text('cancelled_at IS NULL'), sqlite_where=sa.text('cancelled_at IS NULL'))


def downgrade():
    op.drop_index('uq_medication_doses_course_due', table_name='medication_doses')
    op.drop_table('medication_doses')
    with op.batch_alter_table('notification_groups') as batch:
        batch.drop_constraint('fk_notification_groups_medication_course_id', type_='foreignkey')
        batch.drop_index('ix_notification_groups_medication_course_id')
        batch.drop_column('medication_course_id')
    op.drop_index('ix_medication_courses_due', table_name='medication_courses')
    op.drop_index('ix_medication_courses_patient', table_name='medication_courses')
    op.drop_table('medication_courses')
