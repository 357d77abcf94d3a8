"""Signed checkpoints of the audit chain's head (issue 9, item 7): deleting the newest events leaves a chain that
still links up, so ``verify-audit`` holds it against checkpoints kept in ``audit_checkpoints`` (append-only) and
exported to a file (``flask hall audit-checkpoint --export``); a truncated or rewritten chain exits non-zero."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError

from hall.extensions import db
from hall.models import AuditCheckpoint, AuditEvent
from hall.services.core.audit import (
    GENESIS_HASH,
    CheckpointClaim,
    checkpoint_key,
    event_digest,
    key_id,
    read_exported_claims,
    record_event,
    stored_claims,
    take_checkpoint,
    verify_chain,
)
from tests.support.audit import append_events


def hall(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=["hall", *args])


def lift(backend: str, table: str, operation: str) -> None:
    """What someone with DDL rights (the table owner, a superuser) would do before deleting rows."""
    if backend == "postgresql":
        db.session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only"))
    else:
        db.session.execute(text(f"DROP TRIGGER {table}_no_{operation}"))


def delete_newest(app: Flask, backend: str, count: int) -> None:
    with app.app_context():
        lift(backend, "audit_events", "delete")
        newest = db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(count)).all()
        db.session.execute(text("DELETE FROM audit_events WHERE id >= :id"), {"id": min(newest)})
        db.session.commit()
        db.session.remove()


def checkpoint(app: Flask, *extra: str) -> Result:
    result = hall(app, "audit-checkpoint", *extra)
    assert result.exit_code == 0, result.output
    return result


# --- the command, the table and the verdict -------------------------------------------------------------------

def test_checkpoint_records_the_signed_head(app_context: Flask) -> None:
    ids = append_events(3)
    verdict = verify_chain()
    row = take_checkpoint(verdict)
    db.session.commit()
    head = db.session.get(AuditEvent, ids[-1])
    assert (row.event_count, row.last_event_id, row.last_event_hash) == (3, ids[-1], head.hash)
    assert row.key_id == key_id(checkpoint_key()) and len(row.signature) == 64
    claim = CheckpointClaim.from_row(row)
    assert claim.signature_matches(checkpoint_key())
    assert not claim.signature_matches(b"another key")
    assert stored_claims() == [claim]


def test_checkpoint_of_an_empty_chain(app_context: Flask) -> None:
    row = take_checkpoint(verify_chain())
    assert (row.event_count, row.last_event_id, row.last_event_hash) == (0, None, GENESIS_HASH)
    append_events(2)
    assert verify_chain().intact


def test_deleting_the_newest_events_is_detected(app: Flask, backend: str) -> None:
    with app.app_context():
        ids = append_events(5)
        db.session.remove()
    checkpoint(app)
    delete_newest(app, backend, 2)
    with app.app_context():
        verdict = verify_chain()
        assert verdict.events_checked == 3
        assert not verdict.intact and verdict.truncated
        assert verdict.broken_event_id == ids[-1]
        assert "truncated" in (verdict.problem or "")
        db.session.remove()
    result = hall(app, "verify-audit")
    assert result.exit_code == 1, result.output
    assert f"TRUNCATED or REWRITTEN at event {ids[-1]}" in result.stderr
    assert "intact:" not in result.output


def test_deleting_the_newest_events_and_appending_more_is_detected(app: Flask, backend: str) -> None:
    """New events chained onto what is left do not hide the gap: the checkpoint's event is gone."""
    with app.app_context():
        ids = append_events(4)
        db.session.remove()
    checkpoint(app)
    delete_newest(app, backend, 2)
    with app.app_context():
        append_events(3, prefix="after")
        verdict = verify_chain()
        assert verdict.truncated and verdict.broken_event_id == ids[-1]
        db.session.remove()
    assert hall(app, "verify-audit").exit_code == 1


def test_a_rewritten_and_rehashed_history_is_detected(app: Flask, backend: str) -> None:
    """Rewriting every event from some point on, with fresh hashes, keeps the chain consistent in itself; the
    checkpoint's signed hash is what no longer matches."""
    with app.app_context():
        ids = append_events(4)
        db.session.remove()
    checkpoint(app)
    with app.app_context():
        lift(backend, "audit_events", "update")
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.id >= ids[1]).order_by(AuditEvent.id)).all()
        previous = db.session.get(AuditEvent, ids[0]).hash
        for event in events:
            event.reason = "rewritten"
            event.prev_hash = previous
            event.hash = event_digest(event)
            db.session.flush()
            previous = event.hash
        db.session.commit()
        verdict = verify_chain(claims=[])
        assert verdict.intact  # without a checkpoint the rewrite is invisible
        verdict = verify_chain()
        assert verdict.truncated and verdict.broken_event_id == ids[-1]
        assert "rewritten" in (verdict.problem or "")
        db.session.remove()


