"""notifications: an in-app inbox per person, mail preferences per event group

Revision ID: 0008_inbox
Revises: 0007_card_method
Create Date: 2026-12-01 10:40:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0008_inbox"
down_revision = "0007_card_method"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
