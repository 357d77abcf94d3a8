"""What happens around every request: request id, transaction mode, one commit, CSRF for cookie-authenticated
API calls, and security headers (HDR-01)."""
from __future__ import annotations

import json
import logging
import re
import uuid

from flask import Flask, Response, g, request
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from hall.context import request_id_var
from hall.db import reset_transaction_mode, set_read_only_transactions
from hall.errors import database_error, problem
from hall.extensions import csrf, db

log = logging.getLogger("hall.requests")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
API_PREFIX = "/api/"
ADMIN_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'none'; form-action 'self'; "
             "frame-ancestors 'none'; base-uri 'none'")
UPLOAD_ENDPOINTS = frozenset({"listings.add_attachment"})  # the only API routes that take multipart/form-data
# Authenticated by their own signature, never by a session: the only writes without a CSRF check (PAY-02).
CSRF_EXEMPT_ENDPOINTS = frozenset({"payments.stripe_webhook"})
DOCS_CSP = ("default-src 'self' https://cdn.jsdelivr.net; img-src 'self' data: https://cdn.jsdelivr.net; "
            "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; script-src 'self' 'unsafe-inline' "
            "https://cdn.jsdelivr.net; frame-ancestors 'none'")


def begin_request() -> Response | None:
    """Name the request, choose how SQLite transactions begin, and refuse bodies the API cannot read."""
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
    g._request_id_token = request_id_var.set(g.request_id)
    g._txn_mode_token = set_read_only_transactions(request.method in SAFE_METHODS)
    if _carries_nul():
        return problem(400, "NUL characters (\\u0000) are not allowed in parameters or text; remove them.")
    if request.is_json and request.content_length and not _readable_json():
        return problem(400, "The JSON body is not valid UTF-8 text (a lone surrogate?) or is nested too deeply.")
    if request.path.startswith(API_PREFIX) and request.method not in SAFE_METHODS:
        has_body = bool(request.content_length) or request.headers.get("Transfer-Encoding") == "chunked"
        if has_body and not request.is_json and request.endpoint not in UPLOAD_ENDPOINTS:
            return problem(415, "Send the body as JSON with 'Content-Type: application/json'.")
        if current_user.is_authenticated and g.get("auth_method") == "session" and \
                request.endpoint not in CSRF_EXEMPT_ENDPOINTS:
            csrf.protect()  # cookie-authenticated API writes need the X-CSRFToken header; Bearer calls do not
    return None


def _carries_nul() -> bool:
    """PostgreSQL text cannot hold NUL; refuse it at the door rather than fail in the database."""
    if any("\x00" in value for values in (request.args, request.form) for value in values.values()):
        return True
    return request.is_json and b"\\u0000" in request.get_data(cache=True)


def _readable_json() -> bool:
    """False for JSON that parses into text no database can store, or that is nested beyond reason."""
    try:
        data = json.loads(request.get_data(cache=True))
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except RecursionError:
        return False
    except UnicodeEncodeError:
        return False
    except ValueError:
        return True  # malformed JSON: webargs answers it with its own 400
    return True


def finish_request(response: Response) -> Response:
    """Commit the request's one transaction when it succeeded (roll back otherwise), then add headers."""
    if response.status_code < 400:
        try:
            db.session.commit()
        except SQLAlchemyError as exc:
            db.session.rollback()
            response = database_error(exc)
        else:
            _deliver_queued_mail()
    else:
        db.session.rollback()
    _add_security_headers(response)
    response.headers["X-Request-ID"] = g.get("request_id", "")
    return response


def _deliver_queued_mail() -> None:
    messages = db.session.info.pop("mail_queued", None)
    if not messages:
        return
    from hall.services.mailer import send_queued

    try:
        send_queued(messages)
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("mail delivery bookkeeping failed; `flask hall deliver-mail` will retry")


def _add_security_headers(response: Response) -> None:
    from flask import current_app

    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    docs = request.path.startswith("/api/v1/docs")
    if request.path.startswith(("/admin", "/static/")):
        headers.setdefault("Content-Security-Policy", ADMIN_CSP)
    else:
        headers.setdefault("Content-Security-Policy",
                           DOCS_CSP if docs else "default-src 'none'; frame-ancestors 'none'")
    if current_app.config["SESSION_COOKIE_SECURE"]:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.path.startswith((API_PREFIX, "/admin")) and not docs:
        headers.setdefault("Cache-Control", "no-store")


def end_request(_error: BaseException | None) -> None:
    """Undo the per-request context variables."""
    token = g.pop("_txn_mode_token", None)
    if token is not None:
        reset_transaction_mode(token)
    token = g.pop("_request_id_token", None)
    if token is not None:
        request_id_var.reset(token)


def install_request_hooks(app: Flask) -> None:
    """Register the hooks; ``begin_request`` runs before CSRFProtect's check and the rate limiter's."""
    app.before_request_funcs.setdefault(None, []).insert(0, begin_request)
    app.after_request(finish_request)
    app.teardown_request(end_request)
