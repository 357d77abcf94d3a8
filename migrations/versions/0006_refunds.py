"""refunds as records with their own states; the ledger's refund_reversal kind

Revision ID: 0006_refunds
Revises: 0005_audit_checkpoints
Create Date: 2026-12-01 03:15:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0006_refunds"
down_revision = "0005_audit_checkpoints"
branch_labels = None
depends_on = None

LEDGER = "ledger_entries"
OLD_KINDS = "('charge', 'refund', 'settlement', 'dispute_withdrawal', 'dispute_reinstatement', 'platform_fee', 'fee_reversal')"
NEW_KINDS = "('charge', 'refund', 'settlement', 'dispute_withdrawal', 'dispute_reinstatement', 'refund_reversal', 'platform_fee', 'fee_reversal')"


def _sqlite_ledger_triggers():
    """The append-only triggers of 0003 (a table rebuilt on SQLite loses its triggers)."""
    for operation in ("UPDATE", "DELETE"):
        op.execute(f"CREATE TRIGGER {LEDGER}_no_{operation.lower()} BEFORE {operation} ON {LEDGER} "
                   f"BEGIN SELECT RAISE(ABORT, '{LEDGER} is append-only: {operation} refused'); END")
    op.execute(f"CREATE TRIGGER {LEDGER}_no_replace BEFORE INSERT ON {LEDGER} "
               f"WHEN EXISTS (SELECT 1 FROM {LEDGER} WHERE id = NEW.id) "
               f"BEGIN SELECT RAISE(ABORT, '{LEDGER} is append-only: REPLACE refused'); END")


def _replace_kind_check(kinds):
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE {LEDGER} DROP CONSTRAINT ck_ledger_entries_kind")
        op.execute(f"ALTER TABLE {LEDGER} ADD CONSTRAINT ck_ledger_entries_kind CHECK (kind IN {kinds})")
        return
    # SQLite cannot alter a CHECK: the table is rebuilt (rows copied, never updated) and its triggers made again.
    for name in ("no_update", "no_delete", "no_replace"):
        op.execute(f"DROP TRIGGER IF EXISTS {LEDGER}_{name}")
    with op.batch_alter_table(LEDGER, recreate="always") as batch_op:
        batch_op.drop_constraint(op.f("ck_ledger_entries_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_ledger_entries_kind"), sa.text(f"kind IN {kinds}"))
    _sqlite_ledger_triggers()


def upgrade():
    op.create_table('refunds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('idempotency_key', sa.String(length=100), nullable=False),
    sa.Column('provider_reference', sa.String(length=100), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('failure_reason', sa.Text(), nullable=True),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('requested', 'pending', 'succeeded', 'failed', 'cancelled')", name=op.f('ck_refunds_status')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_refunds_amount_positive')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_refunds_order_id_orders')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_refunds_payment_id_payments')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_refunds_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refunds')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_refunds_idempotency_key')),
    sa.UniqueConstraint('order_id', 'sequence', name='uq_refunds_order_sequence'),
    sa.UniqueConstraint('provider_reference', name=op.f('uq_refunds_provider_reference'))
    )
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refunds_order_id'), ['order_id'], unique=False)
    _replace_kind_check(NEW_KINDS)


def downgrade():
    _replace_kind_check(OLD_KINDS)
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refunds_order_id'))
    op.drop_table('refunds')
