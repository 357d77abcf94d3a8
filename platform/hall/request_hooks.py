"""What happens around every request: request id, transaction mode, body limits, the sign-in throttle's first
check, one commit, CSRF for cookie-authenticated API calls, and security headers (HDR-01).

Nothing here reads a JSON body: the rate limits (Flask-Limiter's, checked as a view is entered, and the sign-in
throttle's address check below) answer 429 before it is read, and ``HallRequest`` parses it once, when a view's
arguments are loaded, from at most MAX_JSON_BODY_BYTES."""
from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from flask import Flask, Request, Response, current_app, g, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from hall.auth import guard_sign_in_door
from hall.context import request_id_var
from hall.db import reset_transaction_mode, set_read_only_transactions
from hall.errors import database_error, problem
from hall.extensions import csrf, db
from hall.library_messages import N_

log = logging.getLogger("hall.requests")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Reads that also write (opening a thread moves the reader's read mark): on SQLite they begin IMMEDIATE like
# writes, so the write never fails half-way with "database is locked" behind another writer.
WRITING_READ_ENDPOINTS = frozenset({"threads.read_thread", "web.workspace_thread"})  # reading marks read
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
API_PREFIX = "/api/"
ADMIN_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'none'; form-action 'self'; "
             "frame-ancestors 'none'; base-uri 'none'")
# The web front: the site's own styles, images and scripts only (no inline code), forms post to the site.
WEB_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; "
           "frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
JSON_PATHS = ("/api/", "/healthz", "/readyz")
# routes that take file uploads
UPLOAD_ENDPOINTS = frozenset({"listings.add_attachment", "threads.post_message_with_file", "web.workspace_upload",
                              "web.workspace_thread_reply",
                              "insurance.add_document", "web.insurance_upload_document",  # insurance documents
                              "evaluations.issue_report", "web.workspace_issue_report"})  # evaluation reports
# Authenticated by their own signature, never by a session: the only writes without a CSRF check (PAY-02).
CSRF_EXEMPT_ENDPOINTS = frozenset({"payments.stripe_webhook"})
# Swagger UI is served from the pinned package (no CDN); its start-up script is inline.
DOCS_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self' 'unsafe-inline'; frame-ancestors 'none'")


NUL_REFUSED = N_("NUL characters (\\u0000) are not allowed in parameters or text; remove them.")
UNREADABLE_JSON = N_("The JSON body is not valid UTF-8 text (a lone surrogate?) or is nested too deeply.")
MALFORMED_JSON = N_("The body is not valid JSON; check its syntax (and send an object).")
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})  # what request.form parses
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # NUL (PostgreSQL text cannot hold it) and lone surrogates


class HallRequest(Request):
    """Flask's request whose JSON body is parsed at most once, whoever asks first (the arguments parser, the
    Idempotency-Key digest, ...), with the outcome — the value or the 400 — kept for everyone after."""

    _json_outcome: tuple[bool, Any] | None = None

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        """The parsed JSON body; a body that is not JSON, or holds text no database stores, is a 400 (None when
        ``silent``). Reading past the body limit is a 413 even when ``silent``."""
        if not (force or self.is_json):
            return None if silent else self.on_json_loading_failed(None)
        if self._json_outcome is None:
            self._json_outcome = self._parse_json()
        parsed, value = self._json_outcome
        if parsed:
            return value
        if silent:
            return None
        raise value

    def _parse_json(self) -> tuple[bool, Any]:
        data = self.get_data(cache=True)  # RequestEntityTooLarge when Content-Length is past max_content_length
        limit = self.max_content_length
        if self.content_length is None and limit is not None and len(data) >= limit and \
                self.environ["wsgi.input"].read(1):
            raise RequestEntityTooLarge()  # a chunked body Werkzeug cut at the limit: there is more of it
        try:
            value = current_app.json.loads(data)
            unstorable = _has_unstorable_text(value)
        except RecursionError:
            return False, BadRequest(UNREADABLE_JSON)
        except ValueError:  # includes UnicodeDecodeError
            return False, BadRequest(MALFORMED_JSON)
        if unstorable:
            return False, BadRequest(NUL_REFUSED if unstorable == "\x00" else UNREADABLE_JSON)
        return True, value


