"""Provider receipts that arrive before the send they report on is recorded (early_receipts).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 09:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'early_receipts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('provider', sa.String(length=20), nullable=False),
        sa.Column('provider_message_id', sa.String(length=255), nullable=True),
        sa.Column('notification_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.Enum('scheduled', 'queued', 'sending', 'sent', 'delivered', 'read', 'failed',
                                    'cancelled', 'suppressed', name='status', native_enum=False, length=32),
                  nullable=False),
        sa.Column('detail', sa.String(length=200), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'],
                                name=op.f('fk_early_receipts_notification_id_notifications'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_early_receipts')),
    )
    with op.batch_alter_table('early_receipts', schema=None) as batch_op:
        batch_op.create_index('ix_early_receipts_message', ['provider', 'provider_message_id'], unique=False)
        batch_op.create_index('ix_early_receipts_received', ['received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_early_receipts_notification_id'), ['notification_id'], unique=False)


def downgrade():
    with op.batch_alter_table('early_receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_early_receipts_notification_id'))
        batch_op.drop_index('ix_early_receipts_received')
        batch_op.drop_index('ix_early_receipts_message')
    op.drop_table('early_receipts')
