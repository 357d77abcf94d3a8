"""Logging with the request id on every line."""
from __future__ import annotations

import logging

from flask import Flask

from hall.context import current_request_id


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to each record ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id() or "-"
        return True


def install_request_id_logging(app: Flask) -> None:
    """Configure the ``hall`` logger once: one line per record, request id included."""
    logger = logging.getLogger("hall")
    if not any(isinstance(h, logging.StreamHandler) and getattr(h, "_hall", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler._hall = True  # type: ignore[attr-defined]
        handler.addFilter(RequestIdFilter())
        handler.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if app.debug else logging.INFO)
