"""Idempotency-Key records (TXN-02): the first request with a key runs; any later one gets its stored answer.

The record is inserted before the work in the same transaction. A concurrent request with the same key waits
on the unique key (PostgreSQL) or on the write lock (SQLite) until the first commits, then replays its answer;
if the first failed, nothing of it was kept and the next request runs afresh.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from flask_babel import gettext as _
from sqlalchemy import Table, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from hall.extensions import db
from hall.models import IdempotencyRecord
from hall.models.types import utcnow
from hall.services.core.errors import Conflict, InvalidInput
from hall.services.core.transactions import committed_midway


@dataclass(frozen=True)
class StoredResponse:
    """The answer given to the first request with the key."""

    status_code: int
    body: str


def check_key(key: str) -> str:
    """A key is 1–255 visible ASCII characters (a UUID is typical)."""
    if not 1 <= len(key) <= 255 or not all(33 <= ord(ch) <= 126 for ch in key):
        raise InvalidInput.field("Idempotency-Key", _("use 1 to 255 visible ASCII characters, e.g. a UUID"))
    return key


def begin(user_id: int, scope: str, key: str, digest: str) -> IdempotencyRecord | StoredResponse:
    """Claim ``key`` for this request (returns the new record), or return the stored answer of the earlier one.

    The same key with a different request answers 422; a key whose first request is still running, 409.
    """
    check_key(key)
    table = cast(Table, IdempotencyRecord.__table__)  # typed FromClause on the declarative base
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert(table) if dialect == "postgresql" else sqlite_insert(table)
    new_id = db.session.execute(insert.values(user_id=user_id, scope=scope[:120], key=key, request_digest=digest,
                                              created_at=utcnow())
                                .on_conflict_do_nothing(index_elements=["user_id", "scope", "key"])
                                .returning(table.c.id)).scalar()
    if new_id is not None:
        record = db.session.get(IdempotencyRecord, new_id)
        assert record is not None  # inserted just now, in this transaction
        return record
    earlier = db.session.scalar(select(IdempotencyRecord).where(
        IdempotencyRecord.user_id == user_id, IdempotencyRecord.scope == scope[:120], IdempotencyRecord.key == key))
    assert earlier is not None
    if earlier.request_digest != digest:
        raise InvalidInput.field("Idempotency-Key", _("this key was used for a different request; use a new key"))
    if earlier.status_code is None or earlier.response_body is None:
        raise Conflict(_("A request with this Idempotency-Key is still being processed; retry shortly."))
    return StoredResponse(earlier.status_code, earlier.response_body)


def finish(record: IdempotencyRecord, status_code: int, body: str) -> None:
    """Keep the answer for replays (in the same transaction as the work)."""
    record.status_code = status_code
    record.response_body = body
    db.session.flush()


def release_if_committed(record_id: int) -> None:
    """Forget a key whose request failed after a money step committed half-way (``end_transaction``): the claim
    was committed with that step, and a retry with the same key must run again, not wait forever on it.

    Rolls back the failed rest and deletes the claim in a transaction of its own (the request's end will not
    commit a failure). A key whose request never committed half-way was rolled back with it: nothing to do."""
    if not committed_midway():
        return
    db.session.rollback()
    db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id,
                                                       IdempotencyRecord.status_code.is_(None)))
    db.session.commit()
