"""The application served over real HTTP on 127.0.0.1, for the tests that need a real server: the browser tests
(Playwright's Chromium) and the Stripe integration tests (localstripe's webhooks). Each conftest keeps its own
fixture and configuration and builds it on ``serve``.

The server is werkzeug's threaded WSGI server (the browser may open several connections at once) on a free port
chosen by the kernel. ``make_server`` binds and listens before it returns, so the server accepts connections as
soon as ``serve`` yields: there is nothing to poll. On the way out the server stops, its socket closes, its thread
is joined (bounded) and the app's engine is disposed, so the test's database can be dropped.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from hall.extensions import db

HOST = "127.0.0.1"  # loopback only: never every interface
POLL_INTERVAL_S = 0.1  # how often serve_forever notices a shutdown request
JOIN_TIMEOUT_S = 10  # only a safety net against a hung server thread


@dataclass
class LiveServer:
    """The application served on 127.0.0.1 in a background thread."""

    app: Flask
    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server.server_port}"


@contextmanager
def serve(app: Flask, name: str = "live-server") -> Iterator[LiveServer]:
    """Serve ``app`` on a free port of 127.0.0.1 in a daemon thread called ``name`` until the block ends; then stop
    the server, join the thread and dispose of the app's engine."""
    server = make_server(HOST, 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": POLL_INTERVAL_S}, name=name,
                              daemon=True)
    thread.start()
    try:
        yield LiveServer(app, server, thread)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=JOIN_TIMEOUT_S)
        with app.app_context():
            db.engine.dispose()
