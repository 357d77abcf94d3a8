"""evaluation engagements and reports by professional institutions

Revision ID: 0015_evaluations
Revises: 0014_contracts
Create Date: 2026-12-01 13:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0015_evaluations"
down_revision = "0014_contracts"
branch_labels = None
depends_on = None

OPEN = "status IN ('requested', 'accepted')"
REPORT_COMPLETE = ("status <> 'reported' OR (maturity_grade IS NOT NULL AND innovation_grade IS NOT NULL "
                   "AND advancement_grade IS NOT NULL AND valuation_method IS NOT NULL AND report_number IS NOT NULL "
                   "AND issued_on IS NOT NULL AND report_storage_name IS NOT NULL)")


def upgrade():
    op.create_table('evaluation_engagements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('client_institution_id', sa.Integer(), nullable=False),
    sa.Column('evaluator_institution_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('responded_by_id', sa.Integer(), nullable=True),
    sa.Column('responded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_by_id', sa.Integer(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reported_by_id', sa.Integer(), nullable=True),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('maturity_grade', sa.Integer(), nullable=True),
    sa.Column('innovation_grade', sa.Integer(), nullable=True),
    sa.Column('advancement_grade', sa.Integer(), nullable=True),
    sa.Column('value_low', sa.BigInteger(), nullable=True),
    sa.Column('value_high', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('valuation_method', sa.String(length=16), nullable=True),
    sa.Column('report_number', sa.String(length=60), nullable=True),
    sa.Column('issued_on', sa.Date(), nullable=True),
    sa.Column('conclusion_zh', sa.Text(), nullable=True),
    sa.Column('conclusion_en', sa.Text(), nullable=True),
    sa.Column('report_filename', sa.String(length=200), nullable=True),
    sa.Column('report_storage_name', sa.String(length=64), nullable=True),
    sa.Column('report_content_type', sa.String(length=100), nullable=True),
    sa.Column('report_size', sa.Integer(), nullable=True),
    sa.Column('report_sha256', sa.String(length=64), nullable=True),
    sa.Column('attached', sa.Boolean(), nullable=False),
    sa.Column('attached_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attached_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("NOT attached OR status = 'reported'", name=op.f('ck_evaluation_engagements_attached_reported')),
    sa.CheckConstraint(REPORT_COMPLETE, name=op.f('ck_evaluation_engagements_report_complete')),
    sa.CheckConstraint("status IN ('requested', 'accepted', 'declined', 'cancelled', 'reported')", name=op.f('ck_evaluation_engagements_status')),
    sa.CheckConstraint("valuation_method IS NULL OR valuation_method IN ('cost', 'market', 'income', 'other')", name=op.f('ck_evaluation_engagements_valuation_method')),
    sa.CheckConstraint('(value_low IS NULL) = (value_high IS NULL)', name=op.f('ck_evaluation_engagements_value_both_or_none')),
    sa.CheckConstraint('advancement_grade IS NULL OR (advancement_grade BETWEEN 1 AND 7)', name=op.f('ck_evaluation_engagements_advancement_range')),
    sa.CheckConstraint('client_institution_id <> evaluator_institution_id', name=op.f('ck_evaluation_engagements_not_self')),
    sa.CheckConstraint('innovation_grade IS NULL OR (innovation_grade BETWEEN 1 AND 4)', name=op.f('ck_evaluation_engagements_innovation_range')),
    sa.CheckConstraint('maturity_grade IS NULL OR (maturity_grade BETWEEN 1 AND 9)', name=op.f('ck_evaluation_engagements_maturity_range')),
    sa.CheckConstraint('value_low IS NULL OR (value_low >= 0 AND value_low <= value_high)', name=op.f('ck_evaluation_engagements_value_range')),
    sa.ForeignKeyConstraint(['attached_by_id'], ['users.id'], name=op.f('fk_evaluation_engagements_attached_by_id_users')),
    sa.ForeignKeyConstraint(['cancelled_by_id'], ['users.id'], name=op.f('fk_evaluation_engagements_cancelled_by_id_users')),
    sa.ForeignKeyConstraint(['client_institution_id'], ['institutions.id'], name=op.f('fk_evaluation_engagements_client_institution_id_institutions')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_evaluation_engagements_created_by_id_users')),
    sa.ForeignKeyConstraint(['evaluator_institution_id'], ['institutions.id'], name=op.f('fk_evaluation_engagements_evaluator_institution_id_institutions')),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_evaluation_engagements_listing_id_listings')),
    sa.ForeignKeyConstraint(['reported_by_id'], ['users.id'], name=op.f('fk_evaluation_engagements_reported_by_id_users')),
    sa.ForeignKeyConstraint(['responded_by_id'], ['users.id'], name=op.f('fk_evaluation_engagements_responded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_engagements'))
    )
    op.create_index('ix_evaluation_engagements_client_status', 'evaluation_engagements', ['client_institution_id', 'status'], unique=False)
    op.create_index('ix_evaluation_engagements_evaluator_status', 'evaluation_engagements', ['evaluator_institution_id', 'status'], unique=False)
    op.create_index('ix_evaluation_engagements_listing', 'evaluation_engagements', ['listing_id'], unique=False)
    op.create_index('uq_evaluation_engagements_open', 'evaluation_engagements', ['listing_id', 'evaluator_institution_id'], unique=True, sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
    op.create_index('uq_evaluation_engagements_report_number', 'evaluation_engagements', ['evaluator_institution_id', 'report_number'], unique=True)


def downgrade():
    op.drop_index('uq_evaluation_engagements_report_number', table_name='evaluation_engagements')
    op.drop_index('uq_evaluation_engagements_open', table_name='evaluation_engagements')
    op.drop_index('ix_evaluation_engagements_listing', table_name='evaluation_engagements')
    op.drop_index('ix_evaluation_engagements_evaluator_status', table_name='evaluation_engagements')
    op.drop_index('ix_evaluation_engagements_client_status', table_name='evaluation_engagements')
    op.drop_table('evaluation_engagements')
