"""The audit trail (TXN-03, LOG-01): a hash chain that the database keeps append-only and that
``verify_chain`` / ``flask hall verify-audit`` check, including under concurrent appends."""
from __future__ import annotations

import gc
import threading
import warnings
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import DatabaseError

from hall.extensions import db
from hall.models import AuditEvent
from hall.services.core.audit import GENESIS_HASH, event_digest, record_event, verify_chain
from tests.support.audit import append_events, lift_append_only


def chain() -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def event_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent)) or 0


# --- the chain ----------------------------------------------------------------------------------------------

def test_events_form_a_chain_from_the_genesis_hash(app_context: Flask) -> None:
    ids = append_events(4)
    events = chain()
    assert [event.id for event in events] == ids
    assert GENESIS_HASH == "0" * 64
    assert events[0].prev_hash == GENESIS_HASH
    for before, after in zip(events, events[1:]):
        assert after.prev_hash == before.hash
    for event in events:
        assert len(event.hash) == 64 and int(event.hash, 16) >= 0
        assert event.hash == event_digest(event)  # the stored hash covers the stored (reloaded) content
    assert len({event.hash for event in events}) == len(events)


def test_recorded_event_keeps_what_happened(app_context: Flask) -> None:
    event_id = append_events(1)[0]
    db.session.expire_all()
    event = db.session.get(AuditEvent, event_id)
    assert event is not None
    assert (event.action, event.object_type, event.object_id, event.reason) == (
        "test.event.0", "thing", "0", "reason 0")
    assert event.details == '{"n": 0, "名": "值"}'  # canonical JSON, sorted keys, UTF-8 kept
    assert event.occurred_at.utcoffset() is not None and event.occurred_at.utcoffset().total_seconds() == 0


def test_verify_chain_is_intact_on_untampered_data(app_context: Flask) -> None:
    assert verify_chain().intact and verify_chain().events_checked == 0
    append_events(5)
    verdict = verify_chain()
    assert verdict.intact
    assert verdict.events_checked == 5
    assert verdict.broken_event_id is None and verdict.problem is None


def test_verify_chain_works_across_batches(app_context: Flask) -> None:
    append_events(7)
    verdict = verify_chain(batch_size=2)
    assert verdict.intact and verdict.events_checked == 7


# --- the database refuses rewrites --------------------------------------------------------------------------

REWRITES = {
    "update": "UPDATE audit_events SET reason = 'rewritten'",
    "delete": "DELETE FROM audit_events",
}


@pytest.mark.parametrize("operation", sorted(REWRITES))
def test_update_and_delete_are_refused_through_the_session(app_context: Flask, operation: str) -> None:
    append_events(3)
    before = [(event.id, event.reason, event.hash) for event in chain()]
    with pytest.raises(DatabaseError) as excinfo:
        db.session.execute(text(REWRITES[operation]))
        db.session.commit()
    assert "append-only" in str(excinfo.value)
    db.session.rollback()
    db.session.expire_all()
    assert [(event.id, event.reason, event.hash) for event in chain()] == before


@pytest.mark.parametrize("operation", sorted(REWRITES))
def test_update_and_delete_are_refused_on_a_separate_connection(app: Flask, database_url: str,
                                                               operation: str) -> None:
    with app.app_context():
        append_events(2)
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            with pytest.raises(DatabaseError) as excinfo:
                conn.execute(text(REWRITES[operation] + " WHERE id = (SELECT min(id) FROM audit_events)"))
                conn.commit()
            assert "append-only" in str(excinfo.value)
            conn.rollback()
            assert conn.execute(text("SELECT count(*) FROM audit_events")).scalar() == 2
            rewritten = text("SELECT count(*) FROM audit_events WHERE reason = 'rewritten'")
            assert conn.execute(rewritten).scalar() == 0
    finally:
        engine.dispose()


