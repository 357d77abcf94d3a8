"""Fixtures shared by the concurrency tests: ``race_app``, the app with a connection pool for every racer."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from hall.extensions import db
from tests.support.races import pooled_app


@pytest.fixture
def race_app(database_url: str) -> Iterator[Flask]:
    """The testing app with a connection pool big enough for every racer to hold its own connection at once."""
    application = pooled_app(database_url)
    yield application
    with application.app_context():
        db.engine.dispose()
