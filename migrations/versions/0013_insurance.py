"""first-of-kind insurance policies and premium compensation applications

Revision ID: 0013_insurance
Revises: 0012_matching
Create Date: 2026-12-01 13:20:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0013_insurance"
down_revision = "0012_matching"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
