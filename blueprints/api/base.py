"""The API's Blueprint: query-string and form arguments are as strict as JSON bodies (unknown ones → 422), and a
JSON body is parsed once (by ``hall.request_hooks.HallRequest``), from at most MAX_JSON_BODY_BYTES."""
from __future__ import annotations

import typing

import flask
from flask_smorest import Blueprint
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request


class StrictParser(FlaskParser):
    """webargs excludes unknown query parameters by default; let each schema's ``unknown = RAISE`` decide."""

    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": None, "querystring": None,
                                   "form": None}

    def _raw_load_json(self, req: flask.Request) -> typing.Any:
        """The request's own parse (kept for every later reader) instead of webargs parsing the bytes again; an
        empty body is no body, as in webargs."""
        if not is_json_request(req) or not req.get_data(cache=True):
            return core.missing
        return req.get_json()


class ApiBlueprint(Blueprint):
    """flask-smorest's Blueprint with the strict parser (INPUT-01)."""

    ARGUMENTS_PARSER = StrictParser()
