"""Index notifications by message (send, patient): Monitor lists one row per message.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 10:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_monitor')
        batch_op.create_index('ix_notifications_monitor', ['sender_id', 'group_id', 'user_id'], unique=False)
        batch_op.create_index('ix_notifications_message', ['group_id', 'user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_message')
        batch_op.drop_index('ix_notifications_monitor')
        batch_op.create_index('ix_notifications_monitor', ['sender_id', 'id'], unique=False)
