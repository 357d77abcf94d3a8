"""Fixtures: a fresh, migrated database per test (a copied SQLite file, or a PostgreSQL database cloned from a
migrated template when TEST_DATABASE_URL is set), the app bound to it, and a test client."""
from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from hall import create_app
from hall.extensions import db

# The shared helpers assert too (tests/support/): pytest explains their failures as it does a test module's.
pytest.register_assert_rewrite("tests.support")

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``postgres_only`` are skipped on SQLite (without TEST_DATABASE_URL), with the reason."""
    if TEST_DATABASE_URL:
        return
    skip = pytest.mark.skip(reason="PostgreSQL only: set TEST_DATABASE_URL")
    for item in items:
        if item.get_closest_marker("postgres_only") is not None:
            item.add_marker(skip)


class TestDatabases:
    """Makes one fresh, fully migrated database per test; the schema is built once by ``flask db upgrade``."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.counter = itertools.count()
        self.backend = "postgresql" if TEST_DATABASE_URL else "sqlite"
        if self.backend == "postgresql":
            url = make_url(TEST_DATABASE_URL).set(drivername="postgresql+psycopg")
            self.server_url = url.set(database="postgres")
            self.prefix = f"{url.database or 'hall_test'}_{os.getpid()}"
            self.template = f"{self.prefix}_tpl"
            self.admin = create_engine(self.server_url, isolation_level="AUTOCOMMIT")
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{self.template}"'))
            self.template_url = self.server_url.set(database=self.template).render_as_string(hide_password=False)
        else:
            self.template_path = workdir / "template.sqlite"
            self.template_url = f"sqlite:///{self.template_path}"
        migrate_to_head(self.template_url)

    def create(self) -> tuple[str, str]:
        """A new database cloned from the template: (url, name)."""
        n = next(self.counter)
        if self.backend == "postgresql":
            name = f"{self.prefix}_{n}"
            with self.admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
            return self.server_url.set(database=name).render_as_string(hide_password=False), name
        path = self.workdir / f"test_{n}.sqlite"
        shutil.copyfile(self.template_path, path)
        return f"sqlite:///{path}", str(path)

    def drop(self, name: str) -> None:
        """Remove a database made by ``create``."""
        if self.backend == "postgresql":
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(name + suffix).unlink(missing_ok=True)

    def close(self) -> None:
        """Drop the template."""
        if self.backend == "postgresql":
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)'))
            self.admin.dispose()


def make_app(database_url: str, **overrides: object) -> Flask:
    """The application under the testing config, bound to ``database_url``."""
    return create_app({"HALL_ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_url, **overrides})


def migrate_to_head(database_url: str) -> None:
    """Run ``flask db upgrade`` against ``database_url`` (as the README's setup does)."""
    app = make_app(database_url)
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def test_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestDatabases]:
    databases = TestDatabases(tmp_path_factory.mktemp("databases"))
    yield databases
    databases.close()


@pytest.fixture
def database_url(test_databases: TestDatabases) -> Iterator[str]:
    """A fresh migrated database for this test only."""
    url, name = test_databases.create()
    yield url
    test_databases.drop(name)


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    application = make_app(database_url)
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def app_context(app: Flask) -> Iterator[Flask]:
    """For service-level tests: an application context whose db.session talks to this test's database."""
    with app.app_context():
        yield app
        db.session.rollback()
        db.session.remove()


@pytest.fixture
def backend(test_databases: TestDatabases) -> str:
    """'sqlite' or 'postgresql'."""
    return test_databases.backend
