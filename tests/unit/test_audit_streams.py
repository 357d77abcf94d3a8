"""The audit trail in streams (issue 14): one hash chain per object, unique (stream, seq), and signed checkpoints
of every stream's head, so that a deleted event in any stream, a truncated stream, a removed whole stream, a
rewritten event or stream and a forged checkpoint are all detected and named (TXN-03, LOG-01). The events from
before the streams (the legacy chain) and their format 1 checkpoints still verify."""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import create_engine, select, text

from hall.extensions import db
from hall.models import AuditCheckpoint, AuditEvent
from hall.models.types import utcnow
from hall.services.core.audit import (
    GENESIS_HASH,
    CheckpointClaim,
    checkpoint_key,
    event_digest,
    key_id,
    record_event,
    verify_chain,
)
from hall.services.core.audit_trail import settled_horizon
from hall.services.core.errors import Conflict

STREAMS = ("thing:1", "thing:2", "thing:3")


def hall(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=["hall", *args])


def lift(backend: str, operation: str) -> None:
    """What someone with DDL rights would do before rewriting history."""
    if backend == "postgresql":
        db.session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
    else:
        db.session.execute(text(f"DROP TRIGGER audit_events_no_{operation}"))


def interleaved(app: Flask, rounds: int = 4) -> dict[str, list[int]]:
    """Events about three objects, interleaved (1, 2, 3, 1, 2, 3 …), committed; ids by stream."""
    ids: dict[str, list[int]] = {stream: [] for stream in STREAMS}
    with app.app_context():
        for n in range(rounds):
            for thing in (1, 2, 3):
                event = record_event(f"test.step.{n}", "thing", thing, details={"n": n})
                ids[str(event.stream)].append(event.id)
        db.session.commit()
        db.session.remove()
    return ids


def delete(app: Flask, backend: str, event_ids: list[int]) -> None:
    with app.app_context():
        lift(backend, "delete")
        db.session.execute(text("DELETE FROM audit_events WHERE id IN (" + ",".join(map(str, event_ids)) + ")"))
        db.session.commit()
        db.session.remove()


def checkpoint(app: Flask, *extra: str) -> Result:
    result = hall(app, "audit-checkpoint", *extra)
    assert result.exit_code == 0, result.output
    return result


def test_events_chain_within_their_stream(app: Flask) -> None:
    ids = interleaved(app)
    with app.app_context():
        for stream, stream_ids in ids.items():
            events = [db.session.get(AuditEvent, event_id) for event_id in stream_ids]
            assert [(e.stream, e.seq) for e in events] == [(stream, n) for n in range(1, 5)]
            assert events[0].prev_hash == GENESIS_HASH
            assert all(after.prev_hash == before.hash for before, after in zip(events, events[1:]))
        verdict = verify_chain()
        assert verdict.intact and verdict.events_checked == 12 and verdict.stream_count == 3
        db.session.remove()


def test_a_deleted_event_in_the_middle_of_a_stream_is_named(app: Flask, backend: str) -> None:
    ids = interleaved(app)
    delete(app, backend, [ids["thing:2"][1]])
    with app.app_context():
        verdict = verify_chain()
        assert not verdict.intact and verdict.broken_event_id == ids["thing:2"][2]
        assert "stream thing:2" in (verdict.problem or "") and "removed" in (verdict.problem or "")
        db.session.remove()
    result = hall(app, "verify-audit")
    assert result.exit_code == 1 and f"BROKEN at event {ids['thing:2'][2]}" in result.stderr


def test_a_deleted_first_event_of_a_stream_is_named(app: Flask, backend: str) -> None:
    ids = interleaved(app)
    delete(app, backend, [ids["thing:3"][0]])
    with app.app_context():
        verdict = verify_chain()
        assert verdict.broken_event_id == ids["thing:3"][1]
        assert "stream thing:3" in (verdict.problem or "") and "number 2" in (verdict.problem or "")
        db.session.remove()


def test_a_truncated_stream_is_detected_by_the_checkpoint(app: Flask, backend: str) -> None:
    """The newest events of one stream removed, the other streams going on: the stream still links up, the
    checkpoint's root and count tell."""
    ids = interleaved(app)
    checkpoint(app)
    with app.app_context():
        horizon = db.session.scalar(select(AuditCheckpoint.last_event_id))
        db.session.remove()
    with app.app_context():  # the trail goes on after the checkpoint, in other streams
        record_event("test.later", "thing", 1)
        record_event("test.later", "thing", 9)
        db.session.commit()
        db.session.remove()
    delete(app, backend, ids["thing:3"][2:])
    with app.app_context():
        assert verify_chain(claims=[]).intact  # without a checkpoint the truncation is invisible
        verdict = verify_chain()
        assert verdict.truncated and verdict.broken_event_id == horizon
        assert "2 event(s) fewer" in (verdict.problem or "")
        db.session.remove()
    result = hall(app, "verify-audit")
    assert result.exit_code == 1 and f"TRUNCATED or REWRITTEN at event {horizon}" in result.stderr


