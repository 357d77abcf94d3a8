"""enquiry threads between two institutions and their messages

Revision ID: 0010_threads
Revises: 0009_demands
Create Date: 2026-12-01 10:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0010_threads"
down_revision = "0009_demands"
branch_labels = None
depends_on = None

OPEN = sa.text("status = 'open'")


def upgrade():
    op.create_table('threads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=True),
    sa.Column('demand_id', sa.Integer(), nullable=True),
    sa.Column('opener_institution_id', sa.Integer(), nullable=False),
    sa.Column('counterpart_institution_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_message_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reported_by_id', sa.Integer(), nullable=True),
    sa.Column('report_reason', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('open', 'closed')", name=op.f('ck_threads_status')),
    sa.CheckConstraint("(listing_id IS NULL AND demand_id IS NOT NULL) OR "
                       "(listing_id IS NOT NULL AND demand_id IS NULL)", name=op.f('ck_threads_one_subject')),
    sa.CheckConstraint('opener_institution_id <> counterpart_institution_id',
                       name=op.f('ck_threads_two_institutions')),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_threads_listing_id_listings')),
    sa.ForeignKeyConstraint(['demand_id'], ['demands.id'], name=op.f('fk_threads_demand_id_demands')),
    sa.ForeignKeyConstraint(['opener_institution_id'], ['institutions.id'],
                            name=op.f('fk_threads_opener_institution_id_institutions')),
    sa.ForeignKeyConstraint(['counterpart_institution_id'], ['institutions.id'],
                            name=op.f('fk_threads_counterpart_institution_id_institutions')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_threads_created_by_id_users')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_threads_order_id_orders')),
    sa.ForeignKeyConstraint(['reported_by_id'], ['users.id'], name=op.f('fk_threads_reported_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_threads'))
    )
    with op.batch_alter_table('threads', schema=None) as batch_op:
        batch_op.create_index('uq_threads_open_listing', ['listing_id', 'opener_institution_id'], unique=True,
                              sqlite_where=OPEN, postgresql_where=OPEN)
        batch_op.create_index('uq_threads_open_demand', ['demand_id', 'opener_institution_id'], unique=True,
                              sqlite_where=OPEN, postgresql_where=OPEN)
        batch_op.create_index('ix_threads_opener_last_message', ['opener_institution_id', 'last_message_at'],
                              unique=False)
        batch_op.create_index('ix_threads_counterpart_last_message',
                              ['counterpart_institution_id', 'last_message_at'], unique=False)
        batch_op.create_index('ix_threads_reported_at', ['reported_at'], unique=False)

    op.create_table('thread_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('thread_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('author_institution_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('attachment_filename', sa.String(length=200), nullable=True),
    sa.Column('attachment_content_type', sa.String(length=64), nullable=True),
    sa.Column('attachment_size', sa.Integer(), nullable=True),
    sa.Column('attachment_sha256', sa.String(length=64), nullable=True),
    sa.Column('attachment_storage_name', sa.String(length=80), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('body IS NOT NULL OR attachment_storage_name IS NOT NULL',
                       name=op.f('ck_thread_messages_body_or_file')),
    sa.CheckConstraint('body IS NULL OR length(body) <= 10000', name=op.f('ck_thread_messages_body_length')),
    sa.ForeignKeyConstraint(['thread_id'], ['threads.id'], name=op.f('fk_thread_messages_thread_id_threads')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_thread_messages_author_id_users')),
    sa.ForeignKeyConstraint(['author_institution_id'], ['institutions.id'],
                            name=op.f('fk_thread_messages_author_institution_id_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_thread_messages'))
    )
    with op.batch_alter_table('thread_messages', schema=None) as batch_op:
        batch_op.create_index('ix_thread_messages_thread_id_id', ['thread_id', 'id'], unique=False)

    op.create_table('thread_reads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('thread_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('last_read_message_id', sa.Integer(), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['thread_id'], ['threads.id'], name=op.f('fk_thread_reads_thread_id_threads')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_thread_reads_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_thread_reads')),
    sa.UniqueConstraint('thread_id', 'user_id', name='uq_thread_reads_thread_user')
    )
    with op.batch_alter_table('thread_reads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_thread_reads_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('thread_reads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_thread_reads_user_id'))
    op.drop_table('thread_reads')
    with op.batch_alter_table('thread_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_thread_messages_thread_id_id')
    op.drop_table('thread_messages')
    with op.batch_alter_table('threads', schema=None) as batch_op:
        batch_op.drop_index('ix_threads_reported_at')
        batch_op.drop_index('ix_threads_counterpart_last_message')
        batch_op.drop_index('ix_threads_opener_last_message')
        batch_op.drop_index('uq_threads_open_demand', sqlite_where=OPEN, postgresql_where=OPEN)
        batch_op.drop_index('uq_threads_open_listing', sqlite_where=OPEN, postgresql_where=OPEN)
    op.drop_table('threads')
