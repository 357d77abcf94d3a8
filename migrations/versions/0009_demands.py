"""demand postings (技术需求) with their revisions and review

Revision ID: 0009_demands
Revises: 0008_inbox
Create Date: 2026-12-01 10:40:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0009_demands"
down_revision = "0008_inbox"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
