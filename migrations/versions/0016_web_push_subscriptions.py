"""Browser push subscriptions are devices too: a Web Push device's token is its endpoint, and it
keeps the browser's keys to encrypt for (devices.web_push_p256dh, devices.web_push_auth).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 18:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('web_push_p256dh', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('web_push_auth', sa.String(length=100), nullable=True))


def downgrade():
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_column('web_push_auth')
        batch_op.drop_column('web_push_p256dh')
