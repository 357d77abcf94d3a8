"""indexes in the hall's price orders: (price_amount IS NULL, price_amount ASC|DESC, published_at DESC)

The hall sorts by price with listings without a price last and the newest first among equal prices. These two
expression indexes hold exactly that order, so a page sorted by price walks an index instead of sorting every
listing that meets the filter (hall.services.publishing.hall; made by hand, the models do not describe them:
hall.db.HAND_MADE_SEARCH_OBJECTS).

Revision ID: 0021_hall_sort_indexes
Revises: 0020_hall_facet_counts
Create Date: 2026-12-02 05:00:00
"""
from alembic import op

revision = "0021_hall_sort_indexes"
down_revision = "0020_hall_facet_counts"
branch_labels = None
depends_on = None

INDEXES = {"ix_hall_index_price_asc": "(price_amount IS NULL), price_amount, published_at DESC",
           "ix_hall_index_price_desc": "(price_amount IS NULL), price_amount DESC, published_at DESC"}


def upgrade():
    for name, columns in INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON hall_index ({columns})")


def downgrade():
    for name in INDEXES:
        op.execute(f"DROP INDEX {name}")
