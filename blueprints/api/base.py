"""The API's Blueprint: query-string and form arguments are as strict as JSON bodies (unknown ones → 422)."""
from __future__ import annotations

from flask_smorest import Blueprint
from webargs.flaskparser import FlaskParser


class StrictParser(FlaskParser):
    """webargs excludes unknown query parameters by default; let each schema's ``unknown = RAISE`` decide."""

    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": None, "querystring": None,
                                   "form": None}


class ApiBlueprint(Blueprint):
    """flask-smorest's Blueprint with the strict parser (INPUT-01)."""

    ARGUMENTS_PARSER = StrictParser()
