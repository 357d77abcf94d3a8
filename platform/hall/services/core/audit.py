"""The audit trail: record events in one hash chain per object (a stream), sign checkpoints over every stream's
head, and verify it all.

Streams. An event about an object belongs to the stream ``object_type:object_id`` and is number ``seq`` (1, 2, …)
in it; ``prev_hash`` is the hash of the stream's previous event (the genesis hash for seq 1); (stream, seq) is
unique. Appending to a stream takes that stream's lock (``pg_advisory_xact_lock`` on a 64-bit hash of its name,
held to commit; on SQLite the write transaction already serialises writers), so two transactions never chain onto
the same predecessor — and appends to different objects never wait for each other. Events recorded before
migration 0018 keep stream and seq NULL: the legacy chain, linked in id order as they were written, verified as
before and never rewritten.

Checkpoints (``hall.services.core.audit_trail``): a chain shows a changed or removed event by a broken link, but
not the removal of a stream's newest events, nor of a whole stream. A checkpoint states, up to an event id, how
many events there are and a root — SHA-256 over the sorted (stream, seq, hash) of every stream's head — signed
with a key that is not in the database; ``verify_chain`` rebuilds the heads as of each checkpoint and compares.

Lock order (it replaces the old global chain lock as the rule that keeps writers free of deadlocks):

1. Row locks, taken with ``lock_row`` (``SELECT … FOR UPDATE``) or a compare-and-set ``UPDATE`` (``transition``),
   in this order of tables: order → listing → payment → refund (and the order's refund counter, on the order row
   already held). A new order locks its listing first (its own row is not visible to anyone else yet). Several rows
   of one table: ascending id. A Stripe webhook locks its order before the payment.
2. The audit stream of an object: only while holding that object's row lock (``transition`` does this), or for an
   object created in this transaction, or — for an object whose row is not locked — after the transaction's last
   row lock. A stream lock is therefore never held while waiting for a row lock another writer of that stream holds.
3. Named job locks (``lock_job``) for one-at-a-time jobs are taken first, before any row lock, by the job only.
"""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select, text

from hall.context import current_request_id
from hall.extensions import db
from hall.models import AuditEvent, User
from hall.models.types import utcnow
from hall.services.core.audit_digest import GENESIS_HASH, LEGACY_STREAM, event_digest, heads_root
from hall.services.core.audit_trail import (
    ChainVerdict,
    CheckpointClaim,
    CheckpointFileError,
    checkpoint_key,
    export_checkpoint,
    key_id,
    read_exported_claims,
    stored_claims,
    take_checkpoint,
    verify_chain,
    verify_for_checkpoint,
)

__all__ = ["GENESIS_HASH", "LEGACY_STREAM", "ChainVerdict", "CheckpointClaim", "CheckpointFileError",
           "checkpoint_key", "event_digest", "export_checkpoint", "heads_root", "key_id", "lock_job", "lock_row",
           "lock_stream", "read_exported_claims", "record_event", "stored_claims", "stream_of", "take_checkpoint",
           "verify_chain", "verify_for_checkpoint"]

_STREAM_LOCK_SEED = 0x4A11A0D1  # namespaces the stream locks' keys among the database's advisory locks
_JOB_LOCK_SEED = 0x4A11A0D2


def _on_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def stream_of(object_type: str, object_id: Any) -> str:
    """The stream an object's events belong to: ``object_type:object_id``."""
    return f"{object_type}:{object_id}"


def lock_stream(stream: str) -> None:
    """Take one stream's append lock, held to commit (PostgreSQL; SQLite writers are serialised already)."""
    if _on_postgresql():
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:stream, :seed))"),
                           {"stream": stream, "seed": _STREAM_LOCK_SEED})


def lock_job(name: str) -> None:
    """Take a named job's lock, held to commit: one runner of that job at a time (rule 3 of the lock order)."""
    if _on_postgresql():
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:name, :seed))"),
                           {"name": name, "seed": _JOB_LOCK_SEED})


def lock_row(model: Any, row_id: int) -> None:
    """``SELECT … FOR UPDATE`` of one row (rule 1 of the lock order; a no-op on SQLite, serialised already)."""
    db.session.flush()
    db.session.execute(select(model.id).where(model.id == row_id).with_for_update())


def record_event(
    action: str,
    object_type: str,
    object_id: Any,
    *,
    actor: User | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
    created: bool = False,
) -> AuditEvent:
    """Append one event to its object's stream in the current transaction and flush it (see the lock order).

    ``created``: the object was inserted in this transaction, so its stream is empty and no one else can append to
    it before the commit; the event is the stream's first without taking the lock or reading the head (the unique
    (stream, seq) would still refuse a second first event)."""
    session = db.session
    stream = stream_of(object_type, object_id)
    head = None
    if not created:
        lock_stream(stream)
        session.flush()
        head = session.execute(select(AuditEvent.seq, AuditEvent.hash).where(AuditEvent.stream == stream)
                               .order_by(AuditEvent.seq.desc()).limit(1)).first()
    event = AuditEvent(
        occurred_at=utcnow(),
        actor_id=actor.id if actor is not None else None,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        request_id=current_request_id(),
        details=json.dumps(details, sort_keys=True, ensure_ascii=False) if details else None,
        stream=stream,
        seq=(head.seq + 1) if head is not None else 1,
        prev_hash=head.hash if head is not None else GENESIS_HASH,
    )
    event.hash = event_digest(event)
    session.add(event)
    session.flush()
    return event
