"""The hall's facet counts, kept (issue 14): ``hall_facet_counts`` holds, for the whole hall and for each facet
value taken as a scope, how many listings of ``hall_index`` fall under each value of each facet.

``index_listing`` and ``unindex_listing`` note how one listing's values change (``note_change``). Right before the
commit, after the hall's version is raised, the net changes are added to the rows in key order, the same order in
every transaction, so two publishing transactions never wait on each other crosswise, and the rows stay locked for
the commit alone. A rollback forgets them. The hall index is written in the outer transaction only: a savepoint
that rolled back would leave its changes noted here.

The pages without text and with at most one facet filter (the browse, a direction's or a kind's page, the home
page's tiles) read their total and facets from these rows (``maintained_facets``) instead of counting listings.
``rebuild_facet_counts`` counts them again from ``hall_index`` (``flask hall rebuild-facets``, after a bulk load).
"""
from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import ColumnElement, String, case, cast, delete, event, func, insert, literal_column, select, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hall.extensions import db
from hall.models import HallFacetCount, HallIndexEntry
from hall.models.listings import DEAL_MODES

FACETS = ("kind", "direction_code", "field_code", "trl", "price_mode", "product_kind", "recognition_level",
          "state_funded", "province", "deal_mode")
_COLUMNS = FACETS[:-3]  # the facets that are a column of hall_index as they are

Key = tuple[str, str]
TOTAL: Key = ("", "")  # as a scope: the whole hall; as a facet value: every listing of the scope
_PENDING = "hall_facet_changes"
_ROWS_PER_STATEMENT = 2000  # 5 parameters a row: well under SQLite's 32,766


def entry_facets(entry: HallIndexEntry) -> list[Key]:
    """The (facet, value) pairs an index entry is counted under, ``TOTAL`` first."""
    keys = [TOTAL]
    for name in _COLUMNS:
        value = getattr(entry, name)
        if value is not None and str(value):
            keys.append((name, str(value)))
    keys.append(("state_funded", "true" if entry.state_funded else "false"))
    if entry.region_code and entry.region_code[:2]:
        keys.append(("province", entry.region_code[:2]))
    mask = entry.deal_modes_mask or 0
    keys += [("deal_mode", mode) for i, mode in enumerate(DEAL_MODES) if mask & (1 << i)]
    return keys


def note_change(before: list[Key] | None, after: list[Key] | None) -> None:
    """Note, in this transaction, that a listing counted under ``before`` (None: it was not in the index) is now
    counted under ``after`` (None: it left the index); the commit adds the difference to the counts."""
    if db.session().in_nested_transaction():
        raise RuntimeError("the hall index is written in the outer transaction only: a savepoint that rolled back "
                           "would leave its facet counts changed")
    pending: Counter[tuple[str, str, str, str]] = db.session.info.setdefault(_PENDING, Counter())
    for keys, sign in ((before, -1), (after, 1)):
        for scope in keys or ():  # TOTAL as the scope is the whole hall
            for key in keys or ():
                pending[scope + key] += sign


def write_pending(session: Session) -> None:
    """Add this transaction's noted changes to the counts (called right before its commit)."""
    pending: Counter[tuple[str, str, str, str]] | None = session.info.pop(_PENDING, None)
    rows = [{"scope_facet": k[0], "scope_value": k[1], "facet": k[2], "value": k[3], "listings": n}
            for k, n in sorted((pending or {}).items()) if n]
    if not rows:
        return
    dialect_insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    for start in range(0, len(rows), _ROWS_PER_STATEMENT):
        statement = dialect_insert(HallFacetCount).values(rows[start:start + _ROWS_PER_STATEMENT])
        session.execute(statement.on_conflict_do_update(
            index_elements=["scope_facet", "scope_value", "facet", "value"],
            set_={"listings": HallFacetCount.listings + statement.excluded.listings}))


