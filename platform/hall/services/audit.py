"""The audit trail: record events in a hash chain and verify the chain."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timezone
from typing import Any

from sqlalchemy import select, text

from hall.context import current_request_id
from hall.extensions import db
from hall.models import AuditEvent, User
from hall.models.types import utcnow

GENESIS_HASH = "0" * 64
# Serialises appends on PostgreSQL so that two transactions never chain onto the same predecessor.
# (SQLite writers already hold the database's write lock from BEGIN IMMEDIATE.)
_CHAIN_LOCK_KEY = 0x4A11A0D1


def event_digest(event: AuditEvent) -> str:
    """SHA-256 over the previous hash and the event's fields in canonical JSON."""
    payload = {
        "occurred_at": event.occurred_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor_id": event.actor_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "reason": event.reason,
        "request_id": event.request_id,
        "details": event.details,
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((event.prev_hash + canonical).encode("utf-8")).hexdigest()


def lock_chain() -> None:
    """Take the audit chain's lock now (PostgreSQL; a no-op on SQLite, whose writers are already serialised).

    Every transaction that records an event takes this lock; a service that will also lock rows (a listing's
    stock, an order's refund counter) takes it first, so all writers lock in one order and cannot deadlock.
    """
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})


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
) -> AuditEvent:
    """Append one event to the chain in the current transaction and flush it."""
    session = db.session
    lock_chain()
    session.flush()
    last_hash = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
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
        prev_hash=last_hash or GENESIS_HASH,
    )
    event.hash = event_digest(event)
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainVerdict:
    """The result of checking the chain: how many events, and the first broken one if any."""

    events_checked: int
    broken_event_id: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        """True when every event links to its predecessor and hashes to its stored hash."""
        return self.broken_event_id is None


def verify_chain(batch_size: int = 1000) -> ChainVerdict:
    """Walk the events in id order; name the first whose link or hash does not hold."""
    expected_prev = GENESIS_HASH
    checked = 0
    with db.session.execute(
        select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=batch_size)
    ) as result:
        for event in result.scalars():
            if event.prev_hash != expected_prev:
                return ChainVerdict(checked, event.id, "does not link to the event before it (a row was removed "
                                                       "or inserted out of order)")
            if event_digest(event) != event.hash:
                return ChainVerdict(checked, event.id, "its content does not match its hash (the row was altered)")
            expected_prev = event.hash
            checked += 1
    return ChainVerdict(checked)
