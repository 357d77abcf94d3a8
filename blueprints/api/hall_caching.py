"""HTTP caching of the hall's anonymous reads: a weak ETag, ``304 Not Modified`` on ``If-None-Match``, and
``Cache-Control: public, max-age=HALL_CACHE_MAX_AGE`` for anonymous callers only.

A search's ETag is known before the search runs: the hall's version (raised in the same transaction as any change
to the hall index: a listing published, withdrawn, revised, suspended, expired, its institution suspended), the
query and the answer's language, and the current ``max-age`` period (what the clock takes out — a term that
ended — shows within one period). A worker reads the version from the database at most once every
HALL_VERSION_FRESH_WITHIN seconds (0 by default: on every request): another worker's change shows within that,
this worker's own at once.
A matching ``If-None-Match`` is answered 304 after at most that one small read. A listing's detail shows things
the hall index does not follow (stock, evaluation reports, names): its ETag comes from the detail's stamp
(``hall.services.policy.hall_detail``), one small statement on every request. The other reads (an institution's
profile, the taxonomy) have the digest of the answer itself as their ETag. Signed-in callers get ``private,
no-store`` and no ETag: what they see is theirs. Every answer varies by language and credentials.

An anonymous search's or detail's answer is also kept in this process under its ETag (``_ANSWERS``, least recently
used out): the same search in the same period of the same hall version, or the same detail under the same stamp,
is answered from it without running the view.
"""
from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, current_app, g, make_response, request
from flask_login import current_user

from hall import recent_answers
from hall.search import hall_version_read_at
from hall.services.policy import hall_detail
from hall.services.publishing.hall import index_version

VARY = ("Accept-Language", "Cookie", "Authorization")


def _max_age() -> int:
    return int(current_app.config.get("HALL_CACHE_MAX_AGE", 60))


def _fresh_within() -> float:
    return float(current_app.config.get("HALL_VERSION_FRESH_WITHIN", 0.0))


def _version_etag(lang: str) -> str:
    """The search's ETag: hall version, max-age period, and a digest of the path, the query and the language."""
    fresh_within = _fresh_within()
    version = index_version(fresh_within)
    g.hall_version = version  # the search reuses it: one read of the version per request
    token, number = version or ("0", 0)
    query = sorted(request.args.items(multi=True))
    digest = hashlib.blake2b(repr((request.path, query, lang)).encode(), digest_size=8).hexdigest()
    period = int(time.time() // max(1, _max_age()))
    _answer_holds(hall_version_read_at(), fresh_within, period)
    return f"hall-{token[:8]}-{number}-{period}-{digest}"


def _answer_holds(read_at: float | None, fresh_within: float, period: int | None) -> None:
    """Note how long the answer about to be made holds without asking the database again: as long as the version
    or stamp it comes from, read at ``read_at``, is taken (``recent_answers``)."""
    g.hall_answer_holds = (read_at + fresh_within if read_at is not None and fresh_within > 0 else None, period)


class _Answers:
    """A small least-recently-used map of anonymous search answers (body bytes) by ETag, per process."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[str, bytes] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, etag: str) -> bytes | None:
        with self.lock:
            body = self.entries.get(etag)
            if body is not None:
                self.entries.move_to_end(etag)
            return body

    def put(self, etag: str, body: bytes) -> None:
        with self.lock:
            self.entries[etag] = body
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)


_ANSWERS = _Answers(1024)


def hall_read(etag_of: Callable[..., str | None] | None = None) -> Callable[[Any], Any]:
    """Wrap a hall view (below ``blp.route``, above ``blp.arguments``): ETag, 304 and Cache-Control. With
    ``etag_of`` (called with the view's URL arguments: the ETag known before the view runs, or None when it is
    not), the answer is checked against ``If-None-Match`` and kept in this process under that ETag; without it, or
    when it gives None, the ETag is the digest of the answer."""
    def decorate(view: Any) -> Any:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            if current_user.is_authenticated:
                response = make_response(view(*args, **kwargs))
                if response.status_code == 200:
                    response.headers["Cache-Control"] = "private, no-store"
            else:
                etag = etag_of(**kwargs) if etag_of is not None else None
                response = _anonymous(view, etag, args, kwargs)
            response.vary.update(VARY)
            return response
        return wrapper
    return decorate


def search_etag(lang: str) -> str | None:
    """A search's ETag from the hall's version (None while the hall has none yet)."""
    etag = _version_etag(lang)
    return etag if g.hall_version is not None else None


def detail_etag(listing_id: int, lang: str) -> str | None:
    """A listing detail's ETag from its stamp (``hall_detail.detail_stamp``, taken within HALL_VERSION_FRESH_WITHIN
    as the hall's version is); None when it is not public."""
    fresh_within = _fresh_within()
    stamp = hall_detail.detail_stamp(listing_id, fresh_within=fresh_within)
    if stamp is None:
        return None
    _answer_holds(hall_detail.stamp_read_at(listing_id), fresh_within, None)
    query = sorted(request.args.items(multi=True))
    digest = hashlib.blake2b(repr((request.path, query, lang)).encode(), digest_size=8).hexdigest()
    return f"detail-{listing_id}-{stamp}-{digest}"


def _anonymous(view: Any, etag: str | None, args: Any, kwargs: Any) -> Response:
    kept = _ANSWERS.get(etag) if etag is not None else None
    valid_until, period = g.get("hall_answer_holds", (None, None))
    kept_in_front = etag is not None and recent_answers.takes_offer(request.environ, valid_until)
    if etag is not None and not kept_in_front and request.if_none_match.contains_weak(etag):
        response = current_app.response_class(status=304)
        response.set_etag(etag, weak=True)
    elif etag is not None and kept is not None:
        response = current_app.response_class(kept, status=200, mimetype="application/json")
        response.set_etag(etag, weak=True)
    else:
        response = make_response(view(*args, **kwargs))
        if response.status_code != 200:
            return response
        if etag is not None:
            response.set_etag(etag, weak=True)
            _ANSWERS.put(etag, response.get_data())
        else:
            response.add_etag(weak=True)
        if not kept_in_front:  # else the middleware keeps the 200 answer and answers 304 itself
            response.make_conditional(request)
    response.headers["Cache-Control"] = f"public, max-age={_max_age()}"
    if kept_in_front and etag is not None and response.status_code == 200:
        recent_answers.offer(request.environ, etag, valid_until, period, max(1, _max_age()))  # it answers 304
    return response
