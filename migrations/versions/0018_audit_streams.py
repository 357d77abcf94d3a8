"""the audit trail in streams: one hash chain per object (stream, seq), checkpoints over every stream's head

Existing events are not rewritten (the triggers refuse UPDATE, and their hashes are evidence): they keep stream and
seq NULL and stay verifiable as the legacy chain, linked in id order. Events recorded after this migration start
a chain per object. Existing checkpoints are format 1 (the global chain's head, now the legacy chain's).
The unique (stream, seq) is an index: SQLite cannot add a constraint without copying the table (and its
append-only triggers) over.

Revision ID: 0018_audit_streams
Revises: 0017_browse
Create Date: 2026-12-01 14:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0018_audit_streams"
down_revision = "0017_browse"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('audit_events', sa.Column('stream', sa.String(length=100), nullable=True))
    op.add_column('audit_events', sa.Column('seq', sa.Integer(), nullable=True))
    op.create_index('uq_audit_events_stream_seq', 'audit_events', ['stream', 'seq'], unique=True)
    op.add_column('audit_checkpoints', sa.Column('format', sa.Integer(), server_default='1', nullable=False))
    op.add_column('audit_checkpoints', sa.Column('root_hash', sa.String(length=64), nullable=True))
    op.add_column('audit_checkpoints', sa.Column('stream_count', sa.Integer(), nullable=True))


def downgrade():
    for column in ('stream_count', 'root_hash', 'format'):
        drop_column('audit_checkpoints', column)
    op.drop_index('uq_audit_events_stream_seq', table_name='audit_events')
    for column in ('seq', 'stream'):
        drop_column('audit_events', column)


def drop_column(table, column):
    """ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35 does it in place, keeping the append-only triggers)."""
    op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
