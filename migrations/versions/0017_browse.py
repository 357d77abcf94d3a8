"""the hall index's version counter (hall_state), for cheap ETags and cached search results

Revision ID: 0017_browse
Revises: 0016_exhibitions
Create Date: 2026-12-01 14:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0017_browse"
down_revision = "0016_exhibitions"
branch_labels = None
depends_on = None


def upgrade():
    # No row here: the row (with its random token) is made by the first change to the hall index, so databases
    # cloned from one migrated template never share a token.
    op.create_table(
        "hall_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hall_state")),
    )


def downgrade():
    op.drop_table("hall_state")