def test_verify_audit_reports_the_checkpoint_it_matched(app: Flask) -> None:
    with app.app_context():
        append_events(2)
        db.session.remove()
    first = hall(app, "verify-audit")
    assert first.exit_code == 0 and "No signed checkpoint" in first.output
    made = checkpoint(app)
    assert "Checkpoint #" in made.output and "2 events" in made.output
    with app.app_context():
        append_events(2, prefix="later")  # events after the checkpoint are fine
        db.session.remove()
    result = hall(app, "verify-audit")
    assert result.exit_code == 0, result.output
    assert "intact: 4 events" in result.output and "matches 1 signed checkpoint" in result.output


def test_the_command_refuses_to_sign_a_broken_chain(app: Flask, backend: str) -> None:
    with app.app_context():
        ids = append_events(3)
        lift(backend, "audit_events", "update")
        db.session.execute(text("UPDATE audit_events SET reason = 'x' WHERE id = :id"), {"id": ids[1]})
        db.session.commit()
        db.session.remove()
    result = hall(app, "audit-checkpoint")
    assert result.exit_code == 1
    assert "No checkpoint signed" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditCheckpoint)) == 0
        db.session.remove()


def test_a_forged_checkpoint_is_refused(app: Flask) -> None:
    """Whoever can insert rows but does not hold the key cannot make a checkpoint that verifies."""
    with app.app_context():
        ids = append_events(2)
        event = db.session.get(AuditEvent, ids[-1])
        db.session.add(AuditCheckpoint(event_count=2, last_event_id=event.id, last_event_hash=event.hash,
                                       key_id=key_id(checkpoint_key()), signature="0" * 64))
        db.session.commit()
        verdict = verify_chain()
        assert not verdict.intact and "invalid signature" in (verdict.problem or "")
        db.session.remove()
    assert hall(app, "verify-audit").exit_code == 1


def test_a_checkpoint_signed_with_another_key_is_noted_not_trusted(app: Flask) -> None:
    with app.app_context():
        append_events(2)
        take_checkpoint(verify_chain())
        db.session.commit()
        app.config["AUDIT_CHECKPOINT_KEY"] = "a rotated key"
        verdict = verify_chain()
        assert verdict.intact and verdict.checkpoints_matched == 0
        assert any("another key" in note for note in verdict.notes)
        db.session.remove()


# --- no checkpoint inside record_event -----------------------------------------------------------------------

def test_record_event_signs_no_checkpoint(app_context: Flask) -> None:
    """Since the trail has a stream per object, checkpoints (a root over every stream's head, a walk of the trail)
    are taken by ``flask hall audit-checkpoint`` only, never inside the transaction that records an event."""
    append_events(7)
    assert db.session.scalar(select(func.count()).select_from(AuditCheckpoint)) == 0
    assert verify_chain().checkpoints_matched == 0


# --- the exported file ----------------------------------------------------------------------------------------

def test_export_appends_json_lines_that_verify_against(app: Flask, tmp_path: Path, backend: str) -> None:
    exported = tmp_path / "offsite" / "audit-head.jsonl"
    with app.app_context():
        append_events(3)
        db.session.remove()
    checkpoint(app, "--export", str(exported))
    with app.app_context():
        append_events(2, prefix="later")
        db.session.remove()
    checkpoint(app, "--export", str(exported))
    lines = exported.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["event_count"] for line in lines] == [3, 5]
    with app.app_context():
        claims = read_exported_claims(exported)
        assert [c.event_count for c in claims] == [3, 5] and all(c.signature_matches(checkpoint_key()) for c in claims)
        db.session.remove()
    assert hall(app, "verify-audit", "--against", str(exported)).exit_code == 0

    # Someone who can also drop the table's triggers removes the newest events AND the checkpoints in the
    # database; the exported file still tells.
    delete_newest(app, backend, 3)
    with app.app_context():
        lift(backend, "audit_checkpoints", "delete")
        db.session.execute(text("DELETE FROM audit_checkpoints"))
        db.session.commit()
        db.session.remove()
    assert hall(app, "verify-audit").exit_code == 0  # the database alone no longer knows
    result = hall(app, "verify-audit", "--against", str(exported))
    assert result.exit_code == 1, result.output
    assert "TRUNCATED" in result.stderr and "audit-head.jsonl line 2" in result.stderr


