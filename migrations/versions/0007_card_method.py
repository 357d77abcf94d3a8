"""payments.method is the rail the buyer chose (stripe, bank_transfer), never the gateway's name ("fake")

Revision ID: 0007_card_method
Revises: 0006_refunds
Create Date: 2026-12-01 07:40:00

Card payments made while the fake gateway stood in for Stripe were stored with method 'fake'; they are card
payments ('stripe'). Ledger entries keep the rail they were booked with (the ledger is append-only).
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_card_method"
down_revision = "0006_refunds"
branch_labels = None
depends_on = None

OLD_METHODS = "('stripe', 'bank_transfer', 'fake')"
NEW_METHODS = "('stripe', 'bank_transfer')"


def _replace_method_check(methods):
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE payments DROP CONSTRAINT ck_payments_method")
        op.execute(f"ALTER TABLE payments ADD CONSTRAINT ck_payments_method CHECK (method IN {methods})")
        return
    # SQLite cannot alter a CHECK: the table is rebuilt with its rows.
    with op.batch_alter_table("payments", recreate="always") as batch_op:
        batch_op.drop_constraint(op.f("ck_payments_method"), type_="check")
        batch_op.create_check_constraint(op.f("ck_payments_method"), sa.text(f"method IN {methods}"))


def upgrade():
    op.execute("UPDATE payments SET method = 'stripe' WHERE method = 'fake'")
    _replace_method_check(NEW_METHODS)


def downgrade():
    _replace_method_check(OLD_METHODS)
