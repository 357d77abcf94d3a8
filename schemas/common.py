"""Schema pieces shared by every resource."""
from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load

MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL


class StrictSchema(Schema):
    """An input schema: unknown fields are refused (AUTHZ-03, INPUT-01) and strings trimmed."""

    class Meta:
        unknown = RAISE

    @pre_load
    def _strip_strings(self, data: Any, **_kwargs: Any) -> Any:
        if isinstance(data, dict):
            return {key: value.strip() if isinstance(value, str) else value for key, value in data.items()}
        return data


def checked_by(check: Any) -> Any:
    """Turn a ``*_problem`` function (returns a message or None) into a marshmallow validator."""

    def _validate(value: str) -> None:
        problem = check(value)
        if problem:
            raise ValidationError(problem)

    return _validate


class ErrorSchema(Schema):
    """The JSON problem document every error answers with."""

    status = fields.Integer(required=True)
    title = fields.String(required=True)
    message = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), metadata={"description": "field name → what to fix"})
    request_id = fields.String(allow_none=True)

