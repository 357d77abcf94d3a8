"""Full-text search over the public demand hall: the listing hall's two backends (SQLite FTS5 ``demand_fts``,
PostgreSQL ``demand_index.search_vector``) over the same pre-segmented tokens (``tokenizer``).

``index_demand`` and ``unindex_demand`` run in the caller's transaction, so the index always agrees with what is
published. The matching service reads the same index (``demand_text_condition``, ``ranked_demands``).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnClause, ColumnElement, delete, func, literal_column, select, table

from hall.extensions import db
from hall.models import Demand, DemandIndexEntry, DemandIndexField
from hall.models.listings import LANGUAGES, deal_modes_mask
from hall.search import Mode, fts5_query, is_postgresql, tsquery
from hall.search.tokenizer import index_tokens

__all__ = ["count_demand_text_matches", "demand_text_condition", "demand_tokens", "index_demand", "ranked_demands",
           "unindex_demand"]

TITLE_WEIGHT, BODY_WEIGHT = 10.0, 1.0  # bm25 column weights on SQLite; PostgreSQL weighs A (title) over B


def demand_tokens(demand: Demand) -> tuple[str, str]:
    """The demand's title tokens (titles and keywords) and body tokens (descriptions), as the index stores them."""
    titles = [demand.text("title", lang) for lang in LANGUAGES]
    body = [demand.text("description", lang) for lang in LANGUAGES]
    return index_tokens(*titles, *(demand.keywords or [])), index_tokens(*body)


def index_demand(demand: Demand) -> DemandIndexEntry:
    """Put the demand's published content into the demand index (insert or replace), in this transaction."""
    assert demand.published_at is not None
    title_tokens, body_tokens = demand_tokens(demand)
    values = dict(
        institution_id=demand.institution_id, direction_code=demand.direction_code, region_code=demand.region_code,
        trl_min=demand.trl_min, trl_max=demand.trl_max, deal_modes_mask=deal_modes_mask(demand.deal_modes or []),
        budget_min=demand.budget_min, budget_max=demand.budget_max, currency=demand.currency,
        budget_negotiable=demand.budget_negotiable, bounty_amount=demand.bounty_amount, deadline=demand.deadline,
        published_at=demand.published_at, title_tokens=title_tokens, body_tokens=body_tokens,
    )
    entry = db.session.get(DemandIndexEntry, demand.id)
    if entry is None:
        entry = DemandIndexEntry(demand_id=demand.id, **values)
        db.session.add(entry)
    else:
        for key, value in values.items():
            setattr(entry, key, value)
    db.session.execute(delete(DemandIndexField).where(DemandIndexField.demand_id == demand.id))
    db.session.flush()
    for code in sorted(set(demand.field_codes or [])):
        db.session.add(DemandIndexField(demand_id=demand.id, field_code=code))
    db.session.flush()
    return entry


def unindex_demand(demand: Demand) -> None:
    """Take the demand out of the demand index, in this transaction."""
    db.session.execute(delete(DemandIndexField).where(DemandIndexField.demand_id == demand.id))
    db.session.execute(delete(DemandIndexEntry).where(DemandIndexEntry.demand_id == demand.id))


def demand_text_condition(terms: list[str], mode: Mode = "all") -> Any:
    """A condition on ``demand_index`` rows: their text matches ``terms`` (answered by the full-text index)."""
    if is_postgresql():
        return literal_column("demand_index.search_vector").op("@@")(tsquery(terms, mode))
    return DemandIndexEntry.demand_id.in_(
        select(literal_column("rowid")).select_from(table("demand_fts"))
        .where(literal_column("demand_fts").op("MATCH")(fts5_query(terms, mode))))


def count_demand_text_matches(terms: list[str], mode: Mode = "all") -> int:
    """How many indexed demands match ``terms``."""
    return db.session.scalar(select(func.count()).select_from(DemandIndexEntry)
                             .where(demand_text_condition(terms, mode))) or 0


def ranked_demands(terms: list[str], mode: Mode, conditions: list[Any], limit: int,
                   offset: int) -> list[tuple[int, float]]:
    """(demand_id, score) of the best matches that also meet ``conditions``; a higher score is better."""
    d = DemandIndexEntry
    if is_postgresql():
        score: ColumnElement[Any] = func.ts_rank(literal_column("demand_index.search_vector"),
                                                 tsquery(terms, mode)).label("score")
        query = select(d.demand_id, score).where(demand_text_condition(terms, mode), *conditions)
        tie_break = d.demand_id.desc()
    else:
        rowid: ColumnClause[Any] = literal_column("demand_fts.rowid")
        matches = (select(rowid.label("demand_id"),
                          (-func.bm25(literal_column("demand_fts"), TITLE_WEIGHT, BODY_WEIGHT)).label("score"))
                   .select_from(table("demand_fts"))
                   .where(literal_column("demand_fts").op("MATCH")(fts5_query(terms, mode)))).subquery("matches")
        score, tie_break = matches.c.score, matches.c.demand_id.desc()
        query = select(matches.c.demand_id, score).join(d, d.demand_id == matches.c.demand_id).where(*conditions)
    rows = db.session.execute(query.order_by(score.desc(), tie_break).limit(limit).offset(offset)).all()
    return [(int(demand_id), float(value)) for demand_id, value in rows]
