"""match feedback: an owner's star or dismissal of a proposed demand–listing match

Revision ID: 0012_matching
Revises: 0011_data_rooms
Create Date: 2026-12-01 11:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0012_matching"
down_revision = "0011_data_rooms"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('match_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('demand_id', sa.Integer(), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('side', sa.String(length=10), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('verdict', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("side IN ('demand', 'listing')", name=op.f('ck_match_feedback_side')),
    sa.CheckConstraint("verdict IN ('star', 'dismiss')", name=op.f('ck_match_feedback_verdict')),
    sa.ForeignKeyConstraint(['demand_id'], ['demands.id'], name=op.f('fk_match_feedback_demand_id_demands')),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_match_feedback_listing_id_listings')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'],
                            name=op.f('fk_match_feedback_institution_id_institutions')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_match_feedback_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_feedback')),
    sa.UniqueConstraint('demand_id', 'listing_id', 'side', name='uq_match_feedback_pair_side')
    )
    with op.batch_alter_table('match_feedback', schema=None) as batch_op:
        batch_op.create_index('ix_match_feedback_institution', ['institution_id', 'side'], unique=False)


def downgrade():
    with op.batch_alter_table('match_feedback', schema=None) as batch_op:
        batch_op.drop_index('ix_match_feedback_institution')
    op.drop_table('match_feedback')
