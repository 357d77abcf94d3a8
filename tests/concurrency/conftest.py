"""Fixtures shared by the concurrency tests: ``race_app``, the app with a connection pool for every racer."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from hall.extensions import db
from tests.support.api_language import EnglishApiClient
from tests.support.races import pooled_app


@pytest.fixture
def race_app(database_url: str) -> Iterator[Flask]:
    """The testing app with a connection pool big enough for every racer to hold its own connection at once."""
    application = pooled_app(database_url)
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clients_ask_for_english(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test client of these tests, whichever app made it, asks for English (tests.support.api_language)."""
    monkeypatch.setattr(Flask, "test_client_class", EnglishApiClient)
