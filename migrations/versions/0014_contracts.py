"""technical-contract registration records of completed orders

Revision ID: 0014_contracts
Revises: 0013_insurance
Create Date: 2026-12-01 13:20:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0014_contracts"
down_revision = "0013_insurance"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
