"""Fixtures for the Stripe integration tests: one localstripe server for the whole session (its aiohttp app served on
127.0.0.1 by a subprocess, never its own ``localstripe`` command, which listens on every interface), cleared before
each test, and our app served on 127.0.0.1 with its Stripe gateway pointed at localstripe and localstripe's webhook
pointed back at it.

localstripe pickles its whole store after every write to the fixed file /tmp/localstripe.pickle. The subprocess
writes it to this session's temporary directory instead (and never loads it), so two sessions cannot share state.
If localstripe cannot start, every test here fails: CI installs it from requirements-dev.txt.
"""
from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests
import stripe

from hall.payments import EXTENSION_KEY
from hall.payments.stripe_gateway import StripeGateway
from tests.conftest import make_app
from tests.support.http_session import HTTP_TIMEOUT_S, ApiSession
from tests.support.live_server import LiveServer, serve

SECRET_KEY = "sk_test_hall_localstripe"
WEBHOOK_SECRET = "whsec_hall_localstripe"
WEBHOOK_PATH = "/api/v1/payments/stripe/webhook"
WEBHOOK_ID = "hall"  # localstripe keeps webhooks by id; DELETE /_config/data does not remove them
WEBHOOK_DELAY_S = 1.0  # localstripe sends an event this long after it happens
START_TIMEOUT_S = 30
POLL_TIMEOUT_S = 15

# Run with ``python -c``: bind 127.0.0.1 on a free port, print the port, serve localstripe's app there.
SERVE_LOCALSTRIPE = textwrap.dedent("""
    import pickle
    import socket
    import sys

    from aiohttp import web
    from localstripe import resources
    from localstripe.server import app

    def dump_to_disk(self, path=sys.argv[1]):
        with open(path, "wb") as f:
            pickle.dump(self, f, protocol=pickle.HIGHEST_PROTOCOL)

    resources.Store.dump_to_disk = dump_to_disk
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)
    web.run_app(app, sock=sock, print=None, access_log=None)
""")

T = TypeVar("T")


def wait_for(predicate: Callable[[], T], what: str, timeout: float = POLL_TIMEOUT_S, interval: float = 0.1) -> T:
    """Poll ``predicate`` until it returns something truthy (returned); fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {timeout} s waiting for {what}")
        time.sleep(interval)


class LocalStripe:
    """The running localstripe server: its URL, its configuration endpoints and a stripe-python client on it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {SECRET_KEY}"
        self.http_client = stripe.RequestsClient()
        self.client = stripe.StripeClient(SECRET_KEY, base_addresses={"api": url}, http_client=self.http_client)

    @property
    def sink(self) -> str:
        """A URL on localstripe itself that answers 404: webhooks pointed here reach nobody."""
        return f"{self.url}/_config/no-such-webhook-receiver"

    def clear(self) -> None:
        """Forget every object (DELETE /_config/data); configured webhooks stay."""
        response = self.http.delete(f"{self.url}/_config/data", timeout=HTTP_TIMEOUT_S)
        assert response.status_code == 200, response.text

    def point_webhook(self, url: str, secret: str = WEBHOOK_SECRET) -> None:
        """Send every event, signed with ``secret``, to ``url`` (replaces the previous target)."""
        response = self.http.post(f"{self.url}/_config/webhooks/{WEBHOOK_ID}", data={"url": url, "secret": secret},
                                  timeout=HTTP_TIMEOUT_S)
        assert response.status_code == 200, response.text

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        """GET an API path (``/v1/…``) as raw JSON, exactly as localstripe serialises it."""
        response = self.http.get(f"{self.url}{path}", params=params, timeout=HTTP_TIMEOUT_S)
        assert response.status_code == 200, response.text
        return response.json()

    def events(self) -> list[dict[str, Any]]:
        """Every event localstripe has made since it was last cleared."""
        return self.get("/v1/events", limit=100)["data"]

    def settle(self) -> None:
        """Wait until every event made so far has been sent (each goes out WEBHOOK_DELAY_S after it happens;
        ``created`` is whole seconds, so allow one more, and a little for the delivery itself)."""
        newest = max((event["created"] for event in self.events()), default=0)
        pause = newest + WEBHOOK_DELAY_S + 1.5 - time.time()
        if pause > 0:
            time.sleep(min(pause, 5.0))

    def close(self) -> None:
        self.http.close()
        self.http_client.close()


def _start_localstripe(workdir: Path) -> tuple[subprocess.Popen[bytes], str, Path]:
    log_path = workdir / "localstripe.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([sys.executable, "-c", SERVE_LOCALSTRIPE, str(workdir / "localstripe.pickle")],
                                   stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        first_line = log_path.read_text(errors="replace").partition("\n")
        if first_line[1] and first_line[0].strip().isdigit():
            return process, f"http://127.0.0.1:{int(first_line[0])}", log_path
        if process.poll() is not None or time.monotonic() > deadline:
            _stop(process)
            pytest.fail(f"localstripe did not start (exit code {process.returncode}):\n{log_path.read_text()}")
        time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStripe]:
    """localstripe 1.15 on a free port of 127.0.0.1 for the whole session; stopped at the end."""
    process, url, log_path = _start_localstripe(tmp_path_factory.mktemp("localstripe"))
    server = LocalStripe(url)
    try:
        def answers() -> bool:
            try:
                return server.http.delete(f"{url}/_config/data", timeout=2).status_code == 200
            except requests.ConnectionError:
                return False

        deadline = time.monotonic() + START_TIMEOUT_S
        while not answers():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"localstripe does not answer at {url}:\n{log_path.read_text()}")
            time.sleep(0.05)
        server.point_webhook(server.sink)
        yield server
    finally:
        server.close()
        _stop(process)


@dataclass
class StripeServer(LiveServer):
    """Our app with the Stripe gateway on localstripe, served on 127.0.0.1 in a background thread."""

    localstripe: LocalStripe

    @property
    def webhook_url(self) -> str:
        return self.url + WEBHOOK_PATH


@pytest.fixture
def stripe_server(database_url: str, localstripe: LocalStripe) -> Iterator[StripeServer]:
    """A fresh localstripe (cleared) and our app on this test's database, with localstripe's signed webhooks
    delivered to the app. Afterwards the webhook points nowhere again, and the fixture waits until localstripe
    has sent what it still held, so no event of this test reaches the next one."""
    localstripe.clear()
    app = make_app(database_url, PAYMENT_GATEWAY="stripe", STRIPE_SECRET_KEY=SECRET_KEY,
                   STRIPE_API_BASE=localstripe.url, STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET)
    assert isinstance(app.extensions[EXTENSION_KEY], StripeGateway)
    with serve(app, name="stripe-live-server") as served:
        live = StripeServer(served.app, served.server, served.thread, localstripe)
        localstripe.point_webhook(live.webhook_url)
        try:
            yield live
        finally:  # before the server stops (serve's own finally)
            localstripe.point_webhook(localstripe.sink)
            localstripe.settle()
            localstripe.clear()


@pytest.fixture
def api(stripe_server: StripeServer) -> Iterator[ApiSession]:
    """Real HTTP to the live server; closed before the server stops."""
    session = ApiSession(stripe_server.url)
    try:
        yield session
    finally:
        session.close()
