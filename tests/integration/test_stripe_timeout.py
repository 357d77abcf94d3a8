"""A stalled Stripe ends in a GatewayError after the configured timeout, not after stripe-python's 80 s default
(issue 9.2: a 40 s hang got the gunicorn worker killed with an HTML 500)."""
from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from hall.config import BaseConfig
from hall.payments import GatewayError
from hall.payments.stripe_gateway import StripeGateway


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A server on 127.0.0.1 that accepts connections and never answers."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue
    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(5)
    for conn in accepted:
        conn.close()
    listener.close()


def test_a_stalled_stripe_is_a_gateway_error_after_the_timeout(silent_server: str) -> None:
    gateway = StripeGateway("sk_test_stalled", api_base=silent_server, timeout=0.5)
    with pytest.raises(GatewayError):
        gateway.create_intent(amount=100, currency="CNY", idempotency_key="hall-order-1-pay-1", metadata={})


def test_the_default_timeout_is_well_inside_the_worker_timeout() -> None:
    gunicorn_worker_timeout = 30
    worst_case = BaseConfig.STRIPE_TIMEOUT_SECONDS * (1 + BaseConfig.STRIPE_MAX_NETWORK_RETRIES)
    assert worst_case <= gunicorn_worker_timeout / 3