@event.listens_for(Session, "after_transaction_end")
def _forget_at_the_end(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the outer transaction: committed (written already), rolled back or closed
        session.info.pop(_PENDING, None)


def maintained_facets(scope: Key) -> tuple[dict[str, dict[str, int]], int]:
    """The facet counts of the listings in ``scope`` (``TOTAL``: the whole hall) and their number, from the kept
    counts: one read of at most a few hundred rows."""
    c = HallFacetCount
    facets: dict[str, dict[str, int]] = {name: {} for name in FACETS}
    total = 0
    for facet, value, listings in db.session.execute(
            select(c.facet, c.value, c.listings)
            .where(c.scope_facet == scope[0], c.scope_value == scope[1], c.listings > 0)).all():
        if (facet, value) == TOTAL:
            total = int(listings)
        elif facet in facets:
            facets[facet][value] = int(listings)
    return facets, total


def kept_values(scope: Key, facet: str) -> dict[str, int]:
    """How many listings of ``scope`` have each value of ``facet`` (``""``: the scope's total, under ``""``), from
    the kept counts; values with none are left out."""
    c = HallFacetCount
    return {value: int(listings) for value, listings in db.session.execute(select(c.value, c.listings).where(
        c.scope_facet == scope[0], c.scope_value == scope[1], c.facet == facet, c.listings > 0))}


def scope_total(scope: Key) -> int:
    """How many listings ``scope`` holds (``TOTAL``: the whole hall), from the kept counts: one row."""
    return kept_values(scope, "").get("", 0)


def _expressions() -> list[tuple[str, ColumnElement[Any]]]:
    """Each facet as SQL over ``hall_index``: its value as text, NULL where the listing has none (the deal modes:
    one expression per mode)."""
    h = HallIndexEntry.__table__.c
    empty = _constant("")
    found: list[tuple[str, ColumnElement[Any]]] = [(name, func.nullif(cast(h[name], String), empty))
                                                   for name in _COLUMNS]
    found.append(("state_funded", case((h.state_funded, _constant("true")), else_=_constant("false"))))
    province = func.substr(h.region_code, literal_column("1"), literal_column("2"))
    found.append(("province", func.nullif(province, empty)))
    found += [("deal_mode", case((h.deal_modes_mask.op("&")(literal_column(str(1 << i))) != literal_column("0"),
                                  _constant(mode)))) for i, mode in enumerate(DEAL_MODES)]
    return found


def _constant(value: str) -> ColumnElement[str]:
    """A string of this module's own as SQL text, not a parameter: PostgreSQL matches a grouped expression to the
    selected one by its text."""
    assert "'" not in value
    return literal_column(f"'{value}'", String)


def rebuild_facet_counts() -> int:
    """Count every facet of every scope again from ``hall_index`` and replace the kept counts, in this
    transaction (the caller has raised the hall's version first: that row lock is taken before these); returns
    the number of rows written."""
    expressions = _expressions()
    rows: list[dict[str, Any]] = []

    def collect(statement: Any) -> None:
        rows.extend({"scope_facet": sf, "scope_value": sv, "facet": f, "value": v, "listings": int(n)}
                    for sf, sv, f, v, n in db.session.execute(statement) if n)

    empty = _constant("")
    whole = [select(empty, empty, empty, empty, func.count()).select_from(HallIndexEntry.__table__)]
    whole += [select(empty, empty, _constant(name), value, func.count()).where(value.is_not(None)).group_by(value)
              for name, value in expressions]
    collect(union_all(*whole))
    for scope_name, scope in expressions:
        branches = [select(_constant(scope_name), scope, empty, empty, func.count()).where(scope.is_not(None))
                    .group_by(scope)]
        branches += [select(_constant(scope_name), scope, _constant(name), value, func.count())
                     .where(scope.is_not(None), value.is_not(None)).group_by(scope, value)
                     for name, value in expressions]
        collect(union_all(*branches))
    db.session.execute(delete(HallFacetCount))
    for start in range(0, len(rows), _ROWS_PER_STATEMENT):
        db.session.execute(insert(HallFacetCount), rows[start:start + _ROWS_PER_STATEMENT])
    db.session.info.pop(_PENDING, None)  # counted from the index as it is now: earlier notes are in it
    return len(rows)
