"""the hall's facet counts, kept: hall_facet_counts, written in the same transaction as hall_index

For the whole hall (scope '', '') and for each facet value as a scope: how many listings fall under each value of
each facet, and the scope's total (facet '', value ''). Filled here from hall_index as it is; afterwards the
application keeps it (hall.search.facet_counts), and `flask hall rebuild-facets` counts it again.

Revision ID: 0020_hall_facet_counts
Revises: 0019_search_text
Create Date: 2026-12-02 01:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0020_hall_facet_counts"
down_revision = "0019_search_text"
branch_labels = None
depends_on = None

DEAL_MODES = ("transfer", "exclusive_license", "sole_license", "non_exclusive_license", "equity", "joint_development",
              "technical_service", "purchase")
# each facet as SQL over hall_index: its value as text, NULL where the listing has none (a deal mode per bit)
FACETS = [(name, f"NULLIF(CAST({name} AS VARCHAR), '')") for name in (
    "kind", "direction_code", "field_code", "trl", "price_mode", "product_kind", "recognition_level")]
FACETS += [("state_funded", "CASE WHEN state_funded THEN 'true' ELSE 'false' END"),
           ("province", "NULLIF(substr(region_code, 1, 2), '')")]
FACETS += [("deal_mode", f"CASE WHEN (deal_modes_mask & {1 << i}) <> 0 THEN '{mode}' END")
           for i, mode in enumerate(DEAL_MODES)]
INSERT = "INSERT INTO hall_facet_counts (scope_facet, scope_value, facet, value, listings) "


def upgrade():
    op.create_table(
        "hall_facet_counts",
        sa.Column("scope_facet", sa.String(length=24), nullable=False),
        sa.Column("scope_value", sa.String(length=60), nullable=False),
        sa.Column("facet", sa.String(length=24), nullable=False),
        sa.Column("value", sa.String(length=60), nullable=False),
        sa.Column("listings", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("scope_facet", "scope_value", "facet", "value", name=op.f("pk_hall_facet_counts")),
    )
    whole = ["SELECT '', '', '', '', count(*) FROM hall_index HAVING count(*) > 0"]
    whole += [f"SELECT '', '', '{name}', {value}, count(*) FROM hall_index WHERE {value} IS NOT NULL GROUP BY {value}"
              for name, value in FACETS]
    op.execute(INSERT + " UNION ALL ".join(whole))
    for scope_name, scope in FACETS:
        branches = [f"SELECT '{scope_name}', {scope}, '', '', count(*) FROM hall_index WHERE {scope} IS NOT NULL "
                    f"GROUP BY {scope}"]
        branches += [f"SELECT '{scope_name}', {scope}, '{name}', {value}, count(*) FROM hall_index "
                     f"WHERE {scope} IS NOT NULL AND {value} IS NOT NULL GROUP BY {scope}, {value}"
                     for name, value in FACETS]
        op.execute(INSERT + " UNION ALL ".join(branches))


def downgrade():
    op.drop_table("hall_facet_counts")
