"""Delivery preferences per notification type (users.channel_choices) and the clinic's default
channels per type (clinic_settings.default_channels); a patient's one set of preferred channels
becomes their choice for every type.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 17:40:00

"""
import json

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

# The types a patient chooses for when this revision was written (health alerts go everywhere).
CHOOSABLE_TYPES = ('appointment_reminder', 'appointment_confirmation', 'appointment_cancellation',
                   'treatment_update', 'medication_reminder', 'progress_update')
CHOOSABLE_CHANNELS = ('sms', 'email', 'push')


def _decoded(value):
    return json.loads(value) if isinstance(value, str) else value


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel_choices', sa.JSON(), nullable=True))
    with op.batch_alter_table('clinic_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('default_channels', sa.JSON(), nullable=True))
    users = sa.table('users', sa.column('id', sa.Integer()), sa.column('preferred_channels', sa.JSON()),
                     sa.column('channel_choices', sa.JSON()))
    connection = op.get_bind()
    for user_id, preferred in connection.execute(sa.select(users.c.id, users.c.preferred_channels)).all():
        channels = [c for c in CHOOSABLE_CHANNELS if c in (_decoded(preferred) or [])]
        connection.execute(users.update().where(users.c.id == user_id).values(
            channel_choices={kind: channels for kind in CHOOSABLE_TYPES}))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('channel_choices', existing_type=sa.JSON(), nullable=False)
        batch_op.drop_column('preferred_channels')


def downgrade():
    """Back to one set: every channel the patient had on for any type."""
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('preferred_channels', sa.JSON(), nullable=True))
    users = sa.table('users', sa.column('id', sa.Integer()), sa.column('preferred_channels', sa.JSON()),
                     sa.column('channel_choices', sa.JSON()))
    connection = op.get_bind()
    for user_id, choices in connection.execute(sa.select(users.c.id, users.c.channel_choices)).all():
        chosen = {c for channels in (_decoded(choices) or {}).values() for c in channels}
        connection.execute(users.update().where(users.c.id == user_id).values(
            preferred_channels=['in_app', *[c for c in CHOOSABLE_CHANNELS if c in chosen]]))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('preferred_channels', existing_type=sa.JSON(), nullable=False)
        batch_op.drop_column('channel_choices')
    with op.batch_alter_table('clinic_settings', schema=None) as batch_op:
        batch_op.drop_column('default_channels')
