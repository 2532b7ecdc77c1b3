"""Events that set when a notification goes keep that time as data (notification_events.scheduled_for).

Existing events keep their words in `detail`; new ones are shown in each viewer's time zone.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 12:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notification_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scheduled_for', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('notification_events', schema=None) as batch_op:
        batch_op.drop_column('scheduled_for')
