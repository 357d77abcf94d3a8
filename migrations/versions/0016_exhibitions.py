"""docking exhibitions, their entries, registrations and leads

Revision ID: 0016_exhibitions
Revises: 0015_evaluations
Create Date: 2026-12-01 13:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0016_exhibitions"
down_revision = "0015_evaluations"
branch_labels = None
depends_on = None

EXHIBITION_STATUSES = "'draft', 'published', 'cancelled'"
EXHIBITION_MODES = "'offline', 'online', 'hybrid'"
ENTRY_ORIGINS = "'invited', 'applied'"
ENTRY_STATUSES = "'invited', 'applied', 'accepted', 'declined', 'withdrawn'"
REGISTRATION_STATUSES = "'registered', 'cancelled'"
LEAD_TABLES = ("threads", "orders")


def add_lead_column(table):
    """A nullable exhibition_id on threads/orders with its named foreign key (on SQLite written inline: it cannot
    ALTER a constraint in, and copying these tables would be a heavy move for one nullable column) and its index."""
    op.add_column(table, sa.Column('exhibition_id', sa.Integer(),
                                   sa.ForeignKey('exhibitions.id', name=f'fk_{table}_exhibition_id_exhibitions'),
                                   nullable=True),
                  inline_references=op.get_bind().dialect.name == "sqlite")
    op.create_index(f'ix_{table}_exhibition_id', table, ['exhibition_id'], unique=False)


def drop_lead_column(table):
    """Undo ``add_lead_column``."""
    op.drop_index(f'ix_{table}_exhibition_id', table_name=table)
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('exhibition_id')
        return
    op.drop_constraint(f'fk_{table}_exhibition_id_exhibitions', table, type_='foreignkey')
    op.drop_column(table, 'exhibition_id')


def upgrade():
    op.create_table('exhibitions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title_zh', sa.String(length=200), nullable=True),
    sa.Column('title_en', sa.String(length=300), nullable=True),
    sa.Column('description_zh', sa.Text(), nullable=True),
    sa.Column('description_en', sa.Text(), nullable=True),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('mode', sa.String(length=10), nullable=False),
    sa.Column('place', sa.String(length=300), nullable=True),
    sa.Column('online_url', sa.String(length=500), nullable=True),
    sa.Column('directions', sa.JSON(), nullable=False),
    sa.Column('registration_deadline', sa.DateTime(timezone=True), nullable=True),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('registered_attendees', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint(f"status IN ({EXHIBITION_STATUSES})", name=op.f('ck_exhibitions_status')),
    sa.CheckConstraint(f"mode IN ({EXHIBITION_MODES})", name=op.f('ck_exhibitions_mode')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_exhibitions_ends_after_start')),
    sa.CheckConstraint("mode = 'online' OR place IS NOT NULL", name=op.f('ck_exhibitions_place_required')),
    sa.CheckConstraint("mode = 'offline' OR online_url IS NOT NULL", name=op.f('ck_exhibitions_link_required')),
    sa.CheckConstraint('capacity IS NULL OR capacity >= 1', name=op.f('ck_exhibitions_capacity_positive')),
    sa.CheckConstraint('registered_attendees >= 0 AND (capacity IS NULL OR registered_attendees <= capacity)',
                       name=op.f('ck_exhibitions_within_capacity')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_exhibitions_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exhibitions'))
    )
    with op.batch_alter_table('exhibitions', schema=None) as batch_op:
        batch_op.create_index('ix_exhibitions_status_starts_at', ['status', 'starts_at'], unique=False)

    op.create_table('exhibition_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exhibition_id', sa.Integer(), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=True),
    sa.Column('demand_id', sa.Integer(), nullable=True),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('origin', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=True),
    sa.Column('slot_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('(listing_id IS NULL AND demand_id IS NOT NULL) OR '
                       '(listing_id IS NOT NULL AND demand_id IS NULL)',
                       name=op.f('ck_exhibition_entries_one_subject')),
    sa.CheckConstraint(f"origin IN ({ENTRY_ORIGINS})", name=op.f('ck_exhibition_entries_origin')),
    sa.CheckConstraint(f"status IN ({ENTRY_STATUSES})", name=op.f('ck_exhibition_entries_status')),
    sa.CheckConstraint('position IS NULL OR position >= 1', name=op.f('ck_exhibition_entries_position_positive')),
    sa.ForeignKeyConstraint(['exhibition_id'], ['exhibitions.id'],
                            name=op.f('fk_exhibition_entries_exhibition_id_exhibitions')),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_exhibition_entries_listing_id_listings')),
    sa.ForeignKeyConstraint(['demand_id'], ['demands.id'], name=op.f('fk_exhibition_entries_demand_id_demands')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'],
                            name=op.f('fk_exhibition_entries_institution_id_institutions')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_exhibition_entries_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exhibition_entries')),
    sa.UniqueConstraint('exhibition_id', 'listing_id', name='uq_exhibition_entries_exhibition_listing'),
    sa.UniqueConstraint('exhibition_id', 'demand_id', name='uq_exhibition_entries_exhibition_demand')
    )
    with op.batch_alter_table('exhibition_entries', schema=None) as batch_op:
        batch_op.create_index('ix_exhibition_entries_institution_status', ['institution_id', 'status'], unique=False)

    op.create_table('exhibition_registrations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exhibition_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('registered_by_id', sa.Integer(), nullable=False),
    sa.Column('attendees', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint(f"status IN ({REGISTRATION_STATUSES})", name=op.f('ck_exhibition_registrations_status')),
    sa.CheckConstraint('attendees BETWEEN 1 AND 20', name=op.f('ck_exhibition_registrations_attendees_range')),
    sa.ForeignKeyConstraint(['exhibition_id'], ['exhibitions.id'],
                            name=op.f('fk_exhibition_registrations_exhibition_id_exhibitions')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'],
                            name=op.f('fk_exhibition_registrations_institution_id_institutions')),
    sa.ForeignKeyConstraint(['registered_by_id'], ['users.id'],
                            name=op.f('fk_exhibition_registrations_registered_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exhibition_registrations')),
    sa.UniqueConstraint('exhibition_id', 'institution_id',
                        name='uq_exhibition_registrations_exhibition_institution')
    )
    with op.batch_alter_table('exhibition_registrations', schema=None) as batch_op:
        batch_op.create_index('ix_exhibition_registrations_institution', ['institution_id'], unique=False)

    for table in LEAD_TABLES:
        add_lead_column(table)


def downgrade():
    for table in reversed(LEAD_TABLES):
        drop_lead_column(table)
    with op.batch_alter_table('exhibition_registrations', schema=None) as batch_op:
        batch_op.drop_index('ix_exhibition_registrations_institution')
    op.drop_table('exhibition_registrations')
    with op.batch_alter_table('exhibition_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_exhibition_entries_institution_status')
    op.drop_table('exhibition_entries')
    with op.batch_alter_table('exhibitions', schema=None) as batch_op:
        batch_op.drop_index('ix_exhibitions_status_starts_at')
    op.drop_table('exhibitions')
