"""signed checkpoints of the audit chain head (append-only); the readiness probe's row

Revision ID: 0005_audit_checkpoints
Revises: 0004_structured_scope
Create Date: 2026-12-01 03:15:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0005_audit_checkpoints"
down_revision = "0004_structured_scope"
branch_labels = None
depends_on = None

CHECKPOINTS = "audit_checkpoints"


def create_append_only_triggers(table):
    """As 0001 does for audit_events: refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) on ``table``.

    PostgreSQL reuses refuse_change_to_append_only(), created by 0001 for the audit trail.
    """
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION refuse_change_to_append_only()")
        op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_to_append_only()")
    else:
        for operation in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {operation} refused'); END")
        # INSERT OR REPLACE deletes the old row without firing DELETE triggers: refuse reusing an id.
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
    op.create_table(CHECKPOINTS,
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('event_count', sa.Integer(), nullable=False),
    sa.Column('last_event_id', sa.Integer(), nullable=True),
    sa.Column('last_event_hash', sa.String(length=64), nullable=False),
    sa.Column('key_id', sa.String(length=16), nullable=False),
    sa.Column('signature', sa.String(length=64), nullable=False),
    sa.CheckConstraint('(last_event_id IS NULL) = (event_count = 0)',
                       name=op.f('ck_audit_checkpoints_head_matches_count')),
    sa.CheckConstraint('event_count >= 0', name=op.f('ck_audit_checkpoints_event_count_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_checkpoints'))
    )
    create_append_only_triggers(CHECKPOINTS)
    op.create_table('readiness_probe',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_readiness_probe'))
    )


def downgrade():
    op.drop_table('readiness_probe')
    drop_append_only_triggers(CHECKPOINTS)
    op.drop_table(CHECKPOINTS)
