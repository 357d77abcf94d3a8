"""demand postings (技术需求) with their revisions and review

Revision ID: 0009_demands
Revises: 0008_inbox
Create Date: 2026-12-01 10:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0009_demands"
down_revision = "0008_inbox"
branch_labels = None
depends_on = None

DEMAND_STATUSES = ("'draft', 'submitted', 'changes_requested', 'published', 'rejected', 'withdrawn', 'suspended', "
                   "'closed', 'expired'")
REVISION_STATUSES = "'draft', 'submitted', 'changes_requested', 'approved', 'rejected', 'withdrawn'"
TSVECTOR = ("setweight(to_tsvector('simple', title_tokens), 'A') || "
            "setweight(to_tsvector('simple', body_tokens), 'B')")


def create_full_text_index():
    """SQLite: an FTS5 index over demand_index kept by triggers. PostgreSQL: a weighted tsvector column with GIN."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE demand_index ADD COLUMN search_vector tsvector "
                   f"GENERATED ALWAYS AS ({TSVECTOR}) STORED")
        op.execute("CREATE INDEX ix_demand_index_search_vector ON demand_index USING GIN (search_vector)")
        return
    op.execute("CREATE VIRTUAL TABLE demand_fts USING fts5(title_tokens, body_tokens, content='demand_index', "
               "content_rowid='demand_id', tokenize='unicode61 remove_diacritics 2')")
    insert = ("INSERT INTO demand_fts(rowid, title_tokens, body_tokens) "
              "VALUES (new.demand_id, new.title_tokens, new.body_tokens);")
    delete = ("INSERT INTO demand_fts(demand_fts, rowid, title_tokens, body_tokens) "
              "VALUES ('delete', old.demand_id, old.title_tokens, old.body_tokens);")
    op.execute(f"CREATE TRIGGER demand_index_fts_insert AFTER INSERT ON demand_index BEGIN {insert} END")
    op.execute(f"CREATE TRIGGER demand_index_fts_delete AFTER DELETE ON demand_index BEGIN {delete} END")
    op.execute(f"CREATE TRIGGER demand_index_fts_update AFTER UPDATE ON demand_index BEGIN {delete} {insert} END")


