"""``/readyz`` (issue 9, item 8c): ready means the database accepts a write now. It writes (and rolls back) on a
connection of its own with short timeouts, so a locked or read-only database answers 503 at once instead of
200, and busy workers holding every pooled connection do not make the probe wait."""
from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from hall.db import engine_options
from hall.extensions import db
from hall.models import ReadinessProbe
from tests.conftest import make_app

# Far longer than any test may take: if /readyz waited on these (the requests' own lock timeouts), the request
# thread would still be waiting when the test gives up on it.
PATIENT = {"SQLITE_BUSY_TIMEOUT_MS": 600_000, "PG_LOCK_TIMEOUT_MS": 600_000, "PG_STATEMENT_TIMEOUT_MS": 600_000}
HANG_GUARD_SECONDS = 60


@pytest.fixture
def patient_app(database_url: str) -> Iterator[Flask]:
    """The app with request connections that would wait ten minutes for a lock, and a pool of one."""
    options = engine_options(make_url(database_url).render_as_string(hide_password=False), PATIENT)
    options.update(pool_size=1, max_overflow=0, pool_timeout=600)
    application = make_app(database_url, SQLALCHEMY_ENGINE_OPTIONS=options, **PATIENT)
    yield application
    with application.app_context():
        db.engine.dispose()


def readyz(app: Flask) -> tuple[int, dict[str, Any]]:
    """GET /readyz in a thread of its own, so that a probe that hangs fails the test instead of stalling it."""
    answer: dict[str, Any] = {}

    def call() -> None:
        response = app.test_client().get("/readyz")
        answer.update(status=response.status_code, body=response.get_json())

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(timeout=HANG_GUARD_SECONDS)
    assert not thread.is_alive(), "/readyz waited on the lock instead of answering"
    return answer["status"], answer["body"]


def probe_rows(app: Flask) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(ReadinessProbe)) or 0
        db.session.remove()
    return count


def test_ready_when_the_database_takes_a_write_and_nothing_is_kept(patient_app: Flask) -> None:
    assert readyz(patient_app) == (200, {"status": "ok", "database": "ok"})
    assert readyz(patient_app)[0] == 200
    assert probe_rows(patient_app) == 0  # the probe's write is always rolled back


def test_a_held_sqlite_write_lock_answers_503(patient_app: Flask, database_url: str, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("the SQLite write lock")
    writer = sqlite3.connect(make_url(database_url).database or "", isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # another process is writing (or stuck while writing)
        status, body = readyz(patient_app)
        assert status == 503, body
        assert body == {"status": "unavailable", "database": "not accepting writes"}
        assert patient_app.test_client().get("/healthz").status_code == 200  # alive, just not ready
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert readyz(patient_app)[0] == 200


@pytest.mark.parametrize("holding", ["the probe row", "the probe table"])
def test_a_lock_held_by_another_connection_answers_503(patient_app: Flask, database_url: str, backend: str,
                                                       holding: str) -> None:
    if backend != "postgresql":
        pytest.skip("PostgreSQL row and table locks")
    other = create_engine(database_url)
    try:
        with other.connect() as conn:
            if holding == "the probe row":
                conn.execute(text("INSERT INTO readiness_probe (id, checked_at) VALUES (1, now())"))
            else:
                conn.execute(text("LOCK TABLE readiness_probe IN ACCESS EXCLUSIVE MODE"))
            status, body = readyz(patient_app)
            conn.rollback()
        assert status == 503, body
        assert body == {"status": "unavailable", "database": "not accepting writes"}
        assert readyz(patient_app)[0] == 200
    finally:
        other.dispose()


def test_a_read_only_database_answers_503(patient_app: Flask, database_url: str, backend: str) -> None:
    """Reads work (SELECT 1 answers), writes do not: not ready."""
    if backend != "postgresql":
        pytest.skip("a read-only PostgreSQL database")
    url = make_url(database_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{url.database}" SET default_transaction_read_only = on'))
        with patient_app.app_context():
            db.engine.dispose()  # new connections take the setting
            assert db.session.execute(text("SELECT 1")).scalar() == 1
            db.session.remove()
        status, body = readyz(patient_app)
        assert status == 503 and body["database"] == "not accepting writes"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{url.database}" RESET default_transaction_read_only'))
        admin.dispose()


def test_busy_workers_holding_every_pooled_connection_do_not_delay_the_probe(patient_app: Flask) -> None:
    with patient_app.app_context():
        held = db.engine.connect()  # the pool has one connection: a busy request holds it
        try:
            status, body = readyz(patient_app)
        finally:
            held.close()
    assert status == 200, body
