"""Channel fallback: the clinic's order of channels to fall back on (clinic_settings.fallback_order),
what a send was composed from so a fallback can be rendered for another channel
(notification_groups.template_key and body), and each message's one fallback (message_fallbacks).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 18:10:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('clinic_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fallback_order', sa.JSON(), nullable=True))
    with op.batch_alter_table('notification_groups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('template_key', sa.Enum('appointment_reminder', 'appointment_confirmation',
                                                              'appointment_cancellation', 'treatment_update',
                                                              'medication_reminder', 'health_alert', 'progress_update',
                                                              name='notificationtype', native_enum=False,
                                                              create_constraint=False, length=32), nullable=True))
        batch_op.add_column(sa.Column('body', sa.Text(), nullable=True))
    op.create_table('message_fallbacks',
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('failed_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.Enum('sms', 'email', 'push', 'in_app', name='channel', native_enum=False,
                                 create_constraint=False, length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['failed_id'], ['notifications.id'], name=op.f('fk_message_fallbacks_failed_id_notifications')),
    sa.ForeignKeyConstraint(['group_id'], ['notification_groups.id'], name=op.f('fk_message_fallbacks_group_id_notification_groups')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_message_fallbacks_user_id_users')),
    sa.PrimaryKeyConstraint('group_id', 'user_id', name=op.f('pk_message_fallbacks'))
    )


def downgrade():
    op.drop_table('message_fallbacks')
    with op.batch_alter_table('notification_groups', schema=None) as batch_op:
        batch_op.drop_column('body')
        batch_op.drop_column('template_key')
    with op.batch_alter_table('clinic_settings', schema=None) as batch_op:
        batch_op.drop_column('fallback_order')