def drop_full_text_index():
    """Undo ``create_full_text_index``."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_demand_index_search_vector")
        op.execute("ALTER TABLE demand_index DROP COLUMN IF EXISTS search_vector")
        return
    for trigger in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS demand_index_fts_{trigger}")
    op.execute("DROP TABLE IF EXISTS demand_fts")


def upgrade():
    op.create_table('demands',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('title_zh', sa.String(length=200), nullable=True),
    sa.Column('title_en', sa.String(length=300), nullable=True),
    sa.Column('description_zh', sa.Text(), nullable=True),
    sa.Column('description_en', sa.Text(), nullable=True),
    sa.Column('keywords', sa.JSON(), nullable=False),
    sa.Column('direction_code', sa.String(length=40), nullable=True),
    sa.Column('field_codes', sa.JSON(), nullable=False),
    sa.Column('trl_min', sa.Integer(), nullable=True),
    sa.Column('trl_max', sa.Integer(), nullable=True),
    sa.Column('budget_min', sa.BigInteger(), nullable=True),
    sa.Column('budget_max', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('budget_negotiable', sa.Boolean(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('region_code', sa.String(length=6), nullable=True),
    sa.Column('deal_modes', sa.JSON(), nullable=False),
    sa.Column('bounty_amount', sa.BigInteger(), nullable=True),
    sa.Column('revision', sa.JSON(), nullable=True),
    sa.Column('revision_status', sa.String(length=20), nullable=True),
    sa.Column('revision_reason', sa.Text(), nullable=True),
    sa.Column('revision_submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint(f"status IN ({DEMAND_STATUSES})", name=op.f('ck_demands_status')),
    sa.CheckConstraint(f"revision_status IS NULL OR revision_status IN ({REVISION_STATUSES})",
                       name=op.f('ck_demands_revision_status')),
    sa.CheckConstraint('trl_min IS NULL OR (trl_min BETWEEN 1 AND 9)', name=op.f('ck_demands_trl_min_range')),
    sa.CheckConstraint('trl_max IS NULL OR (trl_max BETWEEN 1 AND 9)', name=op.f('ck_demands_trl_max_range')),
    sa.CheckConstraint('trl_min IS NULL OR trl_max IS NULL OR trl_min <= trl_max', name=op.f('ck_demands_trl_window')),
    sa.CheckConstraint('budget_min IS NULL OR budget_min >= 0', name=op.f('ck_demands_budget_min_not_negative')),
    sa.CheckConstraint('budget_max IS NULL OR budget_max >= 0', name=op.f('ck_demands_budget_max_not_negative')),
    sa.CheckConstraint('budget_min IS NULL OR budget_max IS NULL OR budget_min <= budget_max',
                       name=op.f('ck_demands_budget_range')),
    sa.CheckConstraint('bounty_amount IS NULL OR bounty_amount >= 0', name=op.f('ck_demands_bounty_not_negative')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_demands_created_by_id_users')),
    sa.ForeignKeyConstraint(['direction_code'], ['industry_directions.code'],
                            name=op.f('fk_demands_direction_code_industry_directions')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_demands_institution_id_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_demands'))
    )
    with op.batch_alter_table('demands', schema=None) as batch_op:
        batch_op.create_index('ix_demands_institution_status', ['institution_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_demands_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_demands_deadline'), ['deadline'], unique=False)

    op.create_table('demand_index',
    sa.Column('demand_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('direction_code', sa.String(length=40), nullable=True),
    sa.Column('region_code', sa.String(length=6), nullable=True),
    sa.Column('trl_min', sa.Integer(), nullable=True),
    sa.Column('trl_max', sa.Integer(), nullable=True),
    sa.Column('deal_modes_mask', sa.Integer(), nullable=False),
    sa.Column('budget_min', sa.BigInteger(), nullable=True),
    sa.Column('budget_max', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('budget_negotiable', sa.Boolean(), nullable=False),
    sa.Column('bounty_amount', sa.BigInteger(), nullable=True),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('title_tokens', sa.Text(), nullable=False),
    sa.Column('body_tokens', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['demand_id'], ['demands.id'], name=op.f('fk_demand_index_demand_id_demands')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'],
                            name=op.f('fk_demand_index_institution_id_institutions')),
    sa.PrimaryKeyConstraint('demand_id', name=op.f('pk_demand_index'))
    )
    with op.batch_alter_table('demand_index', schema=None) as batch_op:
        batch_op.create_index('ix_demand_index_direction', ['direction_code'], unique=False)
        batch_op.create_index('ix_demand_index_published_at', ['published_at'], unique=False)
        batch_op.create_index('ix_demand_index_deadline', ['deadline'], unique=False)
        batch_op.create_index('ix_demand_index_institution', ['institution_id'], unique=False)

    op.create_table('demand_index_fields',
    sa.Column('demand_id', sa.Integer(), nullable=False),
    sa.Column('field_code', sa.String(length=60), nullable=False),
    sa.ForeignKeyConstraint(['demand_id'], ['demand_index.demand_id'],
                            name=op.f('fk_demand_index_fields_demand_id_demand_index'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('demand_id', 'field_code', name=op.f('pk_demand_index_fields'))
    )
    with op.batch_alter_table('demand_index_fields', schema=None) as batch_op:
        batch_op.create_index('ix_demand_index_fields_field_code', ['field_code'], unique=False)
    create_full_text_index()


def downgrade():
    drop_full_text_index()
    with op.batch_alter_table('demand_index_fields', schema=None) as batch_op:
        batch_op.drop_index('ix_demand_index_fields_field_code')
    op.drop_table('demand_index_fields')
    with op.batch_alter_table('demand_index', schema=None) as batch_op:
        batch_op.drop_index('ix_demand_index_institution')
        batch_op.drop_index('ix_demand_index_deadline')
        batch_op.drop_index('ix_demand_index_published_at')
        batch_op.drop_index('ix_demand_index_direction')
    op.drop_table('demand_index')
    with op.batch_alter_table('demands', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_demands_deadline'))
        batch_op.drop_index(batch_op.f('ix_demands_status'))
        batch_op.drop_index('ix_demands_institution_status')
    op.drop_table('demands')
