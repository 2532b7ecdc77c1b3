"""Attempts that timed out after their request went are marked ambiguous (notification_events.ambiguous).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 14:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notification_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ambiguous', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('notification_events', schema=None) as batch_op:
        batch_op.drop_column('ambiguous')