def test_upsert_over_an_existing_event_is_refused(app_context: Flask) -> None:
    """An upsert is an UPDATE in disguise: it must not rewrite an existing row either."""
    first = append_events(2)[0]
    with pytest.raises(DatabaseError):
        db.session.execute(text(
            "INSERT INTO audit_events (id, occurred_at, action, object_type, object_id, reason, prev_hash, "
            "hash) VALUES (:id, (SELECT occurred_at FROM audit_events WHERE id = :id), 'forged', 'thing', "
            "'0', 'forged', :prev, :hash) ON CONFLICT (id) DO UPDATE SET reason = 'forged'"),
            {"id": first, "prev": GENESIS_HASH, "hash": "f" * 64})
        db.session.commit()
    db.session.rollback()
    assert verify_chain().intact and db.session.get(AuditEvent, first).reason == "reason 0"


def test_sqlite_insert_or_replace_cannot_overwrite_an_event(app_context: Flask, backend: str) -> None:
    """SQLite's REPLACE deletes the conflicting row without firing DELETE triggers (unless recursive_triggers
    is on), so BEFORE UPDATE/DELETE triggers alone do not make the table append-only."""
    if backend != "sqlite":
        pytest.skip("INSERT OR REPLACE is SQLite syntax")
    first = append_events(2)[0]
    original = db.session.get(AuditEvent, first)
    assert original is not None
    row = {"id": first, "occurred_at": db.session.execute(
        text("SELECT occurred_at FROM audit_events WHERE id = :id"), {"id": first}).scalar(),
        "prev": original.prev_hash, "hash": "e" * 64}
    try:
        db.session.execute(text(
            "INSERT OR REPLACE INTO audit_events (id, occurred_at, action, object_type, object_id, reason, "
            "prev_hash, hash) VALUES (:id, :occurred_at, 'forged', 'thing', '0', 'forged', :prev, :hash)"),
            row)
        db.session.commit()
    except DatabaseError:
        db.session.rollback()
    db.session.expire_all()
    stored = db.session.get(AuditEvent, first)
    assert stored is not None and stored.action == "test.event.0" and stored.reason == "reason 0", (
        "INSERT OR REPLACE rewrote an audit event despite the append-only triggers")


