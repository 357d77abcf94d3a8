"""Migrations: ``flask db upgrade`` reaches the single head, the models and the migrations describe the same
schema on the backend under test, and the history can be walked down to nothing and up again."""
from __future__ import annotations

import io
from pathlib import Path

import alembic.command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DatabaseError

from hall.db import include_in_autogenerate
from hall.extensions import db
from hall.services.core.audit import record_event, verify_chain

ROOT = Path(__file__).resolve().parents[2]
SEARCH_TABLES = ("hall_fts", "demand_fts")  # FTS5 tables and their shadow tables, made by hand


def script_directory(app: Flask) -> ScriptDirectory:
    config = app.extensions["migrate"].migrate.get_config()
    return ScriptDirectory.from_config(config)


def user_objects(conn: Connection) -> list[str]:
    """Everything in the database apart from Alembic's own bookkeeping."""
    if conn.dialect.name == "sqlite":
        rows = conn.execute(text("SELECT type, name FROM sqlite_master WHERE tbl_name != 'alembic_version' "
                                 "AND name NOT LIKE 'sqlite_%'"))
        return sorted(f"{kind} {name}" for kind, name in rows)
    rows = conn.execute(text(
        "SELECT 'relation ' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relname NOT IN ('alembic_version', 'alembic_version_pkc') "
        "UNION ALL SELECT 'function ' || p.proname FROM pg_proc p "
        "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' "
        "UNION ALL SELECT 'trigger ' || t.tgname FROM pg_trigger t WHERE NOT t.tgisinternal"))
    return sorted(row[0] for row in rows)


def test_migrations_form_one_line_of_history(app: Flask) -> None:
    with app.app_context():
        script = script_directory(app)
        heads = script.get_heads()
        assert len(heads) == 1, f"several heads: {heads}"
        files = sorted(p for p in (ROOT / "migrations" / "versions").glob("*.py"))
        assert len(list(script.walk_revisions())) == len(files)  # no file is left off the line


def test_upgrade_reaches_the_head(app: Flask) -> None:
    with app.app_context():
        heads = script_directory(app).get_heads()
        with db.engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
            assert versions == list(heads)
            assert MigrationContext.configure(conn).get_current_heads() == tuple(heads)


def alembic_says(app: Flask, command_name: str) -> str:
    """What ``flask db <command_name>`` prints (the same Alembic command, with its output kept)."""
    config = app.extensions["migrate"].migrate.get_config()
    config.stdout = io.StringIO()
    getattr(alembic.command, command_name)(config)
    return config.stdout.getvalue()


def test_flask_db_heads_and_current_agree(app: Flask) -> None:
    with app.app_context():
        heads = alembic_says(app, "heads")
        current = alembic_says(app, "current")
        expected = script_directory(app).get_heads()
    assert heads.split() == [expected[0], "(head)"]
    assert current.split() == [expected[0], "(head)"]


def test_models_and_migrations_agree(app: Flask) -> None:
    with app.app_context(), db.engine.connect() as conn:
        options = {"compare_type": True, "compare_server_default": True,
                   "include_object": include_in_autogenerate}
        context = MigrationContext.configure(conn, opts=options)
        differences = compare_metadata(context, db.metadata)
    assert differences == [], "the models differ from what the migrations build; run `flask db migrate`"


def test_flask_db_check_finds_nothing_to_generate(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output  # 1 when autogenerate would write operations


def test_every_model_table_is_created(app: Flask) -> None:
    with app.app_context():
        tables = {name for name in inspect(db.engine).get_table_names() if not name.startswith(SEARCH_TABLES)}
    assert tables == set(db.metadata.tables) | {"alembic_version"}


def test_downgrade_to_base_and_upgrade_again(app: Flask) -> None:
    with app.app_context():
        downgrade(revision="base")
        db.engine.dispose()
        inspector = inspect(db.engine)
        assert set(inspector.get_table_names()) <= {"alembic_version"}
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 0

        upgrade()
        upgrade()  # already at head: nothing to do, no error
        db.engine.dispose()
        tables = {name for name in inspect(db.engine).get_table_names() if not name.startswith(SEARCH_TABLES)}
        assert tables == set(db.metadata.tables) | {"alembic_version"}
        with db.engine.connect() as conn:
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        assert (version,) == tuple(script_directory(app).get_heads())

        # The rebuilt schema works and is as strict as before: the audit trail is append-only again.
        record_event("test.after_round_trip", "thing", 1)
        db.session.commit()
        assert verify_chain().intact
        try:
            db.session.execute(text("DELETE FROM audit_events"))
            db.session.commit()
        except DatabaseError as error:
            assert "append-only" in str(error)
        else:
            raise AssertionError("the append-only trigger did not come back with the upgrade")
        finally:
            db.session.rollback()
            db.session.remove()


def test_downgrade_to_base_leaves_nothing_behind(app: Flask) -> None:
    with app.app_context():
        with db.engine.connect() as conn:
            assert user_objects(conn)  # the upgraded schema has tables, indexes and triggers
        downgrade(revision="base")
        db.engine.dispose()
        with db.engine.connect() as conn:
            leftovers = user_objects(conn)
    assert leftovers == [], f"downgrade to base left these behind: {leftovers}"
