"""Recent anonymous hall answers served in front of Flask (issue 14, ``hall.recent_answers``): within
HALL_VERSION_FRESH_WITHIN of the version or stamp they came from, the same answer (and 304 for its ETag) without
running Flask; never for a caller with a cookie or credentials, never a refused request, never past the window, the
max-age period or a commit of this process, and not at all where application-wide rate limits must count every
request or the window is 0."""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

from flask import Flask, request_started
from sqlalchemy import create_engine, text

from hall import recent_answers
from hall.extensions import limiter
from hall.recent_answers import RecentAnswers
from tests.support.factories import make_people
from tests.support.listing_data import achievement
from tests.support.listings import Owner, admin_decides
from tests.support.orders import app_with

SEARCH = "/api/v1/hall/listings?q=固态电池&sort=newest"


@contextmanager
def flask_runs(app: Flask) -> Iterator[list[str]]:
    """The paths of the requests Flask itself dispatched inside the block."""
    seen: list[str] = []

    def record(_sender: Any, **_extra: Any) -> None:
        from flask import request

        seen.append(request.full_path)

    request_started.connect(record, app)
    try:
        yield seen
    finally:
        request_started.disconnect(record, app)


def published(app: Flask, **body: Any) -> int:
    with app.app_context():
        people = make_people()
    owner = Owner(app, people["owner"])
    listing_id = owner.post("/api/v1/listings", achievement(**body)).get_json()["id"]
    assert owner.post(f"/api/v1/listings/{listing_id}/submit").status_code == 200
    admin_decides(app, listing_id, "approve")
    return listing_id


def test_a_recent_answer_is_given_again_without_flask(database_url: str) -> None:
    with app_with(database_url, HALL_VERSION_FRESH_WITHIN=3600.0) as app:
        assert isinstance(app.wsgi_app, RecentAnswers)
        listing_id = published(app)
        client = app.test_client()
        for path in (SEARCH, f"/api/v1/hall/listings/{listing_id}", "/api/v1/hall/listings"):
            with flask_runs(app) as runs:
                first = client.get(path, headers={"X-Request-ID": "first-request-1"})
                again = client.get(path)
                conditional = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
            assert len(runs) == 1, (path, runs)  # the first only
            assert first.status_code == again.status_code == 200 and again.data == first.data
            for name in ("ETag", "Cache-Control", "Vary", "Content-Type", "Content-Security-Policy",
                         "X-Content-Type-Options"):
                assert again.headers[name] == first.headers[name], name
            assert first.headers["X-Request-ID"] == "first-request-1"
            assert again.headers["X-Request-ID"] not in ("", "first-request-1")  # its own
            assert conditional.status_code == 304 and conditional.data == b""
            assert conditional.headers["ETag"] == first.headers["ETag"]

        newest = "/api/v1/hall/listings?sort=newest"
        with_cookie = app.test_client()
        with_cookie.set_cookie("consent", "1")
        etag = with_cookie.get(newest).headers["ETag"]  # through Flask, not kept in front of it
        with flask_runs(app) as runs:  # callers that only ever ask conditionally: Flask once, then 304s here
            answers = [client.get(newest, headers={"If-None-Match": etag}) for _ in range(3)]
        assert [a.status_code for a in answers] == [304, 304, 304] and len(runs) == 1
        assert all(a.headers["ETag"] == etag and a.data == b"" for a in answers)

        with flask_runs(app) as runs:  # another language is another answer
            chinese = client.get(SEARCH, headers={"Accept-Language": "zh-CN"})
            client.get(SEARCH, headers={"Accept-Language": "zh-CN"})
        assert chinese.status_code == 200 and len(runs) == 1 and chinese.data != first.data


def test_callers_with_a_cookie_or_credentials_and_refused_requests_go_to_flask(database_url: str) -> None:
    with app_with(database_url, HALL_VERSION_FRESH_WITHIN=3600.0) as app:
        published(app)
        client = app.test_client()
        assert client.get(SEARCH).status_code == 200
        with_cookie = app.test_client()
        with_cookie.set_cookie("lang", "en")
        with flask_runs(app) as runs:
            assert with_cookie.get(SEARCH).status_code == 200
            assert client.get(SEARCH, headers={"Authorization": "Bearer nothing"}).status_code in (200, 401)
            for _ in range(2):
                assert client.get("/api/v1/hall/listings?q=a%00b").status_code == 400
                assert client.get("/api/v1/hall/listings?trl_min=eleven").status_code == 422
                assert client.get("/api/v1/hall/listings/999999").status_code == 404
        assert len(runs) == 8, runs


def test_an_answer_holds_no_longer_than_its_window_its_period_or_a_commit_here(database_url: str,
                                                                             monkeypatch: Any) -> None:
    with app_with(database_url, HALL_VERSION_FRESH_WITHIN=0.3) as app:
        published(app)
        client = app.test_client()
        before = client.get(SEARCH)
        other_process = create_engine(database_url)
        with other_process.begin() as conn:  # another worker's publish
            conn.execute(text("UPDATE hall_state SET version = version + 1 WHERE id = 1"))
        other_process.dispose()
        assert client.get(SEARCH).headers["ETag"] == before.headers["ETag"]  # within the window: as it was
        time.sleep(0.35)
        with flask_runs(app) as runs:
            after = client.get(SEARCH)
        assert runs and after.headers["ETag"] != before.headers["ETag"]

    with app_with(database_url, HALL_VERSION_FRESH_WITHIN=3600.0) as app:
        client = app.test_client()
        first = client.get(SEARCH)
        later = SimpleNamespace(monotonic=time.monotonic, time=lambda: time.time() + 61)  # the next max-age period
        monkeypatch.setattr(recent_answers, "time", later)
        with flask_runs(app) as runs:
            assert client.get(SEARCH).status_code == 200
        assert len(runs) == 1
        monkeypatch.undo()

        published(app, title_zh="固态电池隔膜材料")  # committed in this process: shows at once
        with flask_runs(app) as runs:
            answer = client.get(SEARCH)
        assert runs and answer.get_json()["total"] == 2 and answer.headers["ETag"] != first.headers["ETag"]


def test_not_installed_under_application_wide_limits_and_idle_without_a_window(database_url: str) -> None:
    try:
        with app_with(database_url, RATELIMIT_DEFAULT="1000 per minute") as app:
            assert not isinstance(app.wsgi_app, RecentAnswers)
    finally:  # the limiter is one object for every app of the process: take the default limits off again
        limiter.limit_manager.set_default_limits([])
    with app_with(database_url) as app:
        assert isinstance(app.wsgi_app, RecentAnswers)
    with app_with(database_url, HALL_VERSION_FRESH_WITHIN=0.0) as app:
        published(app)
        client = app.test_client()
        with flask_runs(app) as runs:
            for _ in range(3):
                assert client.get(SEARCH).status_code == 200
        assert len(runs) == 3
