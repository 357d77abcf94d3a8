"""Counting the SQL statements a block of code sends (issue 14's fixed small number of statements per page)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from hall.extensions import db


@contextmanager
def counted() -> Iterator[list[str]]:
    """The statements sent on the app's engine inside the block (call inside an app context)."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def without_begin(statements: list[str]) -> list[str]:
    """The statements but SQLite's own BEGIN (deferred or IMMEDIATE)."""
    return [s for s in statements if s.strip().upper() not in ("BEGIN", "BEGIN IMMEDIATE", "BEGIN DEFERRED")]
