"""enquiry threads between two institutions and their messages

Revision ID: 0010_threads
Revises: 0009_demands
Create Date: 2026-12-01 10:40:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0010_threads"
down_revision = "0009_demands"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
