"""Fixtures shared by several API test modules: the uploading ``owner`` and the trading ``market``. A module that
needs another one defines its own fixture of the same name, which takes precedence."""
from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from tests.support.api_language import EnglishApiClient
from tests.support.factories import make_people
from tests.support.listings import Owner
from tests.support.orders import Market, open_market


@pytest.fixture
def owner(app: Flask, tmp_path: Path) -> Owner:
    """The owner of a verified institution, with uploads going to this test's own directory."""
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    with app.app_context():
        people = make_people()
    return Owner(app, people["owner"])


@pytest.fixture
def market(app: Flask) -> Market:
    """Committed parties, a product with 5 units, a fixed-price and a negotiable achievement; everyone signed in."""
    return open_market(app)


@pytest.fixture(autouse=True)
def _clients_ask_for_english(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test client of these tests, whichever app made it, asks for English (tests.support.api_language)."""
    monkeypatch.setattr(Flask, "test_client_class", EnglishApiClient)
