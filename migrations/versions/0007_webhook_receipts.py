"""Twilio webhooks already acted on (webhook_receipts), so a replayed one changes nothing.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 04:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'webhook_receipts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.Enum('twilio_inbound', 'twilio_status', name='receiptkind', native_enum=False,
                                  length=20), nullable=False),
        sa.Column('key', sa.String(length=100), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_receipts')),
        sa.UniqueConstraint('kind', 'key', name=op.f('uq_webhook_receipts_kind')),
    )
    with op.batch_alter_table('webhook_receipts', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_receipts_expiry', ['kind', 'received_at'], unique=False)


def downgrade():
    with op.batch_alter_table('webhook_receipts', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_receipts_expiry')
    op.drop_table('webhook_receipts')