def test_an_edited_export_line_is_refused(app: Flask, tmp_path: Path) -> None:
    exported = tmp_path / "head.jsonl"
    with app.app_context():
        append_events(2)
        db.session.remove()
    checkpoint(app, "--export", str(exported))
    data = json.loads(exported.read_text(encoding="utf-8"))
    data["event_count"] = 1  # make the record claim less than it signed
    exported.write_text(json.dumps(data) + "\n", encoding="utf-8")
    result = hall(app, "verify-audit", "--against", str(exported))
    assert result.exit_code == 1 and "invalid signature" in result.stderr
    exported.write_text("not json\n", encoding="utf-8")
    unreadable = hall(app, "verify-audit", "--against", str(exported))
    assert unreadable.exit_code != 0 and "not a checkpoint" in unreadable.output
    missing = hall(app, "verify-audit", "--against", str(tmp_path / "nowhere.jsonl"))
    assert missing.exit_code != 0 and "cannot be read" in missing.output


# --- the table is append-only -------------------------------------------------------------------------------

@pytest.mark.parametrize("statement", ["UPDATE audit_checkpoints SET event_count = 0",
                                       "DELETE FROM audit_checkpoints"])
def test_checkpoints_cannot_be_updated_or_deleted(app_context: Flask, statement: str) -> None:
    append_events(2)
    take_checkpoint(verify_chain())
    db.session.commit()
    with pytest.raises(DatabaseError) as excinfo:
        db.session.execute(text(statement))
        db.session.commit()
    assert "append-only" in str(excinfo.value)
    db.session.rollback()
    assert db.session.scalar(select(AuditCheckpoint.event_count)) == 2


def test_truncate_of_checkpoints_is_refused_on_postgresql(app_context: Flask, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("TRUNCATE exists on PostgreSQL only")
    take_checkpoint(verify_chain())
    db.session.commit()
    with pytest.raises(DatabaseError) as excinfo:
        db.session.execute(text("TRUNCATE audit_checkpoints"))
        db.session.commit()
    assert "append-only" in str(excinfo.value)
    db.session.rollback()


# --- the least-privilege role of the README -------------------------------------------------------------------

README_GRANTS = """
CREATE ROLE {role} LOGIN PASSWORD 'app-password' NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
GRANT CONNECT ON DATABASE "{database}" TO {role};
GRANT USAGE ON SCHEMA public TO {role};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};
REVOKE UPDATE, DELETE, TRUNCATE ON audit_events, audit_checkpoints, ledger_entries FROM {role};
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role};
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role};
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role};
"""


def test_the_app_role_cannot_delete_audit_rows_nor_drop_their_triggers(app: Flask, database_url: str,
                                                                        backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("database roles exist on PostgreSQL only")
    with app.app_context():
        append_events(2)
        take_checkpoint(verify_chain())
        db.session.commit()
        db.session.remove()
    url = make_url(database_url)
    role = f"hall_app_{url.database}"[-60:]
    owner = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with owner.connect() as conn:
            conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
            for statement in README_GRANTS.format(role=f'"{role}"', database=url.database).strip().splitlines():
                conn.execute(text(statement))
        app_engine = create_engine(url.set(username=role, password="app-password"))
        try:
            attempts = {
                "delete events": "DELETE FROM audit_events",
                "delete checkpoints": "DELETE FROM audit_checkpoints",
                "truncate": "TRUNCATE audit_events",
                "disable trigger": "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only",
                "drop trigger": "DROP TRIGGER audit_events_append_only ON audit_events",
                "drop table": "DROP TABLE audit_checkpoints",
            }
            for name, statement in attempts.items():
                with app_engine.connect() as conn, pytest.raises(DatabaseError) as excinfo:
                    conn.execute(text(statement))
                message = str(excinfo.value)
                assert "permission denied" in message or "must be owner" in message, (name, message)
            with app_engine.connect() as conn:  # and yet it does its job: read and append
                assert conn.execute(text("SELECT count(*) FROM audit_events")).scalar() == 2
                conn.execute(text("INSERT INTO readiness_probe (id, checked_at) VALUES (1, now())"))
                conn.rollback()
        finally:
            app_engine.dispose()
        with owner.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM audit_events")).scalar() == 2
            conn.execute(text(f'DROP OWNED BY "{role}"'))
            conn.execute(text(f'DROP ROLE "{role}"'))
    finally:
        owner.dispose()
    with app.app_context():
        assert verify_chain().intact
        db.session.remove()


def test_record_event_still_works_for_callers(app_context: Flask) -> None:
    """A rolled-back transaction takes its event away, and leaves the stream to start at seq 1 again."""
    record_event("test.rolled_back", "thing", 1)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditCheckpoint)) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0
    event = record_event("test.kept", "thing", 1)
    assert (event.stream, event.seq, event.prev_hash) == ("thing:1", 1, GENESIS_HASH)
