"""evaluation engagements and reports by professional institutions

Revision ID: 0015_evaluations
Revises: 0014_contracts
Create Date: 2026-12-01 13:20:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0015_evaluations"
down_revision = "0014_contracts"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
