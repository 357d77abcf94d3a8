"""The Idempotency-Key header on creating requests (TXN-02): a view decorator over
``hall.services.core.idempotency``."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, make_response, request
from flask_login import current_user

from hall.services.core import idempotency

IDEMPOTENCY_HEADER = {
    "in": "header", "name": "Idempotency-Key", "required": False, "schema": {"type": "string", "maxLength": 255},
    "description": "Send the same key when you retry: the first request's answer is repeated and nothing is "
                   "created twice. The same key with a different body answers 422.",
}


def _digest() -> str:
    body = request.get_json(silent=True)
    canonical = json.dumps([request.method, request.path, body], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def idempotent(view: Callable[..., Any]) -> Callable[..., Any]:
    """Run the view once per (person, method and path, key); replay its stored answer for the same key."""
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view(*args, **kwargs)
        claimed = idempotency.begin(current_user.id, f"{request.method} {request.path}", key, _digest())
        if isinstance(claimed, idempotency.StoredResponse):
            return Response(claimed.body, status=claimed.status_code, mimetype="application/json",
                            headers={"Idempotent-Replayed": "true"})
        claim_id = claimed.id
        try:
            response = make_response(view(*args, **kwargs))
        except Exception:
            idempotency.release_if_committed(claim_id)
            raise
        if response.status_code < 400:
            idempotency.finish(claimed, response.status_code, response.get_data(as_text=True))
        else:
            idempotency.release_if_committed(claim_id)
        return response
    return wrapper
