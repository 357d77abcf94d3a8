"""Engine setup (DB-01, DB-02): SQLite pragmas and BEGIN IMMEDIATE; PostgreSQL pre-ping and timeouts."""
from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Boolean, ColumnElement, event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.visitors import InternalTraversal

# SQLite takes its write lock at BEGIN IMMEDIATE, so a read-then-write transaction never fails half-way with
# "database is locked". Requests that cannot write (GET, HEAD, OPTIONS) begin DEFERRED so readers do not queue.
_sqlite_begin = contextvars.ContextVar("sqlite_begin", default="BEGIN IMMEDIATE")


def engine_options(database_uri: str, settings: dict[str, Any]) -> dict[str, Any]:
    """Return ``SQLALCHEMY_ENGINE_OPTIONS`` for the configured database."""
    if database_uri.startswith("postgresql"):
        options = (
            f"-c lock_timeout={settings['PG_LOCK_TIMEOUT_MS']} "
            f"-c statement_timeout={settings['PG_STATEMENT_TIMEOUT_MS']} "
            "-c idle_in_transaction_session_timeout=60000 -c timezone=UTC"
        )
        return {"pool_pre_ping": True, "hide_parameters": True,
                "connect_args": {"options": options, "application_name": "hall"}}
    if database_uri.startswith("sqlite"):
        return {"hide_parameters": True, "connect_args": {"timeout": settings["SQLITE_BUSY_TIMEOUT_MS"] / 1000}}
    return {}


def configure_engine(engine: Engine, busy_timeout_ms: int) -> None:
    """Attach the per-connection setup for SQLite; PostgreSQL needs nothing beyond its engine options."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (the pysqlite driver's own handling is broken).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin_transaction(connection: Any) -> None:
        connection.exec_driver_sql(_sqlite_begin.get())


@contextmanager
def read_only_transactions() -> Iterator[None]:
    """Within this block, SQLite transactions begin DEFERRED (readers that never write: reports, benchmarks)."""
    token = _sqlite_begin.set("BEGIN")
    try:
        yield
    finally:
        _sqlite_begin.reset(token)


def set_read_only_transactions(read_only: bool) -> contextvars.Token[str]:
    """Choose how SQLite transactions begin for the current context; returns a token for ``reset``."""
    return _sqlite_begin.set("BEGIN" if read_only else "BEGIN IMMEDIATE")


def reset_transaction_mode(token: contextvars.Token[str]) -> None:
    """Undo ``set_read_only_transactions``."""
    _sqlite_begin.reset(token)


# Full-text search structures made by hand in migrations 0002, 0009 and 0019 (FTS5 tables and their shadow tables
# on SQLite, generated tsvector columns and their GIN indexes on PostgreSQL) and the price-order expression indexes
# of 0021; the models do not describe them.
HAND_MADE_SEARCH_OBJECTS = ("hall_fts", "search_vector", "gram_vector", "ix_hall_index_search_vector",
                            "ix_hall_index_price_asc", "ix_hall_index_price_desc",
                            "ix_hall_text_search_vector", "ix_hall_text_gram_vector",
                            "demand_fts", "ix_demand_index_search_vector")


def include_in_autogenerate(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic ``include_object`` hook: leave the hand-made full-text structures out of model comparison."""
    return not (name or "").startswith(HAND_MADE_SEARCH_OBJECTS)


class _NotFromAnIndex(ColumnElement[bool]):
    inherit_cache = True
    _traverse_internals = [("condition", InternalTraversal.dp_clauseelement)]  # in the statement's cache key

    def __init__(self, condition: ColumnElement[bool]) -> None:
        self.condition = condition
        self.type = Boolean()


@compiles(_NotFromAnIndex)
def _compile_condition(element: _NotFromAnIndex, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.condition, **kw))


@compiles(_NotFromAnIndex, "sqlite")
def _compile_unary_plus(element: _NotFromAnIndex, compiler: Any, **kw: Any) -> str:
    return f"+({compiler.process(element.condition, **kw)})"


def not_from_an_index(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """The same condition, which SQLite's planner will not answer from an index (``+(…)``), so that it walks the
    index of the ORDER BY instead and stops at the LIMIT; unchanged on other databases."""
    return _NotFromAnIndex(condition)
