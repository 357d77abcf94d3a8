"""Flask-Limiter's before-request check is taken out when there is nothing for it to check (no application,
default, meta or blueprint limits): it cost about a fifth of a cached hall read (issue 14). The routes' own limits
are checked by their decorators and still answer 429; configure an application-wide limit and the check stays."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from hall.extensions import limiter
from tests.support.orders import app_with


@pytest.fixture
def restore_limiter() -> Iterator[None]:
    """The limiter is one object for every app of the process: take a test's application limits off again."""
    yield
    limiter.limit_manager.set_application_limits([])


def test_without_application_limits_the_check_is_not_run_yet_route_limits_hold(database_url: str) -> None:
    with app_with(database_url, DIRECTORY_LIMIT="2 per minute") as app:
        assert limiter._check_request_limit not in app.before_request_funcs[None]
        client = app.test_client()
        statuses = [client.get("/api/v1/hall/directory").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_an_application_limit_keeps_the_check(database_url: str, restore_limiter: None) -> None:
    with app_with(database_url, RATELIMIT_APPLICATION="2 per minute") as app:
        assert limiter._check_request_limit in app.before_request_funcs[None]
        client = app.test_client()
        statuses = [client.get("/api/v1/hall/taxonomy").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
