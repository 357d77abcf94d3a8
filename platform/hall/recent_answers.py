"""Recent anonymous hall answers, served in front of Flask (issue 14).

An anonymous hall search or listing detail answered 200 under an ETag that comes from the hall's version or the
listing's stamp (``blueprints.api.hall_caching``) may be answered again, byte for byte, for as long as the
version or stamp it was made from would itself be taken without asking the database
(``HALL_VERSION_FRESH_WITHIN`` seconds from when it was read, so never when that is 0) and, for a search, within
the same ``max-age`` period its ETag names. Inside that window Flask would give the same answer: the same ETag,
from the same answer kept in this process. This middleware gives it without building a request context, opening
a session or running a hook: the cost of a cached hall read falls to a dictionary lookup.

What may be answered here:
- only a GET under ``/api/v1/hall/listings`` without a Cookie or an Authorization header (a signed-in caller's
  answer is theirs; a cookie may carry a language or a session), keyed by path, query string and Accept-Language;
- only an answer Flask gave and offered (``offer``) after running every hook: a request refused at the door (a
  NUL in a parameter, a bad filter) is never offered, so it is never answered here;
- an ``If-None-Match`` naming the answer's ETag gets 304, as from Flask.

Every answer gets its own X-Request-ID (the caller's when well-formed, as ``request_hooks`` does). Any commit of
this process that raised the hall's version or wrote anything a detail shows forgets every answer (``forget``),
as the version and stamps it read are forgotten, so this process's own changes show at once. Not installed when
the application has rate limits that apply to every route (they must count every request).
"""
from __future__ import annotations

import re
import threading
import time
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.http import parse_etags

PREFIX = "/api/v1/hall/listings"
_OFFER = "hall.recent_answer"  # environ key: None for a candidate request, then what Flask offered
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_NOT_REPLAYED = frozenset({"x-request-id", "set-cookie"})
_NOT_IN_304 = frozenset({"content-type", "content-length"})

Key = tuple[str, str, str]


class _Answer:
    __slots__ = ("status", "headers", "body", "etag", "valid_until", "period", "period_seconds")

    def __init__(self, status: str, headers: list[tuple[str, str]], body: bytes, etag: str, valid_until: float,
                 period: int | None, period_seconds: int) -> None:
        self.status, self.headers, self.body, self.etag = status, headers, body, etag
        self.valid_until, self.period, self.period_seconds = valid_until, period, period_seconds

    def still_true(self) -> bool:
        if time.monotonic() >= self.valid_until:
            return False
        return self.period is None or int(time.time() // self.period_seconds) == self.period


class RecentAnswers:
    """WSGI middleware: anonymous hall reads answered from what Flask answered recently (module docstring)."""

    def __init__(self, app: Callable[..., Iterable[bytes]], size: int = 1024) -> None:
        self.app = app
        self.size = size
        self.entries: OrderedDict[Key, _Answer] = OrderedDict()
        self.lock = threading.Lock()
        _INSTANCES.add(self)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        key = _key(environ)
        if key is None:
            return self.app(environ, start_response)
        with self.lock:
            answer = self.entries.get(key)
            if answer is not None and not answer.still_true():
                del self.entries[key]
                answer = None
        if answer is not None:
            return _replay(answer, environ, start_response)
        environ[_OFFER] = None
        captured: list[Any] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured[:] = [status, headers, exc_info]
            return _no_write

        body = self.app(environ, capture)
        offered = environ.get(_OFFER)
        if offered is None or not captured or not captured[0].startswith("200"):
            if captured:  # passed on as it came (a server needs the status only before the body's first bytes)
                start_response(*captured)
            return body
        try:
            data = b"".join(body)
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        etag, valid_until, period, period_seconds = offered
        headers = [(name, value) for name, value in captured[1] if name.lower() not in _NOT_REPLAYED]
        answer = _Answer(captured[0], headers, data, etag, valid_until, period, period_seconds)
        with self.lock:
            self.entries[key] = answer
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)
        request_id = next((value for name, value in captured[1] if name.lower() == "x-request-id"), None)
        return _replay(answer, environ, start_response, request_id)

    def clear(self) -> None:
        """Forget every answer."""
        with self.lock:
            self.entries.clear()


_INSTANCES: weakref.WeakSet[RecentAnswers] = weakref.WeakSet()


def _key(environ: dict[str, Any]) -> Key | None:
    """The answer's key for a request that may be answered here, else None."""
    if environ.get("REQUEST_METHOD") != "GET" or "HTTP_COOKIE" in environ or "HTTP_AUTHORIZATION" in environ:
        return None
    path = environ.get("PATH_INFO", "")
    if not path.startswith(PREFIX):
        return None
    return path, environ.get("QUERY_STRING", ""), environ.get("HTTP_ACCEPT_LANGUAGE", "")


def _no_write(_data: bytes) -> None:
    raise RuntimeError("hall answers are returned, not written")


def _replay(answer: _Answer, environ: dict[str, Any], start_response: Callable[..., Any],
            request_id: str | None = None) -> Iterable[bytes]:
    """The answer (304 when If-None-Match names its ETag) under this request's id (``request_id``: the one
    Flask gave, when Flask made the answer for this request)."""
    if request_id is None:
        incoming = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
    if "HTTP_IF_NONE_MATCH" in environ and parse_etags(environ["HTTP_IF_NONE_MATCH"]).contains_weak(answer.etag):
        headers = [(name, value) for name, value in answer.headers if name.lower() not in _NOT_IN_304]
        start_response("304 NOT MODIFIED", [*headers, ("X-Request-ID", request_id)])
        return []
    start_response(answer.status, [*answer.headers, ("X-Request-ID", request_id)])
    return [answer.body]


def takes_offer(environ: dict[str, Any], valid_until: float | None) -> bool:
    """Whether this request's 200 answer, holding until ``valid_until`` (``time.monotonic()``; None: not at all),
    would be kept in front of Flask: then Flask makes the 200 answer even for a matching If-None-Match, and the
    middleware answers that with 304 itself."""
    return _OFFER in environ and valid_until is not None and valid_until > time.monotonic()


def offer(environ: dict[str, Any], etag: str, valid_until: float | None, period: int | None,
          period_seconds: int) -> None:
    """Offer Flask's 200 answer to this request for answering again in front of Flask until ``valid_until``
    and, with ``period``, while ``time.time() // period_seconds`` is it (``takes_offer``)."""
    if takes_offer(environ, valid_until):
        environ[_OFFER] = (etag, valid_until, period, period_seconds)


def forget() -> None:
    """Forget every recent answer of this process (after a commit that changed what they show)."""
    for instance in list(_INSTANCES):
        instance.clear()
