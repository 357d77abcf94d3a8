"""One payment-gateway interface with its implementations: Stripe, and a fake for tests.

Offline bank transfer (对公转账) needs no gateway: the buyer gets the platform's account details and a remittance
reference (``hall.payments.bank_transfer``) and an admin records what arrived. The gateway in use is chosen by
PAYMENT_GATEWAY ("stripe", "fake" or "none") and kept on the app, so tests reach the fake's state.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from flask import current_app
from flask_babel import gettext as _

EXTENSION_KEY = "hall_payment_gateway"


class GatewayError(Exception):
    """The provider failed or could not be reached; nothing was changed on our side (answered 502)."""


class GatewayRefused(GatewayError):
    """The provider refused the request itself (for example an intent that can no longer be cancelled)."""


class GatewayUnavailable(GatewayError):
    """Card payments are not configured on this platform."""


class ProviderCallInTransaction(RuntimeError):
    """A provider was about to be called while a database transaction is open (a programming error: the call
    would hold the transaction's locks for as long as the provider takes)."""


@dataclass(frozen=True)
class Intent:
    """What we need of a PaymentIntent."""

    id: str
    amount: int
    currency: str  # upper case, as we store it
    status: str  # Stripe's: requires_payment_method, requires_confirmation, processing, succeeded, canceled, …
    client_secret: str | None = None
    latest_charge: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    created: datetime | None = None


@dataclass(frozen=True)
class Refund:
    """What we need of a refund."""

    id: str
    amount: int
    currency: str
    status: str  # pending, succeeded, failed, canceled
    payment_intent: str | None = None
    charge: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


class PaymentGateway(Protocol):
    """What the payment services need from a card-payment provider."""

    name: str
    publishable_key: str | None

    def create_intent(self, *, amount: int, currency: str, idempotency_key: str,
                      metadata: dict[str, str]) -> Intent:
        """Create a PaymentIntent for ``amount`` minor units; the same key returns the same intent."""

    def retrieve_intent(self, intent_id: str) -> Intent:
        """Read an intent (its status and client secret)."""

    def cancel_intent(self, intent_id: str, *, idempotency_key: str) -> Intent:
        """Cancel an unpaid intent; GatewayRefused when it already succeeded."""

    def refund(self, *, intent_id: str, amount: int, idempotency_key: str, metadata: dict[str, str]) -> Refund:
        """Refund part or all of a succeeded intent."""

    def list_intents(self, *, created_since: datetime) -> list[Intent]:
        """Intents created since a time (for reconciliation)."""

    def list_refunds(self, *, created_since: datetime) -> list[Refund]:
        """Refunds created since a time (for reconciliation)."""


class NoGateway:
    """Card payments switched off (no STRIPE_SECRET_KEY): every call says so."""

    name = "none"
    publishable_key = None

    def __getattr__(self, item: str) -> Any:
        def unavailable(*args: Any, **kwargs: Any) -> Any:
            raise GatewayUnavailable(_("Card payments are not configured; pay by bank transfer."))
        return unavailable


def build_gateway(config: dict[str, Any]) -> PaymentGateway:
    """The gateway PAYMENT_GATEWAY names (default: Stripe when STRIPE_SECRET_KEY is set, otherwise none)."""
    choice = config.get("PAYMENT_GATEWAY") or ("stripe" if config.get("STRIPE_SECRET_KEY") else "none")
    if choice == "stripe":
        from hall.payments.stripe_gateway import StripeGateway

        return StripeGateway(config["STRIPE_SECRET_KEY"], api_base=config.get("STRIPE_API_BASE"),
                             publishable_key=config.get("STRIPE_PUBLISHABLE_KEY"),
                             timeout=float(config.get("STRIPE_TIMEOUT_SECONDS") or 8),
                             max_network_retries=int(config.get("STRIPE_MAX_NETWORK_RETRIES") or 0))
    if choice == "fake":
        from hall.payments.fake import FakeGateway

        return FakeGateway()
    if choice == "none":
        return NoGateway()  # type: ignore[return-value]
    raise ValueError(f"PAYMENT_GATEWAY must be stripe, fake or none, not {choice!r}")


class OutsideTransactionGateway:
    """The app's gateway behind a check: no call goes out while the database session has a transaction open.

    Holding a transaction (on SQLite the database's write lock, on PostgreSQL row locks and audit stream locks)
    across a network call makes every other writer wait for the provider. Money steps that need the provider are
    recorded and committed first, and apply the answer in a new transaction (``hall.services.trading.provider_calls``).
    """

    def __init__(self, inner: PaymentGateway) -> None:
        self._inner = inner

    def __getattr__(self, item: str) -> Any:
        attribute = getattr(self._inner, item)
        if not callable(attribute):
            return attribute

        def outside_transaction(*args: Any, **kwargs: Any) -> Any:
            from hall.extensions import db

            if db.session().in_transaction():
                raise ProviderCallInTransaction(f"{self._inner.name}.{item} called inside a database transaction")
            return attribute(*args, **kwargs)
        return outside_transaction


def gateway() -> PaymentGateway:
    """The current app's gateway, refusing calls made inside a database transaction."""
    return OutsideTransactionGateway(current_app.extensions[EXTENSION_KEY])
