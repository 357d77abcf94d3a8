"""docking exhibitions, their entries, registrations and leads

Revision ID: 0016_exhibitions
Revises: 0015_evaluations
Create Date: 2026-12-01 13:20:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0016_exhibitions"
down_revision = "0015_evaluations"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
