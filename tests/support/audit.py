"""The audit chain in tests: appending events (inside an app context), and lifting the append-only guard as an
attacker with DDL rights would before rewriting history."""
from __future__ import annotations

from sqlalchemy import text

from hall.extensions import db
from hall.services.core.audit import record_event


def append_events(count: int, *, prefix: str = "test.event", object_id: int = 0) -> list[int]:
    """Record ``count`` events about one object (one stream, ``thing:<object_id>``), commit them, and return their
    ids in chain order."""
    ids = []
    for n in range(count):
        event = record_event(f"{prefix}.{n}", "thing", object_id, reason=f"reason {n}", details={"n": n, "名": "值"})
        ids.append(event.id)
    db.session.commit()
    return ids


def lift_append_only(backend: str, operation: str) -> None:
    """What an attacker with DDL rights would do before rewriting history."""
    if backend == "postgresql":
        db.session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
    else:
        db.session.execute(text(f"DROP TRIGGER audit_events_no_{operation}"))
