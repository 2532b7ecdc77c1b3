"""Index events by (created_at, id): the delivery log's order, so date ranges are one index range.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 21:40:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notification_events', schema=None) as batch_op:
        batch_op.create_index('ix_notification_events_time', ['created_at', 'id'], unique=False)
        batch_op.drop_index('ix_notification_events_created_at')


def downgrade():
    with op.batch_alter_table('notification_events', schema=None) as batch_op:
        batch_op.create_index('ix_notification_events_created_at', ['created_at'], unique=False)
        batch_op.drop_index('ix_notification_events_time')
