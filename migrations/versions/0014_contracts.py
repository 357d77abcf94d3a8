"""technical-contract registration records of completed orders

Revision ID: 0014_contracts
Revises: 0013_insurance
Create Date: 2026-12-01 13:20:00

Records of orders completed before this revision are made by ``flask hall backfill-contract-records`` (and lazily
when an institution lists its contracts), not by a data step here: they are built by the same service as new ones.
"""
import sqlalchemy as sa
from alembic import op

revision = "0014_contracts"
down_revision = "0013_insurance"
branch_labels = None
depends_on = None

CATEGORIES = "'technology', 'sales'"
CONTRACT_TYPES = "'development', 'transfer', 'license', 'consulting', 'service'"


def upgrade():
    op.create_table('contract_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('listing_version_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('contract_type', sa.String(length=16), nullable=True),
    sa.Column('deal_mode', sa.String(length=32), nullable=False),
    sa.Column('contract_number', sa.String(length=40), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=True),
    sa.Column('name_en', sa.String(length=300), nullable=True),
    sa.Column('seller_institution_id', sa.Integer(), nullable=False),
    sa.Column('seller_name_zh', sa.String(length=200), nullable=False),
    sa.Column('seller_name_en', sa.String(length=300), nullable=True),
    sa.Column('seller_credit_code', sa.String(length=18), nullable=False),
    sa.Column('buyer_institution_id', sa.Integer(), nullable=False),
    sa.Column('buyer_name_zh', sa.String(length=200), nullable=False),
    sa.Column('buyer_name_en', sa.String(length=300), nullable=True),
    sa.Column('buyer_credit_code', sa.String(length=18), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('technology_amount', sa.BigInteger(), nullable=True),
    sa.Column('technology_amount_reason', sa.Text(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=False),
    sa.Column('performance_start', sa.Date(), nullable=True),
    sa.Column('performance_end', sa.Date(), nullable=True),
    sa.Column('completed_on', sa.Date(), nullable=False),
    sa.Column('direction_code', sa.String(length=40), nullable=True),
    sa.Column('field_code', sa.String(length=60), nullable=True),
    sa.Column('ip_types', sa.JSON(), nullable=False),
    sa.Column('state_funded', sa.Boolean(), nullable=False),
    sa.Column('registration_number', sa.String(length=60), nullable=True),
    sa.Column('registered_on', sa.Date(), nullable=True),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint(f"category IN ({CATEGORIES})", name=op.f('ck_contract_records_category')),
    sa.CheckConstraint(f"contract_type IS NULL OR contract_type IN ({CONTRACT_TYPES})",
                       name=op.f('ck_contract_records_contract_type')),
    sa.CheckConstraint("(category = 'technology') = (contract_type IS NOT NULL)",
                       name=op.f('ck_contract_records_type_of_category')),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_contract_records_amount_not_negative')),
    sa.CheckConstraint('technology_amount IS NULL OR (technology_amount >= 0 AND technology_amount <= amount)',
                       name=op.f('ck_contract_records_technology_amount_range')),
    sa.CheckConstraint('performance_start IS NULL OR performance_end IS NULL OR performance_start <= performance_end',
                       name=op.f('ck_contract_records_performance_window')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_contract_records_order_id_orders')),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_contract_records_listing_id_listings')),
    sa.ForeignKeyConstraint(['listing_version_id'], ['listing_versions.id'],
                            name=op.f('fk_contract_records_listing_version_id_listing_versions')),
    sa.ForeignKeyConstraint(['seller_institution_id'], ['institutions.id'],
                            name=op.f('fk_contract_records_seller_institution_id_institutions')),
    sa.ForeignKeyConstraint(['buyer_institution_id'], ['institutions.id'],
                            name=op.f('fk_contract_records_buyer_institution_id_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_records')),
    sa.UniqueConstraint('order_id', name=op.f('uq_contract_records_order_id')),
    sa.UniqueConstraint('contract_number', name=op.f('uq_contract_records_contract_number'))
    )
    with op.batch_alter_table('contract_records', schema=None) as batch_op:
        batch_op.create_index('ix_contract_records_seller_completed', ['seller_institution_id', 'completed_on'],
                              unique=False)
        batch_op.create_index('ix_contract_records_buyer_completed', ['buyer_institution_id', 'completed_on'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('contract_records', schema=None) as batch_op:
        batch_op.drop_index('ix_contract_records_buyer_completed')
        batch_op.drop_index('ix_contract_records_seller_completed')
    op.drop_table('contract_records')
