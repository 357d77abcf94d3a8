"""Per-request values that services may read without importing Flask's request (set by the request hooks)."""
from __future__ import annotations

import contextvars

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being served, or None outside a request (CLI, tests)."""
    return request_id_var.get()
