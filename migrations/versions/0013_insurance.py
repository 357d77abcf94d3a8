"""first-of-kind insurance policies and premium compensation applications

Revision ID: 0013_insurance
Revises: 0012_matching
Create Date: 2026-12-01 13:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0013_insurance"
down_revision = "0012_matching"
branch_labels = None
depends_on = None

ENTRIES = "compensation_entries"
APPLICATION_STATUSES = "'draft', 'filed', 'approved', 'rejected', 'paid', 'withdrawn'"
OPEN_SQL = "status IN ('draft', 'filed', 'approved', 'paid')"


def create_entry_triggers():
    """The compensation entries are append-only like the ledger (TXN-03): UPDATE, DELETE (TRUNCATE on PostgreSQL,
    REPLACE on SQLite) refused. PostgreSQL reuses refuse_change_to_append_only(), created by 0001."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE TRIGGER {ENTRIES}_append_only BEFORE UPDATE OR DELETE ON {ENTRIES} "
                   "FOR EACH ROW EXECUTE FUNCTION refuse_change_to_append_only()")
        op.execute(f"CREATE TRIGGER {ENTRIES}_no_truncate BEFORE TRUNCATE ON {ENTRIES} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_to_append_only()")
        return
    for operation in ("UPDATE", "DELETE"):
        op.execute(f"CREATE TRIGGER {ENTRIES}_no_{operation.lower()} BEFORE {operation} ON {ENTRIES} "
                   f"BEGIN SELECT RAISE(ABORT, '{ENTRIES} is append-only: {operation} refused'); END")
    op.execute(f"CREATE TRIGGER {ENTRIES}_no_replace BEFORE INSERT ON {ENTRIES} "
               f"WHEN EXISTS (SELECT 1 FROM {ENTRIES} WHERE id = NEW.id) "
               f"BEGIN SELECT RAISE(ABORT, '{ENTRIES} is append-only: REPLACE refused'); END")


