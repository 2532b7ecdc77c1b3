"""The audit log (audit_events), append-only: a trigger refuses every UPDATE and DELETE of its rows.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 08:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

REFUSAL = 'audit_events is append-only'

POSTGRESQL_UP = (
    f"""
    CREATE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{REFUSAL}: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
    END
    $$
    """,
    """
    CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change()
    """,
)
POSTGRESQL_DOWN = (
    "DROP TRIGGER audit_events_append_only ON audit_events",
    "DROP FUNCTION audit_events_refuse_change()",
)
SQLITE_UP = tuple(
    f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events "
    f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}: {verb} refused'); END"
    for verb in ('UPDATE', 'DELETE')
)
SQLITE_DOWN = ("DROP TRIGGER audit_events_no_update", "DROP TRIGGER audit_events_no_delete")


def upgrade():
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('action', sa.Enum('signed_in', 'sign_in_failed', 'signed_out', 'two_factor_passed', 'two_factor_failed', 'two_factor_enabled', 'two_factor_disabled', 'password_changed', 'notification_viewed', 'delivery_log_viewed', 'delivery_log_exported', 'audit_log_exported', 'send_created', 'send_cancelled', 'message_cancelled', 'message_rescheduled', 'notification_cancelled', 'notification_rescheduled', 'user_created', 'user_deactivated', 'user_reactivated', 'practitioner_assigned', 'sms_opted_out', 'sms_opted_in', 'email_opted_out', 'templates_installed', 'clinic_settings_changed', 'api_key_created', 'api_key_revoked', 'api_key_used', name='auditaction', native_enum=False, length=40), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('patient_id', sa.Integer(), nullable=True),
    sa.Column('client_address', sa.String(length=45), nullable=True),
    sa.Column('detail', sa.String(length=255), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_events_actor_id_users')),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_audit_events_patient_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_occurred_at'), ['occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_patient_id'), ['patient_id'], unique=False)
    for statement in _for_dialect(POSTGRESQL_UP, SQLITE_UP):
        op.execute(statement)


def downgrade():
    for statement in _for_dialect(POSTGRESQL_DOWN, SQLITE_DOWN):
        op.execute(statement)
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_patient_id'))
        batch_op.drop_index(batch_op.f('ix_audit_events_occurred_at'))
        batch_op.drop_index(batch_op.f('ix_audit_events_actor_id'))
        batch_op.drop_index(batch_op.f('ix_audit_events_action'))
    op.drop_table('audit_events')


def _for_dialect(postgresql, sqlite):
    """The trigger's SQL for this database (a table altered by a later SQLite batch migration is
    copied, which drops its triggers: such a migration must create them again)."""
    name = op.get_bind().dialect.name
    if name == 'postgresql':
        return postgresql
    if name == 'sqlite':
        return sqlite
    raise NotImplementedError(f'no append-only trigger for {name}')
