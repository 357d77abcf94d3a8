"""Announcements from a lower floor of services to a higher one, in the same transaction.

A floor imports only from below (tests/unit/test_service_layers.py), yet a higher floor sometimes has to act when
something happens below: when publishing approves a listing, docking tells the institutions whose demands it could
answer. The lower floor announces (``announce("listing.published", listing=…)``); the higher floor subscribes when
its module is imported. Handlers run in the caller's transaction and only flush, like any service."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

_HANDLERS: dict[str, list[Callable[..., Any]]] = {}


def subscribe(event: str, handler: Callable[..., Any]) -> None:
    """Run ``handler(**values)`` whenever ``event`` is announced (once per handler, however often subscribed)."""
    handlers = _HANDLERS.setdefault(event, [])
    if handler not in handlers:
        handlers.append(handler)


def announce(event: str, **values: Any) -> None:
    """Tell every subscriber of ``event``, in the order they subscribed."""
    for handler in list(_HANDLERS.get(event, ())):
        handler(**values)
