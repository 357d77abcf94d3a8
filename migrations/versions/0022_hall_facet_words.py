"""the hall's filter values as words of SQLite's full-text index: hall_text.facet_tokens, a sixth column of hall_fts

On SQLite a search with text and filters becomes one FTS5 match (hall.search.facet_terms): the filter values' doclists
are intersected with the text's inside the index, instead of joining each match to its hall_index row. The column
is filled here from hall_index (the words as facet_terms.entry_terms makes them at this revision, padded to the
same number in every row) and hall_fts is made again with it (its rebuild reads hall_text). PostgreSQL gets the column, empty: it does not use it.

Revision ID: 0022_hall_facet_words
Revises: 0021_hall_sort_indexes
Create Date: 2026-12-02 08:00:00
"""
import importlib.util
import re
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0022_hall_facet_words"
down_revision = "0021_hall_sort_indexes"
branch_labels = None
depends_on = None

_spec = importlib.util.spec_from_file_location("migration_0019", Path(__file__).with_name("0019_search_text.py"))
_0019 = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_0019)

COLUMNS = _0019.COLUMNS + ("facet_tokens",)
DEAL_MODES = ("transfer", "exclusive_license", "sole_license", "non_exclusive_license", "equity", "joint_development",
              "technical_service", "purchase")  # their bits in deal_modes_mask
FACET_COLUMNS = ("kind", "direction_code", "field_code", "trl", "price_mode", "product_kind", "recognition_level")
SLOTS = 13 + len(DEAL_MODES)  # the words of a row, with the filler word φ


def _term(name, value_sql=None, value=None):
    """SQL for ' φname φvalue' (facet_terms.facet_term) of a column's value or of a constant."""
    def encode(part):
        return re.sub("[^a-z0-9]", lambda m: f"φ{ord(m.group()):x}", part.lower())
    head = f"' φ{encode(name)}φ"
    if value is not None:
        return f"{head}{encode(value)}'"
    # the vocabularies' values hold a–z, 0–9, '.' and '_' only
    return f"{head}' || replace(replace(lower({value_sql}), '.', 'φ2e'), '_', 'φ5f')"


def _fill_sql():
    present = "{0} IS NOT NULL AND CAST({0} AS TEXT) <> ''"
    parts = [f"CASE WHEN {present.format(column)} THEN {_term(column, f'CAST({column} AS TEXT)')} ELSE '' END"
             for column in FACET_COLUMNS]
    parts.append(f"CASE WHEN state_funded THEN {_term('state_funded', value='true')} "
                 f"ELSE {_term('state_funded', value='false')} END")
    parts.append(f"CASE WHEN region_code <> '' THEN {_term('province', 'substr(region_code, 1, 2)')} ELSE '' END")
    parts += [f"CASE WHEN (deal_modes_mask & {1 << i}) <> 0 THEN {_term('deal_mode', value=mode)} ELSE '' END"
              for i, mode in enumerate(DEAL_MODES)]
    parts.append(f"CASE WHEN length(region_code) >= 4 THEN {_term('city', 'substr(region_code, 1, 4)')} ELSE '' END")
    parts.append(f"CASE WHEN length(region_code) = 6 THEN {_term('county', 'region_code')} ELSE '' END")
    parts.append(_term("currency", "currency"))
    parts.append(_term("institution", "CAST(institution_id AS TEXT)"))
    words = f"ltrim({' || '.join(parts)}, ' ')"
    # padded with the filler word φ to SLOTS words (each word is followed by one space but the last)
    padding = f"substr('{' φ' * SLOTS}', 1, 2 * ({SLOTS} - 1 - (length(w) - length(replace(w, ' ', '')))))"
    return (f"UPDATE hall_text SET facet_tokens = (SELECT w || {padding} FROM (SELECT {words} AS w FROM hall_index "
            "WHERE hall_index.listing_id = hall_text.listing_id) AS words)")


def _drop_fts():
    for trigger in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS hall_text_fts_{trigger}")
    op.execute("DROP TABLE IF EXISTS hall_fts")


def upgrade():
    op.add_column("hall_text", sa.Column("facet_tokens", sa.Text(), nullable=False, server_default=sa.text("''")))
    if op.get_bind().dialect.name != "sqlite":
        return
    _drop_fts()  # first: the fill would otherwise run the update trigger for every row
    op.execute(_fill_sql())
    for statement in _0019._fts5_statements("hall_text", COLUMNS, "listing_id"):
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        _drop_fts()
        op.execute("ALTER TABLE hall_text DROP COLUMN facet_tokens")
        for statement in _0019._fts5_statements("hall_text", _0019.COLUMNS, "listing_id"):
            op.execute(statement)
    else:
        op.drop_column("hall_text", "facet_tokens")
