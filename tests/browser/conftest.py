"""Fixtures for the browser tests: the app served over real HTTP on 127.0.0.1 (tests/support/live_server.py),
Debian's Chromium driven through Playwright's sync API (not pytest-playwright: its plugin raises a deprecation
warning under pytest 9.2, and warnings are errors here), a fresh browser context per test, and a ``requests``
session for the API side of a story."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_app
from tests.support.http_session import ApiSession
from tests.support.live_server import LiveServer, serve
from tests.support.screens import browser_page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture
def live_server(database_url: str) -> Iterator[LiveServer]:
    """The app on this test's fresh database, on a free port of 127.0.0.1 (threaded: the browser may open
    several connections at once). Use ``live_server.app.app_context()`` to read or seed the same database."""
    with serve(make_app(database_url), name="live-server") as server:
        yield server


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One headless Chromium for the whole session (Debian's, never a downloaded one)."""
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium "
                    "fonts-wqy-microhei); CI installs it")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
                                             timeout=30_000)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


@pytest.fixture
def page(chromium: Any, live_server: LiveServer) -> Iterator[Any]:
    """A fresh browser context (no cookies) whose relative URLs go to the live server; Chinese is the browser's
    language, as for the platform's users. Closed before the server stops."""
    with browser_page(chromium, live_server.url) as page:
        yield page


@pytest.fixture
def api(live_server: LiveServer) -> Iterator[ApiSession]:
    """Real HTTP to the live server; closed before the server stops."""
    client = ApiSession(live_server.url)
    try:
        yield client
    finally:
        client.close()
