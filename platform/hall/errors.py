"""JSON problem documents for every error (ERR-01): status, title, message, field errors, request id."""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, has_request_context, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import escape
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError

from hall.context import current_request_id
from hall.library_messages import translate_library_message
from hall.payments import GatewayError, GatewayRefused, GatewayUnavailable
from hall.services.core.errors import ServiceError

log = logging.getLogger("hall.errors")
ADMIN_PREFIX = "/admin"
JSON_PREFIXES = ("/api/", "/healthz", "/readyz")

_FRIENDLY = {
    400: _l("The request could not be read; check that the body is valid JSON and the parameters are right."),
    404: _l("There is nothing at this address."),
    405: _l("This address does not accept that method."),
    413: _l("The request body is too large."),
    415: _l("Send the body as JSON with 'Content-Type: application/json'."),
    422: _l("Fix the fields named in errors."),
    428: _l("Send an If-Match header with the ETag you last read, so that changes made since are not lost."),
    412: _l("The object changed since you read it; read it again and retry with the new ETag."),
    429: _l("Too many requests; wait a little and try again."),
}
# A 422 names the fields at fault, but never echoes a body back (issue 9: 15.8 MB of unknown keys came back twice).
MAX_ERROR_FIELDS = 20  # field names listed per error document, nested ones included
MAX_FIELD_NAME_CHARS = 64
MAX_MESSAGES_PER_FIELD = 5
MAX_ERROR_MESSAGE_CHARS = 300
MAX_PROBLEM_MESSAGE_CHARS = 2000


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bound_errors(errors: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """At most MAX_ERROR_FIELDS field names (nested ones count), each name and message cut short; returns the
    bounded mapping and how many fields were left out."""
    budget = {"left": MAX_ERROR_FIELDS, "omitted": 0}

    def messages(value: Any, depth: int) -> Any:
        if isinstance(value, dict):
            return fields(value, depth + 1) if depth < 4 else "…"
        if isinstance(value, (list, tuple)):
            return [messages(item, depth) for item in value[:MAX_MESSAGES_PER_FIELD]]
        return _clip(translate_library_message(str(value)), MAX_ERROR_MESSAGE_CHARS)

    def fields(mapping: dict[Any, Any], depth: int) -> dict[str, Any]:
        bounded: dict[str, Any] = {}
        for name, value in mapping.items():
            key = _clip(str(name), MAX_FIELD_NAME_CHARS)
            if budget["left"] <= 0 or key in bounded:
                budget["omitted"] += 1
                continue
            budget["left"] -= 1
            bounded[key] = messages(value, depth)
        return bounded

    bounded = fields(errors, 0)
    return bounded, budget["omitted"]


def _html_error_template() -> str | None:
    """The error page for this request, or None for a JSON problem document."""
    path = request.path
    if path.startswith(ADMIN_PREFIX):
        return "admin/error.html"
    if path.startswith(JSON_PREFIXES):
        return None
    return "web/error.html" if request.accept_mimetypes.best_match(
        ["application/json", "text/html"]) == "text/html" else None


def problem(status: int, message: str, *, errors: dict[str, Any] | None = None, title: str | None = None,
            headers: dict[str, str] | None = None) -> Response:
    """Build the error response: an HTML page inside the admin console and, for a browser, on the web front; a
    JSON problem document for the API, the health checks and any client that does not ask for HTML."""
    from werkzeug.http import HTTP_STATUS_CODES

    template = _html_error_template() if has_request_context() else None
    if template is not None:
        title = title or HTTP_STATUS_CODES.get(status, "Error")
        try:
            page = render_template(template, status=status, message=message, title=title,
                                   request_id=current_request_id())
        except Exception:  # the error page itself failed: never let that become a traceback
            log.exception("the error page could not be rendered")
            page = str(escape(f"{status} {title}: {message} (request id {current_request_id()})"))
        response = Response(page, status=status, mimetype="text/html")
        for key, value in (headers or {}).items():
            response.headers[key] = value
        return response
    body: dict[str, Any] = {
        "status": status,
        "title": title or HTTP_STATUS_CODES.get(status, "Error"),
        "message": _clip(message, MAX_PROBLEM_MESSAGE_CHARS),
        "request_id": current_request_id(),
    }
    if errors:
        body["errors"] = bound_errors(errors)[0]
    response = jsonify(body)
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def field_errors(data: Any) -> dict[str, Any] | None:
    """Flatten webargs' ``{"json": {...}, "query": {...}}`` messages into one field → messages mapping."""
    messages = (data or {}).get("messages") if isinstance(data, dict) else None
    if not isinstance(messages, dict):
        return None
    flat: dict[str, Any] = {}
    for location, fields in messages.items():
        if isinstance(fields, dict):
            flat.update(fields)
        else:
            flat[location] = fields
    return flat or None


def http_error(error: HTTPException) -> Response:
    """Any HTTP error (unknown route, wrong method, validation, CSRF, rate limit)."""
    status = error.code or 500
    if status >= 500:
        return server_error(error)
    errors = field_errors(getattr(error, "data", None))
    omitted = 0
    if errors:
        errors, omitted = bound_errors(errors)
    message = error.description or ""
    if status in _FRIENDLY and (not message or message == type(error).description):
        message = str(_FRIENDLY[status])
    message = translate_library_message(message)
    if status == 429 and type(error).__module__.startswith("flask_limiter"):  # its text is the limit ("10 per …")
        message = str(_FRIENDLY[429])
    if status == 422 and errors:
        message = str(_FRIENDLY[422]) + " " + "; ".join(
            f"{name}: {' '.join(map(str, msgs)) if isinstance(msgs, list) else msgs}" for name, msgs in errors.items())
        if omitted:
            message += " " + _("(and %(count)s more not listed)", count=f"{omitted:,}")
    headers = {}
    if status == 405 and error.valid_methods:  # type: ignore[attr-defined]
        headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
    response = problem(status, message, errors=errors, headers=headers)
    return response


def service_error(error: ServiceError) -> Response:
    """A rule the request broke, as the service said (with Retry-After when the service says when to retry)."""
    retry_after = getattr(error, "retry_after", None)
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    return problem(error.status, error.message, errors=error.errors or None, title=error.title, headers=headers)


def database_error(error: SQLAlchemyError) -> Response:
    """Constraint violations become 409; an unreachable or locked database 503 (fail closed, ERR-02)."""
    from hall.extensions import db

    db.session.rollback()  # the error page may need the database (the signed-in person, the language)
    if isinstance(error, IntegrityError):
        log.info("integrity error: %s", error.orig)
        return problem(409, _("This conflicts with data that already exists; reload and try again."))
    if isinstance(error, OperationalError):
        log.error("database unavailable: %s", error.orig)
        return problem(503, _("The database is busy or unavailable; try again shortly."),
                       headers={"Retry-After": "5"})
    log.error("database error", exc_info=error)
    return problem(500, _something_went_wrong())


def gateway_error(error: GatewayError) -> Response:
    """The payment provider failed or refused: nothing was recorded here (502; 503 when card payments are off)."""
    from hall.extensions import db

    db.session.rollback()
    if isinstance(error, GatewayUnavailable):
        return problem(503, str(error))
    if isinstance(error, GatewayRefused):
        log.warning("payment provider refused: %s", error)
        return problem(502, _("The payment provider refused the request: %(error)s", error=str(error)))
    log.error("payment provider unavailable: %s", error)
    return problem(502, _("The payment provider could not be reached; nothing was charged or changed. Try again "
                          "shortly."), headers={"Retry-After": "10"})


def server_error(error: BaseException) -> Response:
    """Log the traceback with the request id; the client gets the id and nothing else."""
    original = getattr(error, "original_exception", None) or error
    if isinstance(original, SQLAlchemyError):
        return database_error(original)
    log.error("unhandled error", exc_info=original if isinstance(original, BaseException) else None)
    return problem(500, _something_went_wrong())


def _something_went_wrong() -> str:
    try:
        return _("Something went wrong on our side. Quote request id %(request_id)s when you report it.",
                 request_id=current_request_id())
    except Exception:  # the translations themselves failed: the English sentence still helps
        return f"Something went wrong on our side. Quote request id {current_request_id()} when you report it."


def install_error_handlers(app: Flask) -> None:
    """Register the handlers on the application (the API's own handler defers to ``http_error``)."""
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(ServiceError, service_error)
    app.register_error_handler(SQLAlchemyError, database_error)
    app.register_error_handler(GatewayError, gateway_error)
    app.register_error_handler(InternalServerError, server_error)
    app.register_error_handler(Exception, server_error)
