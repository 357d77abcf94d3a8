"""confidential attachments, versioned NDA texts, access requests and the download log

Revision ID: 0011_data_rooms
Revises: 0010_threads
Create Date: 2026-12-01 10:40:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0011_data_rooms"
down_revision = "0010_threads"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
