"""The API's Blueprint: query-string and form arguments are as strict as JSON bodies (unknown ones → 422), and a
JSON body is parsed once (by ``hall.request_hooks.HallRequest``), from at most MAX_JSON_BODY_BYTES."""
from __future__ import annotations

import json
import typing

import flask
from flask_smorest import Api, Blueprint
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.datastructures import CombinedMultiDict

from schemas.common import ErrorSchema


class StrictParser(FlaskParser):
    """webargs excludes unknown query parameters by default; let each schema's ``unknown = RAISE`` decide."""

    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": None, "querystring": None,
                                   "form": None, "multipart": None}

    def _raw_load_json(self, req: flask.Request) -> typing.Any:
        """The request's own parse (kept for every later reader) instead of webargs parsing the bytes again; an
        empty body is no body, as in webargs."""
        if not is_json_request(req) or not req.get_data(cache=True):
            return core.missing
        return req.get_json()

    def load_multipart(self, req: flask.Request, schema: typing.Any) -> typing.Any:
        """A multipart/form-data body's fields and files together, so one schema documents and checks both."""
        return self._makeproxy(CombinedMultiDict([req.form, req.files]), schema)

    __location_map__ = {**FlaskParser.__location_map__, "multipart": "load_multipart"}


class ApiBlueprint(Blueprint):
    """flask-smorest's Blueprint with the strict parser (INPUT-01) and the ``multipart`` location (form fields and
    files of one multipart/form-data body, documented as one request body)."""

    ARGUMENTS_PARSER = StrictParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {**Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
                                             "multipart": "multipart/form-data"}


class HallApi(Api):
    """flask-smorest's Api documenting our error document."""

    ERROR_SCHEMA = ErrorSchema


PAGINATION_HEADER = {"X-Pagination": {"description": "total, total_pages, page, page_size (JSON)",
                                      "schema": {"type": "string"}}}


def paginated(items: typing.Any, total: int, page: int, page_size: int, *,
              size_name: str = "page_size") -> tuple[typing.Any, dict[str, str]]:
    """A list view's answer: the page's items and the X-Pagination header (total, total_pages, page, size)."""
    header = {"total": total, "total_pages": -(-total // page_size), "page": page, size_name: page_size}
    return items, {"X-Pagination": json.dumps(header)}

BINARY = {"format": "binary", "type": "string"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def spreadsheet_download(blp: Blueprint) -> typing.Callable[[typing.Any], typing.Any]:
    """Document a 200 that is a CSV or an XLSX file (the ``format`` query parameter chooses)."""
    def decorate(view: typing.Any) -> typing.Any:
        view = blp.alt_response(200, success=True, content_type=XLSX, schema=BINARY)(view)
        return blp.response(200, BINARY, content_type="text/csv")(view)
    return decorate


def file_download(blp: Blueprint, media_types: typing.Iterable[str]) -> typing.Callable[[typing.Any], typing.Any]:
    """Document a 200 that is a stored file, served with its own media type (one of ``media_types``)."""
    first, *others = sorted(media_types)

    def decorate(view: typing.Any) -> typing.Any:
        for media_type in others:
            view = blp.alt_response(200, success=True, content_type=media_type, schema=BINARY)(view)
        return blp.response(200, BINARY, content_type=first)(view)
    return decorate
