"""The one sanctioned commit inside a service: ending the transaction before a call to the payment provider.

Services otherwise only flush and the request commits once (architecture.md). A money step that must call Stripe
records what it is about to ask, ends the transaction here, calls with no lock held, and applies the answer in a
new transaction (see ``hall.services.trading.provider_calls``).
"""
from __future__ import annotations

from hall.extensions import db

COMMITTED_MIDWAY = "hall_committed_midway"


def end_transaction() -> None:
    """Commit what the step before recorded, so the provider call that follows holds no lock.

    The session remembers it, so a request that fails afterwards can undo what depends on one commit per request
    (its Idempotency-Key claim, ``hall.services.core.idempotency.release_if_committed``).
    """
    db.session.commit()
    db.session.info[COMMITTED_MIDWAY] = True


def committed_midway() -> bool:
    """Whether this request's session committed half-way (and forget it: the answer is read once per failure)."""
    return bool(db.session.info.pop(COMMITTED_MIDWAY, False))
