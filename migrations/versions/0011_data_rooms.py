"""confidential attachments, versioned NDA texts, access requests and the download log

Revision ID: 0011_data_rooms
Revises: 0010_threads
Create Date: 2026-12-01 10:40:00

download_logs is append-only like the ledger: UPDATE and DELETE (TRUNCATE on PostgreSQL, REPLACE on SQLite) are
refused by triggers; revoke UPDATE, DELETE, TRUNCATE on it from the application's role as the README shows.
"""
import sqlalchemy as sa
from alembic import op

revision = "0011_data_rooms"
down_revision = "0010_threads"
branch_labels = None
depends_on = None

LOG = "download_logs"
LIVE = sa.text("status IN ('requested', 'approved')")


def create_append_only_triggers(table):
    """As 0005 does for audit_checkpoints (PostgreSQL reuses refuse_change_to_append_only() of 0001)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION refuse_change_to_append_only()")
        op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_to_append_only()")
    else:
        for operation in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {operation} refused'); END")
        op.execute(f"CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table} "
                   f"WHEN EXISTS (SELECT 1 FROM {table} WHERE id = NEW.id) "
                   f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: REPLACE refused'); END")


def drop_append_only_triggers(table):
    """Undo ``create_append_only_triggers`` (the shared PostgreSQL function stays for the audit trail)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    else:
        for operation in ("update", "delete", "replace"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")


def upgrade():
    with op.batch_alter_table('listing_attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('confidential', sa.Boolean(), server_default=sa.false(), nullable=False))

    op.create_table('nda_texts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('text_zh', sa.Text(), nullable=True),
    sa.Column('text_en', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('version >= 1', name=op.f('ck_nda_texts_version_positive')),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_nda_texts_listing_id_listings')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_nda_texts_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_nda_texts')),
    sa.UniqueConstraint('listing_id', 'version', name='uq_nda_texts_listing_version')
    )
    op.create_table('listing_data_rooms',
    sa.Column('listing_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('auto_approve', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'],
                            name=op.f('fk_listing_data_rooms_listing_id_listings')),
    sa.PrimaryKeyConstraint('listing_id', name=op.f('pk_listing_data_rooms'))
    )
    op.create_table('access_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('nda_version', sa.Integer(), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('requested', 'approved', 'rejected', 'revoked')",
                       name=op.f('ck_access_requests_status')),
    sa.CheckConstraint('nda_version >= 1', name=op.f('ck_access_requests_nda_version_positive')),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_access_requests_listing_id_listings')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'],
                            name=op.f('fk_access_requests_institution_id_institutions')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'],
                            name=op.f('fk_access_requests_requested_by_id_users')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_access_requests_decided_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_requests'))
    )
    with op.batch_alter_table('access_requests', schema=None) as batch_op:
        batch_op.create_index('ix_access_requests_listing_status', ['listing_id', 'status'], unique=False)
        batch_op.create_index('ix_access_requests_institution_status', ['institution_id', 'status'], unique=False)
        batch_op.create_index('uq_access_requests_live', ['listing_id', 'institution_id'], unique=True,
                              sqlite_where=LIVE, postgresql_where=LIVE)

    op.create_table(LOG,
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attachment_id', sa.Integer(), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('downloaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['attachment_id'], ['listing_attachments.id'],
                            name=op.f('fk_download_logs_attachment_id_listing_attachments')),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_download_logs_listing_id_listings')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_download_logs_user_id_users')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'],
                            name=op.f('fk_download_logs_institution_id_institutions')),
    sa.ForeignKeyConstraint(['request_id'], ['access_requests.id'],
                            name=op.f('fk_download_logs_request_id_access_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_download_logs'))
    )
    with op.batch_alter_table(LOG, schema=None) as batch_op:
        batch_op.create_index('ix_download_logs_listing_downloaded_at', ['listing_id', 'downloaded_at'],
                              unique=False)
    create_append_only_triggers(LOG)


def downgrade():
    drop_append_only_triggers(LOG)
    with op.batch_alter_table(LOG, schema=None) as batch_op:
        batch_op.drop_index('ix_download_logs_listing_downloaded_at')
    op.drop_table(LOG)
    with op.batch_alter_table('access_requests', schema=None) as batch_op:
        batch_op.drop_index('uq_access_requests_live', sqlite_where=LIVE, postgresql_where=LIVE)
        batch_op.drop_index('ix_access_requests_institution_status')
        batch_op.drop_index('ix_access_requests_listing_status')
    op.drop_table('access_requests')
    op.drop_table('listing_data_rooms')
    op.drop_table('nda_texts')
    with op.batch_alter_table('listing_attachments', schema=None) as batch_op:
        batch_op.drop_column('confidential')