def test_truncate_is_refused_on_postgresql(app_context: Flask, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("TRUNCATE exists on PostgreSQL only")
    append_events(2)
    with pytest.raises(DatabaseError) as excinfo:
        db.session.execute(text("TRUNCATE audit_events"))
        db.session.commit()
    assert "append-only" in str(excinfo.value)
    db.session.rollback()
    assert event_count() == 2


# --- tampering is detected ----------------------------------------------------------------------------------

def test_an_altered_row_is_named_by_verify_chain(app_context: Flask, backend: str) -> None:
    ids = append_events(5)
    lift_append_only(backend, "update")
    db.session.execute(text("UPDATE audit_events SET reason = 'nothing to see here' WHERE id = :id"),
                       {"id": ids[2]})
    db.session.commit()
    verdict = verify_chain()
    assert not verdict.intact
    assert verdict.broken_event_id == ids[2]
    assert verdict.events_checked == 2
    assert "altered" in (verdict.problem or "")


def test_a_deleted_middle_row_is_detected_at_the_following_row(app_context: Flask, backend: str) -> None:
    ids = append_events(5)
    lift_append_only(backend, "delete")
    db.session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": ids[2]})
    db.session.commit()
    verdict = verify_chain()
    assert not verdict.intact
    assert verdict.broken_event_id == ids[3]
    assert verdict.events_checked == 2
    assert "link" in (verdict.problem or "")


def test_a_rehashed_row_still_breaks_the_link_to_its_successor(app_context: Flask, backend: str) -> None:
    """Rewriting a row and its own hash consistently is caught at the next row's prev_hash."""
    ids = append_events(4)
    lift_append_only(backend, "update")
    target = db.session.get(AuditEvent, ids[1])
    assert target is not None
    target.reason = "forged"
    target.hash = event_digest(target)
    db.session.commit()
    verdict = verify_chain()
    assert verdict.broken_event_id == ids[2]


def test_verify_chain_closes_its_cursor_when_it_stops_early(app_context: Flask, backend: str) -> None:
    """Stopping at a broken event must not leave the (server-side, on PostgreSQL) cursor open."""
    ids = append_events(3)
    lift_append_only(backend, "update")
    db.session.execute(text("UPDATE audit_events SET reason = 'x' WHERE id = :id"), {"id": ids[0]})
    db.session.commit()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        verdict = verify_chain()
        gc.collect()
    assert verdict.broken_event_id == ids[0]
    leaks = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaks == [], "verify_chain returned without closing its result"


def test_cli_verify_audit_reports_intact_chain(app: Flask) -> None:
    with app.app_context():
        append_events(3)
        db.session.remove()
    result = app.test_cli_runner().invoke(args=["hall", "verify-audit"])
    assert result.exit_code == 0, result.output
    assert "intact" in result.output
    assert "3 events" in result.output


def test_cli_verify_audit_names_the_broken_event(app: Flask, backend: str) -> None:
    with app.app_context():
        ids = append_events(4)
        lift_append_only(backend, "update")
        db.session.execute(text("UPDATE audit_events SET to_state = 'paid' WHERE id = :id"), {"id": ids[1]})
        db.session.commit()
        db.session.remove()
    result = app.test_cli_runner().invoke(args=["hall", "verify-audit"])
    assert result.exit_code == 1, result.output
    assert f"BROKEN at event {ids[1]}" in result.stderr
    assert "intact:" not in result.output


# --- concurrent appends -------------------------------------------------------------------------------------

def race_appends(app: Flask, threads_count: int, object_of: Callable[[int], int]) -> None:
    """``threads_count`` threads, released together, each record one event about ``object_of(n)`` and commit."""
    barrier = threading.Barrier(threads_count)
    errors: list[BaseException] = []

    def append(n: int) -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                record_event("test.concurrent", "thing", object_of(n), reason=f"thread {n}")
                db.session.commit()
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []


def test_concurrent_appends_to_one_stream_keep_one_chain(app: Flask) -> None:
    """Appends to one object's stream queue on its lock: seq 1..n, each on its own predecessor."""
    threads_count = 8
    race_appends(app, threads_count, lambda n: 7)
    with app.app_context():
        verdict = verify_chain()
        events = chain()
        assert verdict.intact, verdict
        assert verdict.events_checked == threads_count and verdict.stream_count == 1
        assert sorted(event.reason or "" for event in events) == sorted(f"thread {n}" for n in range(threads_count))
        assert [event.seq for event in events] == list(range(1, threads_count + 1))
        assert {event.stream for event in events} == {"thing:7"}
        assert len({event.prev_hash for event in events}) == threads_count  # no two share a predecessor
        assert events[0].prev_hash == GENESIS_HASH
        for before, after in zip(events, events[1:]):
            assert after.prev_hash == before.hash
        db.session.remove()


def test_concurrent_appends_to_distinct_streams_each_start_a_chain(app: Flask) -> None:
    """Appends to different objects do not chain onto each other: each stream starts at seq 1 from genesis."""
    threads_count = 8
    race_appends(app, threads_count, lambda n: n)
    with app.app_context():
        verdict = verify_chain()
        events = chain()
        assert verdict.intact, verdict
        assert verdict.events_checked == threads_count and verdict.stream_count == threads_count
        assert sorted(event.object_id for event in events) == [str(n) for n in range(threads_count)]
        assert {(event.seq, event.prev_hash) for event in events} == {(1, GENESIS_HASH)}
        db.session.remove()


def test_a_second_event_with_the_same_stream_and_seq_is_refused(app_context: Flask) -> None:
    """Unique (stream, seq): two events can never both claim to be number n of one stream."""
    event_id = append_events(1)[0]
    original = db.session.get(AuditEvent, event_id)
    assert original is not None and (original.stream, original.seq) == ("thing:0", 1)
    with pytest.raises(DatabaseError):
        db.session.execute(text(
            "INSERT INTO audit_events (occurred_at, action, object_type, object_id, stream, seq, prev_hash, hash) "
            "VALUES (:at, 'forged', 'thing', '0', 'thing:0', 1, :prev, :hash)"),
            {"at": original.occurred_at, "prev": GENESIS_HASH, "hash": "f" * 64})
    db.session.rollback()