def test_a_removed_whole_stream_is_detected_and_named(app: Flask, backend: str) -> None:
    ids = interleaved(app)
    checkpoint(app)
    delete(app, backend, ids["thing:2"])
    with app.app_context():
        assert verify_chain(claims=[]).intact
        verdict = verify_chain()
        assert verdict.truncated and "1 whole stream(s) removed" in (verdict.problem or "")
        db.session.remove()
    assert hall(app, "verify-audit").exit_code == 1


def test_a_rewritten_event_is_named(app: Flask, backend: str) -> None:
    ids = interleaved(app)
    with app.app_context():
        lift(backend, "update")
        db.session.execute(text("UPDATE audit_events SET reason = 'rewritten' WHERE id = :id"),
                           {"id": ids["thing:1"][2]})
        db.session.commit()
        verdict = verify_chain()
        assert verdict.broken_event_id == ids["thing:1"][2] and "altered" in (verdict.problem or "")
        db.session.remove()


def test_a_rewritten_and_rehashed_stream_is_detected(app: Flask, backend: str) -> None:
    """One stream rewritten from its second event on, every hash recomputed: consistent in itself, but the heads
    no longer give the signed root."""
    ids = interleaved(app)
    checkpoint(app)
    with app.app_context():
        lift(backend, "update")
        previous = db.session.get(AuditEvent, ids["thing:2"][0]).hash
        for event_id in ids["thing:2"][1:]:
            event = db.session.get(AuditEvent, event_id)
            event.reason, event.prev_hash = "rewritten", previous
            event.hash = event_digest(event)
            db.session.flush()
            previous = event.hash
        db.session.commit()
        assert verify_chain(claims=[]).intact
        verdict = verify_chain()
        assert verdict.truncated and "rewritten and re-hashed" in (verdict.problem or "")
        db.session.remove()


def test_a_forged_root_in_an_exported_checkpoint_is_refused(app: Flask, tmp_path: Path) -> None:
    exported = tmp_path / "heads.jsonl"
    interleaved(app)
    checkpoint(app, "--export", str(exported))
    data = json.loads(exported.read_text(encoding="utf-8"))
    assert data["format"] == 2 and data["stream_count"] == 3 and len(data["root_hash"]) == 64
    assert hall(app, "verify-audit", "--against", str(exported)).exit_code == 0
    data["root_hash"] = "0" * 64
    exported.write_text(json.dumps(data) + "\n", encoding="utf-8")
    result = hall(app, "verify-audit", "--against", str(exported))
    assert result.exit_code == 1 and "invalid signature" in result.stderr


# --- the legacy chain -------------------------------------------------------------------------------------------

def legacy_chain(count: int) -> list[AuditEvent]:
    """Events as they were written before migration 0018: no stream, chained in id order."""
    events, previous = [], GENESIS_HASH
    for n in range(count):
        event = AuditEvent(occurred_at=utcnow() - timedelta(days=1), action=f"old.{n}", object_type="order",
                           object_id=str(n % 2), reason="before the streams", prev_hash=previous)
        event.hash = event_digest(event)
        db.session.add(event)
        db.session.flush()
        events.append(event)
        previous = event.hash
    return events


def format_1_checkpoint(count: int, last: AuditEvent) -> None:
    """A checkpoint row as taken before 0018 (the global chain's head), signed as it was then."""
    key, now = checkpoint_key(), utcnow()
    claim = CheckpointClaim(event_count=count, last_event_id=last.id, last_event_hash=last.hash,
                            created_at=now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), key_id=key_id(key), signature="",
                            source="old", format=1)
    assert b"root_hash" not in claim.signed_payload()  # format 1 signs what it always signed
    db.session.add(AuditCheckpoint(created_at=now, event_count=count, last_event_id=last.id,
                                   last_event_hash=last.hash, format=1, key_id=claim.key_id,
                                   signature=hmac.new(key, claim.signed_payload(), hashlib.sha256).hexdigest()))
    db.session.flush()


