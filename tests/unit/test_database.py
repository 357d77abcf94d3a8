"""Database setup (DB-01 for SQLite, DB-02 for PostgreSQL): connection settings that survive pooling, write
transactions that take the lock up front, and constraints the database itself enforces."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from hall.db import _sqlite_begin
from hall.extensions import db
from hall.models import Institution, User
from tests.support.factories import InstitutionFactory, UserFactory


@pytest.fixture
def sqlite_only(backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("DB-01 concerns SQLite")


@pytest.fixture
def postgresql_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("DB-02 concerns PostgreSQL")


@pytest.fixture
def engine(app: Flask) -> Engine:
    with app.app_context():
        return db.engine


@pytest.fixture
def begin_statements(engine: Engine) -> Iterator[list[str]]:
    """Every BEGIN statement the application's engine sends, in order."""
    seen: list[str] = []

    def capture(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.upper().startswith("BEGIN"):
            seen.append(statement.upper())

    event.listen(engine, "before_cursor_execute", capture)
    yield seen
    event.remove(engine, "before_cursor_execute", capture)


# --- DB-01: SQLite ------------------------------------------------------------------------------------------

@pytest.mark.usefixtures("sqlite_only")
def test_sqlite_pragmas_hold_on_a_pooled_connection(engine: Engine) -> None:
    with engine.connect() as conn:
        first = conn.connection.dbapi_connection
    with engine.connect() as conn:
        assert conn.connection.dbapi_connection is first  # the same connection, back from the pool

        def pragma(name: str) -> Any:
            return conn.exec_driver_sql(f"PRAGMA {name}").scalar()

        assert str(pragma("journal_mode")).lower() == "wal"
        assert pragma("busy_timeout") >= 5000
        assert pragma("foreign_keys") == 1
        assert pragma("synchronous") == 2  # FULL


@pytest.mark.usefixtures("sqlite_only")
def test_sqlite_pragmas_hold_on_a_fresh_connection_too(engine: Engine) -> None:
    engine.dispose()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_foreign_key_violation_is_refused(app_context: Flask) -> None:
    missing = (db.session.scalar(select(Institution.id).order_by(Institution.id.desc())) or 0) + 1000
    db.session.add(User(email="orphan@example.cn", display_name="孤儿", password_hash="x", locale="zh_CN",
                        status="active", institution_id=missing, institution_role="member"))
    with pytest.raises(IntegrityError) as excinfo:
        db.session.commit()
    assert "foreign key" in str(excinfo.value).lower()
    db.session.rollback()
    assert db.session.scalar(select(User).where(User.email == "orphan@example.cn")) is None


@pytest.mark.usefixtures("sqlite_only")
def test_concurrent_read_then_write_transactions_all_succeed(app: Flask) -> None:
    """Ten threads read the same row and then write it in one transaction: with BEGIN IMMEDIATE they queue on
    the write lock instead of failing with "database is locked", and no update is lost."""
    with app.app_context():
        user_id = UserFactory(display_name="n:").id
        db.session.commit()
        db.session.remove()
    workers = 10
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def read_then_write(n: int) -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                user = db.session.get(User, user_id)
                assert user is not None
                name = user.display_name
                time.sleep(0.02)  # give the others time to read the same row
                user.display_name = name + "abcdefghij"[n]
                db.session.commit()
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=read_then_write, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == [], [str(error) for error in errors]
    with app.app_context():
        final = db.session.get(User, user_id)
        assert final is not None
        assert final.display_name.startswith("n:")
        assert sorted(final.display_name[2:]) == list("abcdefghij")  # every write saw the one before it
        db.session.remove()


@pytest.mark.usefixtures("sqlite_only")
def test_reads_begin_deferred_and_writes_begin_immediate(client: FlaskClient,
                                                         begin_statements: list[str]) -> None:
    response = client.get("/api/v1/hall/taxonomy")
    assert response.status_code == 200
    assert begin_statements == ["BEGIN"]
    begin_statements.clear()
    response = client.post("/api/v1/auth/sign-in", json={"email": "nobody@example.cn",
                                                         "password": "not the password at all"})
    assert response.status_code == 401
    assert begin_statements and set(begin_statements) == {"BEGIN IMMEDIATE"}
    assert _sqlite_begin.get() == "BEGIN IMMEDIATE"  # the GET's choice did not leak out of its request


@pytest.mark.usefixtures("sqlite_only")
@pytest.mark.parametrize("method,expected", [("GET", "BEGIN"), ("HEAD", "BEGIN"), ("OPTIONS", "BEGIN"),
                                             ("POST", "BEGIN IMMEDIATE"), ("PATCH", "BEGIN IMMEDIATE"),
                                             ("DELETE", "BEGIN IMMEDIATE")])
def test_transaction_mode_follows_the_request_method(app: Flask, method: str, expected: str) -> None:
    with app.test_request_context("/healthz", method=method):
        assert app.preprocess_request() is None
        assert _sqlite_begin.get() == expected
    assert _sqlite_begin.get() == "BEGIN IMMEDIATE"


@pytest.mark.usefixtures("sqlite_only")
def test_a_read_request_is_not_blocked_by_an_open_write_transaction(client: FlaskClient,
                                                                    engine: Engine) -> None:
    with engine.connect() as writer:
        writer.execute(text("UPDATE users SET display_name = display_name"))  # holds the write lock
        started = time.monotonic()
        response = client.get("/api/v1/hall/taxonomy")
        elapsed = time.monotonic() - started
        writer.rollback()
    assert response.status_code == 200, response.get_json()
    assert elapsed < 2, f"the reader waited {elapsed:.1f}s for the writer"


# --- DB-02: PostgreSQL --------------------------------------------------------------------------------------

@pytest.mark.usefixtures("postgresql_only")
@pytest.mark.parametrize("setting,expected", [("lock_timeout", "5s"), ("statement_timeout", "30s"),
                                              ("TimeZone", "UTC"), ("application_name", "hall"),
                                              ("idle_in_transaction_session_timeout", "1min")])
def test_postgresql_session_settings(app_context: Flask, setting: str, expected: str) -> None:
    assert db.session.execute(text(f"SHOW {setting}")).scalar() == expected


@pytest.mark.usefixtures("postgresql_only")
def test_postgresql_pool_pre_pings(engine: Engine) -> None:
    assert engine.pool._pre_ping is True


@pytest.mark.usefixtures("postgresql_only")
def test_a_connection_killed_by_the_server_is_replaced(app_context: Flask, database_url: str) -> None:
    """The first query after a server restart (here: the pooled backend terminated) still succeeds."""
    first_pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
    db.session.commit()  # the connection goes back to the pool
    killer = create_engine(database_url)
    try:
        with killer.connect() as conn:
            terminate = text("SELECT pg_terminate_backend(:pid)")
            assert conn.execute(terminate, {"pid": first_pid}).scalar() is True
    finally:
        killer.dispose()
    second_pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
    assert second_pid != first_pid


@pytest.mark.usefixtures("postgresql_only")
def test_postgresql_lock_timeout_ends_a_wait_for_a_row_lock(app: Flask, engine: Engine) -> None:
    with app.app_context():
        user_id = UserFactory().id
        db.session.commit()
        db.session.remove()
    with engine.connect() as holder, engine.connect() as waiter:
        holder.execute(text("SELECT id FROM users WHERE id = :id FOR UPDATE"), {"id": user_id})
        started = time.monotonic()
        with pytest.raises(OperationalError) as excinfo:
            waiter.execute(text("UPDATE users SET display_name = 'x' WHERE id = :id"), {"id": user_id})
        elapsed = time.monotonic() - started
        waiter.rollback()
        holder.rollback()
    assert "lock timeout" in str(excinfo.value).lower()
    assert 4 <= elapsed < 15


# --- constraints the database enforces (both backends; DB-02) -----------------------------------------------

@pytest.mark.parametrize("make,constraint", [
    (lambda: InstitutionFactory(kind="castle"), "ck_institutions_kind"),
    (lambda: InstitutionFactory(verification_status="approved"), "ck_institutions_verification_status"),
    (lambda: InstitutionFactory(credit_code="91110108000000001"), "ck_institutions_credit_code_length"),
    (lambda: UserFactory(email="Wang.Wei@Example.cn"), "ck_users_email_lower_case"),
    (lambda: UserFactory(status="deleted"), "ck_users_status"),
    (lambda: UserFactory(institution_role="member"), "ck_users_membership_complete"),
], ids=["institution-kind", "verification-status", "credit-code-length", "email-capitals", "user-status",
        "role-without-institution"])
def test_check_constraints_refuse_bad_rows(app_context: Flask, make: Any, constraint: str) -> None:
    with pytest.raises(IntegrityError) as excinfo:
        make()
    assert constraint in str(excinfo.value)
    db.session.rollback()
    assert db.session.scalar(select(Institution.id)) is None and db.session.scalar(select(User.id)) is None


def test_unique_constraints_refuse_duplicates(app_context: Flask) -> None:
    org = InstitutionFactory()
    UserFactory(email="same@example.cn")
    db.session.commit()
    with pytest.raises(IntegrityError):
        InstitutionFactory(credit_code=org.credit_code)
    db.session.rollback()
    with pytest.raises(IntegrityError):
        UserFactory(email="same@example.cn")
    db.session.rollback()
    assert len(db.session.scalars(select(User)).all()) == 1


def test_the_request_commits_what_a_view_added_even_if_nothing_was_sent_yet(app: Flask) -> None:
    """The request's commit is skipped only when nothing began and nothing waits to be written: an object a view
    added without a flush (no statement sent yet) is still written."""
    from hall.models import HallState

    @app.get("/test-adds-without-flush")
    def adds_without_flush() -> dict[str, bool]:
        db.session.add(HallState(id=1, version=41, token="t" * 32))
        return {"added": True}

    answer = app.test_client().get("/test-adds-without-flush")
    assert answer.status_code == 200
    with app.app_context():
        assert db.session.get(HallState, 1).version == 41  # type: ignore[union-attr]
