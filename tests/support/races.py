"""Racing threads for the concurrency tests: every racer runs in its own thread (and so its own application
context, session and database connection) and waits on a shared barrier right before its racing step; the app's
connection pool is big enough for all of them to hold a connection at once."""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from hall.config import load_settings
from hall.db import engine_options
from hall.extensions import db
from tests.conftest import make_app
from tests.support.factories import InstitutionFactory, UserFactory, sign_in

THREADS = 20
JOIN_TIMEOUT = 120  # seconds: only a safety net against a hung thread, never a measured property


def pooled_app(database_url: str) -> Flask:
    """The testing app with a connection pool big enough for every racer to hold its own connection at once."""
    settings = load_settings({"HALL_ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_url})
    options = {**engine_options(settings["SQLALCHEMY_DATABASE_URI"], settings),
               "pool_size": THREADS + 5, "max_overflow": 5}
    return make_app(database_url, SQLALCHEMY_ENGINE_OPTIONS=options)


def run_together(workers: list[Callable[[threading.Barrier], Any]]) -> list[Any]:
    """Run each worker in its own thread; each waits on the shared barrier right before its racing step.

    Returns what each worker returned; a worker that raised fails the test."""
    barrier = threading.Barrier(len(workers))
    results: list[Any] = [None] * len(workers)

    def run(index: int) -> None:
        try:
            results[index] = workers[index](barrier)
        except BaseException as error:  # reported by the caller's assertions
            barrier.abort()
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,), name=f"racer-{i}") for i in range(len(workers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=JOIN_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a racer hung"
    errors = [result for result in results if isinstance(result, BaseException)]
    assert not errors, errors
    return results


def api_post(client: FlaskClient, path: str, body: dict[str, Any],
             headers: dict[str, str]) -> Callable[[threading.Barrier], tuple[int, Any, dict[str, str]]]:
    """A racer that POSTs ``body`` once the barrier opens: (status, JSON body, headers)."""
    def work(barrier: threading.Barrier) -> tuple[int, Any, dict[str, str]]:
        barrier.wait(timeout=30)
        response = client.post(path, json=body, headers=headers)
        return response.status_code, response.get_json(), dict(response.headers)
    return work


def make_buyers(count: int) -> list[str]:
    """``count`` verified buyer institutions, each with its own owner; their e-mails (committed)."""
    owners = [UserFactory(institution=InstitutionFactory(), institution_role="owner") for _ in range(count)]
    db.session.commit()
    return [owner.email for owner in owners]


def signed_in_clients(app: Flask, emails: list[str]) -> list[tuple[FlaskClient, dict[str, str]]]:
    """One test client per e-mail, signed in: (client, headers carrying its CSRF token)."""
    clients = []
    for email in emails:
        client = app.test_client()
        clients.append((client, {"X-CSRFToken": sign_in(client, email)}))
    return clients