def test_the_legacy_chain_and_its_checkpoints_still_verify(app_context: Flask, backend: str) -> None:
    old = legacy_chain(4)
    key = checkpoint_key()
    claim = CheckpointClaim(event_count=4, last_event_id=old[-1].id, last_event_hash=old[-1].hash,
                            created_at="2026-11-30T10:00:00.000000Z", key_id=key_id(key), signature="",
                            source="old head.jsonl line 1", format=1)
    signed = CheckpointClaim(**{**claim.__dict__, "signature": hmac.new(key, claim.signed_payload(),
                                                                        hashlib.sha256).hexdigest()})
    db.session.commit()
    record_event("order.new", "order", 0)  # a stream of its own, not chained onto the legacy events
    db.session.commit()
    verdict = verify_chain(claims=[signed])
    assert verdict.intact and verdict.events_checked == 5 and verdict.checkpoints_matched == 1
    assert verdict.stream_count == 2  # the legacy chain and order:0
    new = db.session.scalar(select(AuditEvent).where(AuditEvent.seq.is_not(None)))
    assert new is not None and (new.stream, new.seq, new.prev_hash) == ("order:0", 1, GENESIS_HASH)
    lift(backend, "delete")
    db.session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": old[-1].id})
    db.session.commit()
    assert verify_chain(claims=[]).intact  # the newest legacy event gone: only the checkpoint tells
    verdict = verify_chain(claims=[signed])
    assert verdict.truncated and "legacy chain has 3 events" in (verdict.problem or "")


def test_a_format_1_checkpoint_row_verifies_against_the_legacy_chain(app_context: Flask) -> None:
    old = legacy_chain(2)
    format_1_checkpoint(2, old[-1])
    db.session.commit()
    assert CheckpointClaim.from_row(db.session.scalars(select(AuditCheckpoint)).one()).format == 1
    record_event("order.new", "order", 5)
    db.session.commit()
    verdict = verify_chain()
    assert verdict.intact and verdict.checkpoints_matched == 1


# --- the settled horizon (PostgreSQL) --------------------------------------------------------------------------

def test_a_checkpoint_waits_for_older_transactions(app: Flask, database_url: str, backend: str) -> None:
    """An event id drawn by a transaction still open could commit below the horizon after the walk: the
    checkpoint waits until every transaction older than its horizon has ended."""
    if backend != "postgresql":
        pytest.skip("SQLite commits its writers one at a time, in id order")
    engine = create_engine(database_url)
    try:
        with engine.connect() as other:
            other.execute(text("SELECT 1"))  # a transaction is open from here on
            with app.app_context():
                with pytest.raises(Conflict):
                    settled_horizon(wait=0.3)
                db.session.rollback()
                db.session.remove()
            other.rollback()
            with app.app_context():
                record_event("test.after", "thing", 1)
                db.session.commit()
                assert settled_horizon(wait=1) == db.session.scalar(select(AuditEvent.id))
                db.session.remove()
    finally:
        engine.dispose()


# --- migration 0018 on a trail in use ------------------------------------------------------------------------

def test_migration_0018_keeps_a_trail_in_use_verifiable(app: Flask) -> None:
    """Events and a checkpoint written before 0018 (one global chain) verify after it, unchanged, as the legacy
    chain; new events start streams beside it; the command signs the heads of both."""
    from flask_migrate import downgrade, upgrade

    with app.app_context():
        downgrade(revision="0017_browse")
        db.engine.dispose()
        key, previous, rows = checkpoint_key(), GENESIS_HASH, []
        for n in range(3):
            event = AuditEvent(occurred_at=utcnow(), action=f"old.{n}", object_type="order", object_id="1",
                               prev_hash=previous)  # transient: only hashed, never added to the session
            event.hash = event_digest(event)
            rows.append(event)
            previous = event.hash
        with db.engine.begin() as conn:
            for event in rows:
                conn.execute(text("INSERT INTO audit_events (occurred_at, action, object_type, object_id, prev_hash, "
                                  "hash) VALUES (:at, :action, 'order', '1', :prev, :hash)"),
                             {"at": event.occurred_at, "action": event.action, "prev": event.prev_hash,
                              "hash": event.hash})
            last_id = conn.execute(text("SELECT max(id) FROM audit_events")).scalar_one()
            now = utcnow()
            claim = CheckpointClaim(event_count=3, last_event_id=last_id, last_event_hash=previous,
                                    created_at=now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), key_id=key_id(key),
                                    signature="", source="old", format=1)
            conn.execute(text("INSERT INTO audit_checkpoints (created_at, event_count, last_event_id, "
                              "last_event_hash, key_id, signature) VALUES (:at, 3, :id, :hash, :key, :sig)"),
                         {"at": now, "id": last_id, "hash": previous, "key": claim.key_id,
                          "sig": hmac.new(key, claim.signed_payload(), hashlib.sha256).hexdigest()})
        upgrade()
        db.engine.dispose()
        verdict = verify_chain()
        assert verdict.intact and verdict.events_checked == 3 and verdict.checkpoints_matched == 1
        record_event("order.after", "order", 1)
        db.session.commit()
        assert db.session.scalar(select(AuditEvent.seq).where(AuditEvent.action == "order.after")) == 1
        db.session.remove()
    checkpoint(app)
    with app.app_context():
        row = db.session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc())).first()
        assert row is not None and (row.format, row.event_count, row.stream_count) == (2, 4, 2)
        assert verify_chain().checkpoints_matched == 2
        db.session.remove()
