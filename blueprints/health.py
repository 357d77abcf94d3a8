"""Liveness and readiness probes; and the files of the API docs page (Swagger UI from a pinned package).

``/readyz`` answers 200 only when the database accepts a write now: it upserts the one row of
``readiness_probe`` in a transaction it always rolls back, on a connection of its own (never one of the request
pool, which busy workers may hold) with short timeouts (READINESS_TIMEOUT_MS): a database that is locked by a
writer, read-only, or unreachable answers 503 within about that time, not after the SQLite busy timeout or the
PostgreSQL lock timeout the requests use.
"""
from __future__ import annotations

import logging
import sqlite3
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.request import pathname2url

from flask import Blueprint, Flask, current_app, jsonify, send_from_directory
from flask.blueprints import BlueprintSetupState
from flask_babel import gettext as _
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool
from werkzeug.wrappers import Response

from hall.extensions import db
from hall.models import ReadinessProbe
from hall.models.types import utcnow
from hall.services.core.errors import NotFound

health = Blueprint("health", __name__)
log = logging.getLogger("hall.health")

_PROBE_ENGINE = "hall.readiness_engine"
_PROBE_ROW_ID = 1


@health.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    """The process is up."""
    return jsonify(status="ok")


@health.get("/readyz")
def readyz():  # type: ignore[no-untyped-def]
    """The database accepts a write within READINESS_TIMEOUT_MS; 503 when it does not."""
    problem = database_write_problem()
    if problem is not None:
        return jsonify(status="unavailable", database=problem), 503
    return jsonify(status="ok", database="ok")


def database_write_problem() -> str | None:
    """None when the database takes a (rolled back) write now; else "unreachable" or "not accepting writes"."""
    engine = _probe_engine(current_app._get_current_object())  # type: ignore[attr-defined]
    try:
        conn = engine.connect()
    except SQLAlchemyError as error:
        log.warning("readiness: cannot connect to the database (%s)", _cause(error))
        return "unreachable"
    try:
        with conn:
            conn.execute(_probe_write(engine.dialect.name))
            conn.rollback()
    except SQLAlchemyError as error:
        log.warning("readiness: the database does not accept a write (%s)", _cause(error))
        return "not accepting writes"
    return None


def _cause(error: SQLAlchemyError) -> str:
    """The driver's error class and first line (statements and parameters stay out of the log)."""
    cause = getattr(error, "orig", None) or error
    lines = str(cause).splitlines()
    return f"{type(cause).__name__}: {lines[0][:200] if lines else ''}"


def _probe_write(dialect: str) -> Any:
    """Insert the probe row, or update it if a committed one exists: the same row every time, so a writer holding
    it (or the whole database) makes the probe wait, up to its timeout."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite_dialect.insert
    now = utcnow()
    return insert(ReadinessProbe).values(id=_PROBE_ROW_ID, checked_at=now).on_conflict_do_update(
        index_elements=[ReadinessProbe.id], set_={"checked_at": now})


def _probe_engine(app: Flask) -> Engine:
    """The probe's own engine (no pool: a fresh connection per probe), made once per application."""
    engine = app.extensions.get(_PROBE_ENGINE)
    if engine is None:
        engine = make_probe_engine(db.engine.url, int(app.config["READINESS_TIMEOUT_MS"]))
        app.extensions[_PROBE_ENGINE] = engine
    return engine


def make_probe_engine(url: URL, timeout_ms: int) -> Engine:
    """An engine whose connections give up waiting for a lock after ``timeout_ms`` (SQLite: busy timeout, and
    BEGIN IMMEDIATE so the write lock is asked for at once; PostgreSQL: lock and statement timeouts)."""
    if url.get_backend_name() == "sqlite":
        path = url.database or ""

        def connect() -> sqlite3.Connection:
            # mode=rw: a missing database file is "unreachable", never silently created empty.
            return sqlite3.connect(f"file:{pathname2url(str(Path(path).resolve()))}?mode=rw", uri=True,
                                   timeout=timeout_ms / 1000, isolation_level=None, check_same_thread=False)

        engine = create_engine("sqlite://", creator=connect, poolclass=NullPool, hide_parameters=True)

        @event.listens_for(engine, "begin")
        def _begin_immediate(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    options = f"-c lock_timeout={timeout_ms} -c statement_timeout={2 * timeout_ms} -c timezone=UTC"
    return create_engine(url, poolclass=NullPool, hide_parameters=True,
                         connect_args={"options": options, "connect_timeout": 2, "application_name": "hall-readyz"})


# --- the API docs page's files ------------------------------------------------------------------------------

DOCS_ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "index.css",
                         "favicon-16x16.png", "favicon-32x32.png"})


def docs_assets_dir() -> Path:
    """Swagger UI's distribution files, as shipped by the pinned flask-swagger-ui package (requirements.txt)."""
    return Path(str(files("flask_swagger_ui") / "dist"))


def docs_asset(filename: str) -> Response:
    """One file of Swagger UI for /api/v1/docs (OPENAPI_SWAGGER_UI_URL points here): nothing from a CDN."""
    if filename not in DOCS_ASSETS:
        raise NotFound(_("No such file."))
    return send_from_directory(docs_assets_dir(), filename, max_age=3600)


@health.record_once
def _serve_docs_assets(state: BlueprintSetupState) -> None:
    # On flask-smorest's docs blueprint ("api-docs"), beside the page that uses them.
    prefix = str(state.app.config.get("OPENAPI_URL_PREFIX") or "/api/v1").rstrip("/")
    state.app.add_url_rule(f"{prefix}/docs/static/<path:filename>", endpoint="api-docs.swagger_ui_static",
                           view_func=docs_asset, methods=["GET"])