def drop_entry_triggers():
    """Undo ``create_entry_triggers`` (the shared PostgreSQL function stays)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {ENTRIES}_append_only ON {ENTRIES}")
        op.execute(f"DROP TRIGGER IF EXISTS {ENTRIES}_no_truncate ON {ENTRIES}")
        return
    for operation in ("update", "delete", "replace"):
        op.execute(f"DROP TRIGGER IF EXISTS {ENTRIES}_no_{operation}")


def upgrade():
    op.create_table('insurance_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('insurer', sa.String(length=200), nullable=False),
    sa.Column('policy_number', sa.String(length=100), nullable=False),
    sa.Column('coverage', sa.Text(), nullable=False),
    sa.Column('insured_amount', sa.BigInteger(), nullable=False),
    sa.Column('premium', sa.BigInteger(), nullable=False),
    sa.Column('premium_rate_bp', sa.Integer(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('premium > 0', name=op.f('ck_insurance_policies_premium_positive')),
    sa.CheckConstraint('insured_amount > 0', name=op.f('ck_insurance_policies_insured_amount_positive')),
    sa.CheckConstraint('premium_rate_bp IS NULL OR (premium_rate_bp BETWEEN 1 AND 10000)',
                       name=op.f('ck_insurance_policies_premium_rate_range')),
    sa.CheckConstraint('period_end > period_start', name=op.f('ck_insurance_policies_period_window')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_insurance_policies_created_by_id_users')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'],
                            name=op.f('fk_insurance_policies_institution_id_institutions')),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_insurance_policies_listing_id_listings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_insurance_policies')),
    sa.UniqueConstraint('insurer', 'policy_number', name='uq_insurance_policies_insurer_policy_number')
    )
    with op.batch_alter_table('insurance_policies', schema=None) as batch_op:
        batch_op.create_index('ix_insurance_policies_institution', ['institution_id'], unique=False)
        batch_op.create_index('ix_insurance_policies_listing', ['listing_id'], unique=False)

    op.create_table('compensation_applications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('policy_year', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('product_kind', sa.String(length=16), nullable=False),
    sa.Column('share_bp', sa.Integer(), nullable=False),
    sa.Column('rate_cap_bp', sa.Integer(), nullable=False),
    sa.Column('max_years', sa.Integer(), nullable=False),
    sa.Column('counted_premium', sa.BigInteger(), nullable=False),
    sa.Column('requested_amount', sa.BigInteger(), nullable=False),
    sa.Column('approved_amount', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('payment_reference', sa.String(length=120), nullable=True),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('filed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint(f"status IN ({APPLICATION_STATUSES})", name=op.f('ck_compensation_applications_status')),
    sa.CheckConstraint('policy_year >= 1', name=op.f('ck_compensation_applications_policy_year_positive')),
    sa.CheckConstraint('requested_amount >= 0', name=op.f('ck_compensation_applications_requested_not_negative')),
    sa.CheckConstraint('approved_amount IS NULL OR (approved_amount > 0 AND approved_amount <= requested_amount)',
                       name=op.f('ck_compensation_applications_approved_within_requested')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                            name=op.f('fk_compensation_applications_created_by_id_users')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'],
                            name=op.f('fk_compensation_applications_decided_by_id_users')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'],
                            name=op.f('fk_compensation_applications_institution_id_institutions')),
    sa.ForeignKeyConstraint(['policy_id'], ['insurance_policies.id'],
                            name=op.f('fk_compensation_applications_policy_id_insurance_policies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_compensation_applications')),
    sa.UniqueConstraint('payment_reference', name=op.f('uq_compensation_applications_payment_reference'))
    )
    with op.batch_alter_table('compensation_applications', schema=None) as batch_op:
        batch_op.create_index('ix_compensation_applications_institution_status', ['institution_id', 'status'],
                              unique=False)
        batch_op.create_index('ix_compensation_applications_policy', ['policy_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_compensation_applications_status'), ['status'], unique=False)
        batch_op.create_index('uq_compensation_applications_open_year', ['policy_id', 'policy_year'], unique=True,
                              sqlite_where=sa.text(OPEN_SQL), postgresql_where=sa.text(OPEN_SQL))

    op.create_table('compensation_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('storage_name', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('policy', 'premium_invoice', 'payment_proof', 'other')",
                       name=op.f('ck_compensation_documents_kind')),
    sa.ForeignKeyConstraint(['application_id'], ['compensation_applications.id'],
                            name=op.f('fk_compensation_documents_application_id_compensation_applications')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'],
                            name=op.f('fk_compensation_documents_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_compensation_documents')),
    sa.UniqueConstraint('storage_name', name=op.f('uq_compensation_documents_storage_name'))
    )
    with op.batch_alter_table('compensation_documents', schema=None) as batch_op:
        batch_op.create_index('ix_compensation_documents_application', ['application_id'], unique=False)

    op.create_table(ENTRIES,
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('requested', 'approved', 'paid')", name=op.f('ck_compensation_entries_kind')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_compensation_entries_amount_positive')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_compensation_entries_actor_id_users')),
    sa.ForeignKeyConstraint(['application_id'], ['compensation_applications.id'],
                            name=op.f('fk_compensation_entries_application_id_compensation_applications')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'],
                            name=op.f('fk_compensation_entries_institution_id_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_compensation_entries'))
    )
    with op.batch_alter_table(ENTRIES, schema=None) as batch_op:
        batch_op.create_index('ix_compensation_entries_application', ['application_id'], unique=False)
    create_entry_triggers()


def downgrade():
    drop_entry_triggers()
    with op.batch_alter_table(ENTRIES, schema=None) as batch_op:
        batch_op.drop_index('ix_compensation_entries_application')
    op.drop_table(ENTRIES)
    with op.batch_alter_table('compensation_documents', schema=None) as batch_op:
        batch_op.drop_index('ix_compensation_documents_application')
    op.drop_table('compensation_documents')
    with op.batch_alter_table('compensation_applications', schema=None) as batch_op:
        batch_op.drop_index('uq_compensation_applications_open_year', sqlite_where=sa.text(OPEN_SQL),
                            postgresql_where=sa.text(OPEN_SQL))
        batch_op.drop_index(batch_op.f('ix_compensation_applications_status'))
        batch_op.drop_index('ix_compensation_applications_policy')
        batch_op.drop_index('ix_compensation_applications_institution_status')
    op.drop_table('compensation_applications')
    with op.batch_alter_table('insurance_policies', schema=None) as batch_op:
        batch_op.drop_index('ix_insurance_policies_listing')
        batch_op.drop_index('ix_insurance_policies_institution')
    op.drop_table('insurance_policies')
