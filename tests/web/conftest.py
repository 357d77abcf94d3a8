"""Fixtures for the admin console's tests: a platform admin, a browser signed in to the console as that admin, and a
signed-in person who is not an admin. The helpers (HTML form parsing, console sign-in, listings in the states a
reviewer meets) are in tests/support/console.py."""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.console import Member, admin_client_for, make_admin, signed_in_member


@pytest.fixture
def admin(app: Flask) -> dict[str, Any]:
    """A platform admin (id, email) whose console language is the default."""
    return make_admin(app)


@pytest.fixture
def admin_client(app: Flask, admin: dict[str, Any]) -> FlaskClient:
    """A browser signed in to the console through its form as ``admin``."""
    return admin_client_for(app, admin["email"])


@pytest.fixture
def member(app: Flask) -> Member:
    """A signed-in person who is not a platform admin."""
    return signed_in_member(app)