def _has_unstorable_text(value: Any) -> str | None:
    """The first NUL or lone surrogate in any string (keys included) of a parsed JSON value, or None."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            found = _UNSTORABLE.search(item)
            if found:
                return found.group()
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return None


def body_limit() -> int | None:
    """How many bytes this request's body may have: MAX_CONTENT_LENGTH for a multipart upload to an upload route
    (its files are checked against UPLOAD_MAX_BYTES one by one), MAX_JSON_BODY_BYTES for everything else."""
    config = current_app.config
    if request.endpoint in UPLOAD_ENDPOINTS and request.mimetype == "multipart/form-data":
        return config.get("MAX_CONTENT_LENGTH")
    return config["MAX_JSON_BODY_BYTES"]


def begin_request() -> Response | None:
    """Name the request, choose how SQLite transactions begin, cap the body, throttle sign-in by address, and
    refuse bodies the API cannot read — all without reading a JSON body."""
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
    g._request_id_token = request_id_var.set(g.request_id)
    g._txn_mode_token = set_read_only_transactions(request.method in SAFE_METHODS
                                                   and request.endpoint not in WRITING_READ_ENDPOINTS)
    limit = body_limit()
    request.max_content_length = limit  # also stops a chunked body (no Content-Length) at the limit
    if limit is not None and (request.content_length or 0) > limit:
        return problem(413, _("The request body is larger than %(limit)s bytes; send less.", limit=f"{limit:,}"))
    guard_sign_in_door()  # 429 from the address's count, before a sign-in's body is read
    if _carries_nul():
        return problem(400, _(NUL_REFUSED))
    if request.path.startswith(API_PREFIX) and request.method not in SAFE_METHODS:
        has_body = bool(request.content_length) or request.headers.get("Transfer-Encoding") == "chunked"
        if has_body and not request.is_json and request.endpoint not in UPLOAD_ENDPOINTS:
            return problem(415, _("Send the body as JSON with 'Content-Type: application/json'."))
        if current_user.is_authenticated and g.get("auth_method") == "session" and \
                request.endpoint not in CSRF_EXEMPT_ENDPOINTS:
            csrf.protect()  # cookie-authenticated API writes need the X-CSRFToken header; Bearer calls do not
    return None


def _carries_nul() -> bool:
    """PostgreSQL text cannot hold NUL; refuse it in parameters and forms at the door (in JSON: ``HallRequest``)."""
    sources = (request.args, request.form) if request.mimetype in _FORM_TYPES else (request.args,)
    return any("\x00" in value for values in sources for value in values.values())


def finish_request(response: Response) -> Response:
    """Commit the request's one transaction when it succeeded (roll back otherwise), then add headers."""
    if response.status_code < 400:
        if _has_work(db.session()):  # an answer from caches alone began nothing: there is nothing to commit
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


def _has_work(session: Any) -> bool:
    """Whether the request's session began a transaction or holds objects a commit would write."""
    return bool(session.in_transaction() or session.new or session.dirty or session.deleted)


def _deliver_queued_mail() -> None:
    messages = db.session.info.pop("mail_queued", None)
    if not messages:
        return
    from hall.services.core.mailer import send_queued

    try:
        send_queued(messages)
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("mail delivery bookkeeping failed; `flask hall deliver-mail` will retry")


def _add_security_headers(response: Response) -> None:
    """Security and caching headers, each unless the view set it already."""
    path = request.path
    docs = path.startswith("/api/v1/docs")
    wanted = [("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "strict-origin-when-cross-origin"),
              ("X-Frame-Options", "DENY")]
    if path.startswith(("/admin", "/static/")):
        wanted.append(("Content-Security-Policy", ADMIN_CSP))
    elif docs:
        wanted.append(("Content-Security-Policy", DOCS_CSP))
    elif path.startswith(JSON_PATHS):
        wanted.append(("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"))
    else:
        wanted.append(("Content-Security-Policy", WEB_CSP))
        if current_user.is_authenticated:  # a signed-in person's page is theirs alone
            wanted.append(("Cache-Control", "private, no-store"))
    if current_app.config["SESSION_COOKIE_SECURE"]:
        wanted.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
    if path.startswith((API_PREFIX, "/admin")) and not docs:
        wanted.append(("Cache-Control", "no-store"))
    headers = response.headers
    present = {key.lower() for key in headers.keys()}  # one pass, not a scan per header
    for key, value in wanted:
        if key.lower() not in present:
            headers.add(key, value)
            present.add(key.lower())


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
    app.request_class = HallRequest
    app.before_request_funcs.setdefault(None, []).insert(0, begin_request)
    app.after_request(finish_request)
    app.teardown_request(end_request)
