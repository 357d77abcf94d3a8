"""An in-memory gateway for unit tests: it behaves like Stripe for what we use, honours idempotency keys, records
every call, and can be told to fail."""
from __future__ import annotations

import itertools
import secrets
import threading
from dataclasses import replace
from datetime import datetime
from typing import Any

from hall.models.types import utcnow
from hall.payments import GatewayError, GatewayRefused, Intent, Refund


class FakeGateway:
    """Intents and refunds kept in dictionaries; ``calls`` lists (operation, idempotency key, params)."""

    name = "fake"
    publishable_key: str | None = "pk_test_fake"

    def __init__(self) -> None:
        self.intents: dict[str, Intent] = {}
        self.refunds: dict[str, Refund] = {}
        self.by_key: dict[str, Any] = {}
        self.calls: list[tuple[str, str | None, dict[str, Any]]] = []
        self.fail_next: Exception | None = None
        self.lose_next_answer = False
        self._ids = itertools.count(1)
        # Unique across processes too (several gunicorn workers each hold their own fake).
        self._prefix = secrets.token_hex(4)
        self._lock = threading.Lock()

    def _check_failure(self) -> None:
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            raise error

    def _keyed(self, key: str, params: dict[str, Any], make: Any) -> Any:
        with self._lock:
            if key in self.by_key:
                kept_params, result = self.by_key[key]
                if kept_params != params:
                    raise GatewayRefused("Keys for idempotent requests can only be used with the same parameters.")
                return result
            result = make()
            self.by_key[key] = (params, result)
            return result

    def create_intent(self, *, amount: int, currency: str, idempotency_key: str,
                      metadata: dict[str, str]) -> Intent:
        """A new intent waiting for a payment method (or the one this key made before)."""
        params = {"amount": amount, "currency": currency, "metadata": metadata}
        self.calls.append(("create_intent", idempotency_key, params))
        self._check_failure()

        def make() -> Intent:
            n = next(self._ids)
            intent = Intent(id=f"pi_fake_{self._prefix}{n}", amount=amount, currency=currency.upper(),
                            status="requires_payment_method", client_secret=f"pi_fake_{self._prefix}{n}_secret_{n}",
                            metadata=dict(metadata), created=utcnow())
            self.intents[intent.id] = intent
            return intent
        return self._answer(self.intents[self._keyed(idempotency_key, params, make).id])

    def retrieve_intent(self, intent_id: str) -> Intent:
        """The intent as it stands."""
        self._check_failure()
        if intent_id not in self.intents:
            raise GatewayRefused(f"No such payment_intent: {intent_id}")
        return self.intents[intent_id]

    def cancel_intent(self, intent_id: str, *, idempotency_key: str) -> Intent:
        """Cancel unless it succeeded."""
        self.calls.append(("cancel_intent", idempotency_key, {"intent": intent_id}))
        self._check_failure()
        intent = self.retrieve_intent(intent_id)
        if intent.status == "succeeded":
            raise GatewayRefused("This PaymentIntent's status is succeeded; it cannot be canceled.")
        self.intents[intent_id] = replace(intent, status="canceled")
        return self.intents[intent_id]

    def succeed(self, intent_id: str) -> Intent:
        """Test helper: the buyer's card went through (what confirming with a test card does)."""
        intent = self.intents[intent_id]
        self.intents[intent_id] = replace(intent, status="succeeded",
                                          latest_charge="ch_" + intent_id.removeprefix("pi_"))
        return self.intents[intent_id]

    def refund(self, *, intent_id: str, amount: int, idempotency_key: str, metadata: dict[str, str]) -> Refund:
        """Refund part of a succeeded intent, never beyond what is left."""
        params = {"intent": intent_id, "amount": amount, "metadata": metadata}
        self.calls.append(("refund", idempotency_key, params))
        self._check_failure()

        def make() -> Refund:
            intent = self.retrieve_intent(intent_id)
            if intent.status != "succeeded":
                raise GatewayRefused("This PaymentIntent has not succeeded; nothing to refund.")
            refunded = sum(r.amount for r in self.refunds.values() if r.payment_intent == intent_id)
            if refunded + amount > intent.amount:
                raise GatewayRefused("Refund amount is greater than the unrefunded amount.")
            refund = Refund(id=f"re_fake_{self._prefix}{next(self._ids)}", amount=amount, currency=intent.currency,
                            status="succeeded", payment_intent=intent_id, charge=intent.latest_charge,
                            metadata=dict(metadata))
            self.refunds[refund.id] = refund
            return refund
        return self._answer(self._keyed(idempotency_key, params, make))

    def list_intents(self, *, created_since: datetime) -> list[Intent]:
        """Intents created since the time."""
        self._check_failure()
        return [i for i in self.intents.values() if i.created is None or i.created >= created_since]

    def list_refunds(self, *, created_since: datetime) -> list[Refund]:
        """Every refund (the fake keeps no creation times for them)."""
        self._check_failure()
        return list(self.refunds.values())

    def _answer(self, result: Any) -> Any:
        """The result, unless the answer is to be lost on the way back (the call took effect at the provider)."""
        if self.lose_next_answer:
            self.lose_next_answer = False
            raise GatewayError("Stripe's answer was lost (fake timeout after the call took effect)")
        return result

    def lose_answer(self) -> None:
        """Make the next create or refund take effect and then fail as a timeout would (test helper)."""
        self.lose_next_answer = True

    def fail_with(self, error: Exception | None = None) -> None:
        """Make the next call fail (default: the provider is unreachable)."""
        self.fail_next = error or GatewayError("Stripe could not be reached (fake outage)")
