"""the hall's filter values as words of SQLite's full-text index: hall_text.facet_tokens, a sixth column of hall_fts

On SQLite a search with text and filters becomes one FTS5 match (hall.search.facet_terms): the filter values'
doclists are intersected with the text's inside the index, instead of joining each match to its hall_index row.
The column is filled here from hall_index (the words as facet_terms.entry_terms makes them at this revision, padded
to the same number in every row; in Python, in batches) and hall_fts is made again with it (its rebuild reads
hall_text). PostgreSQL gets the column, empty: it does not use it.

Revision ID: 0022_hall_facet_words
Revises: 0021_hall_sort_indexes
Create Date: 2026-12-02 08:00:00
"""
import functools
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


@functools.lru_cache(maxsize=None)  # few distinct values, a million rows
def _encode(part):
    return re.sub("[^a-z0-9]", lambda m: f"φ{ord(m.group()):x}", part)


def _words(row):
    """facet_tokens of one hall_index row, as facet_terms.entry_terms makes them at this revision."""
    keys = [(column, str(row[column])) for column in FACET_COLUMNS if row[column] is not None and str(row[column])]
    keys.append(("state_funded", "true" if row["state_funded"] else "false"))
    region = row["region_code"] or ""
    if region:
        keys.append(("province", region[:2]))
    keys += [("deal_mode", mode) for i, mode in enumerate(DEAL_MODES) if (row["deal_modes_mask"] or 0) & (1 << i)]
    if len(region) >= 4:
        keys.append(("city", region[:4]))
    if len(region) == 6:
        keys.append(("county", region))
    keys += [("currency", row["currency"] or ""), ("institution", str(row["institution_id"]))]
    words = [f"φ{_encode(name)}φ{_encode(value)}" for name, value in keys]
    return " ".join(words + ["φ"] * (SLOTS - len(words)))


def _fill(batch=5000):
    """Every hall_text row's words from its hall_index row, in batches of ``batch`` listings."""
    bind = op.get_bind()
    columns = ", ".join(("listing_id", "region_code", "deal_modes_mask", "state_funded", "currency",
                         "institution_id", *FACET_COLUMNS))
    update = sa.text("UPDATE hall_text SET facet_tokens = :words WHERE listing_id = :listing_id")
    last = -1
    while True:
        rows = bind.execute(sa.text(f"SELECT {columns} FROM hall_index WHERE listing_id > :last "
                                    "ORDER BY listing_id LIMIT :batch"), {"last": last, "batch": batch}).mappings().all()
        if not rows:
            return
        bind.execute(update, [{"words": _words(row), "listing_id": row["listing_id"]} for row in rows])
        last = rows[-1]["listing_id"]


def _drop_fts():
    for trigger in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS hall_text_fts_{trigger}")
    op.execute("DROP TABLE IF EXISTS hall_fts")


def upgrade():
    op.add_column("hall_text", sa.Column("facet_tokens", sa.Text(), nullable=False, server_default=sa.text("''")))
    if op.get_bind().dialect.name != "sqlite":
        return
    _drop_fts()  # first: the fill would otherwise run the update trigger for every row
    _fill()
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
