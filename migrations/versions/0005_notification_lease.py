"""A notification's lease gets its own deadline (lease_expires_at) instead of updated_at + a cutoff.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 01:45:00

"""
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# What the sweeper allowed a claim until now: the default job timeout (600 s) plus 60 s.
CLAIM_LIFETIME = timedelta(seconds=660)


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True))
    # Rows a worker holds while this runs keep the deadline they had.
    notifications = sa.table(
        'notifications', sa.column('id', sa.Integer), sa.column('status', sa.String),
        sa.column('updated_at', sa.DateTime(timezone=True)), sa.column('lease_expires_at', sa.DateTime(timezone=True)),
    )
    connection = op.get_bind()
    claimed = connection.execute(
        sa.select(notifications.c.id, notifications.c.updated_at).where(notifications.c.status == 'sending')
    ).all()
    for notification_id, updated_at in claimed:
        connection.execute(
            notifications.update().where(notifications.c.id == notification_id)
            .values(lease_expires_at=updated_at + CLAIM_LIFETIME)
        )


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('lease_expires_at')
