"""The Stripe gateway: PaymentIntents and refunds through stripe-python's StripeClient.

Every call that creates or changes something carries an idempotency key built from our own ids (PAY-07), so a
retry after a timeout returns the same object instead of charging or refunding twice.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import stripe

from hall.payments import GatewayError, GatewayRefused, Intent, Refund


def _metadata(obj: Any) -> dict[str, str]:
    """An object's metadata as a dict (stripe 16's objects are not mappings: ``dict(obj)`` raises TypeError)."""
    metadata = getattr(obj, "metadata", None)
    if metadata is None:
        return {}
    return metadata.to_dict() if isinstance(metadata, stripe.StripeObject) else dict(metadata)


def _intent(obj: Any) -> Intent:
    charge = obj.latest_charge
    return Intent(id=obj.id, amount=int(obj.amount), currency=str(obj.currency).upper(), status=obj.status,
                  client_secret=obj.client_secret,
                  latest_charge=charge if isinstance(charge, str) or charge is None else charge.id,
                  metadata=_metadata(obj),
                  created=datetime.fromtimestamp(obj.created, UTC) if obj.created else None)


def _refund(obj: Any) -> Refund:
    intent = getattr(obj, "payment_intent", None)
    charge = getattr(obj, "charge", None)
    return Refund(id=obj.id, amount=int(obj.amount), currency=str(obj.currency).upper(), status=obj.status,
                  payment_intent=intent if isinstance(intent, str) or intent is None else intent.id,
                  charge=charge if isinstance(charge, str) or charge is None else charge.id,
                  metadata=_metadata(obj))


class StripeGateway:
    """Talks to Stripe (or to localstripe when ``api_base`` points at it)."""

    name = "stripe"

    def __init__(self, secret_key: str, *, api_base: str | None = None, publishable_key: str | None = None,
                 http_client: Any = None, timeout: float = 8.0, max_network_retries: int = 0) -> None:
        # stripe-python waits 80 s by default; a request must end well inside the worker's timeout (30 s). Our
        # idempotency keys make a retry by the caller, or by reconcile, safe instead.
        options: dict[str, Any] = {"max_network_retries": max_network_retries,
                                   "http_client": http_client or stripe.RequestsClient(timeout=timeout)}
        if api_base:
            options["base_addresses"] = {"api": api_base}
        self.client = stripe.StripeClient(secret_key, **options)
        self.publishable_key = publishable_key

    def _call(self, method: Any, params: dict[str, Any] | None = None, **options: Any) -> Any:
        try:
            return method(params, options or None) if options else method(params)
        except stripe.InvalidRequestError as error:
            raise GatewayRefused(f"Stripe refused the request: {error.user_message or error}") from error
        except stripe.StripeError as error:
            raise GatewayError(f"Stripe could not be reached or failed: {error.user_message or error}") from error

    def create_intent(self, *, amount: int, currency: str, idempotency_key: str,
                      metadata: dict[str, str]) -> Intent:
        """Create a PaymentIntent with automatic payment methods; our key makes retries safe."""
        params = {"amount": amount, "currency": currency.lower(), "metadata": metadata,
                  "payment_method_types": ["card"]}
        return _intent(self._call(self.client.v1.payment_intents.create, params, idempotency_key=idempotency_key))

    def retrieve_intent(self, intent_id: str) -> Intent:
        """Read one PaymentIntent."""
        return _intent(self._call(lambda params: self.client.v1.payment_intents.retrieve(intent_id), None))

    def cancel_intent(self, intent_id: str, *, idempotency_key: str) -> Intent:
        """Cancel an unpaid intent (GatewayRefused if it succeeded meanwhile)."""
        def cancel(params: Any, options: Any) -> Any:
            return self.client.v1.payment_intents.cancel(intent_id, params, options)
        return _intent(self._call(cancel, None, idempotency_key=idempotency_key))

    def refund(self, *, intent_id: str, amount: int, idempotency_key: str, metadata: dict[str, str]) -> Refund:
        """Refund ``amount`` of a succeeded intent."""
        params = {"payment_intent": intent_id, "amount": amount, "metadata": metadata}
        return _refund(self._call(self.client.v1.refunds.create, params, idempotency_key=idempotency_key))

    def _list_since(self, method: Any, created_since: datetime) -> list[Any]:
        """Objects created since the time. Stripe lists newest first, so paging stops at the first older one; no
        ``created`` filter is sent (localstripe refuses it on intents and refunds). Later pages are fetched inside
        ``_call`` so their failures map to GatewayError too."""
        cutoff = int(created_since.timestamp())

        def collect(params: dict[str, Any]) -> list[Any]:
            found = []
            for obj in method(params).auto_paging_iter():
                if obj.created < cutoff:
                    break
                found.append(obj)
            return found
        return self._call(collect, {"limit": 100})

    def list_intents(self, *, created_since: datetime) -> list[Intent]:
        """Every intent created since the time (auto-paginated)."""
        return [_intent(obj) for obj in self._list_since(self.client.v1.payment_intents.list, created_since)]

    def list_refunds(self, *, created_since: datetime) -> list[Refund]:
        """Every refund created since the time (auto-paginated)."""
        return [_refund(obj) for obj in self._list_since(self.client.v1.refunds.list, created_since)]
