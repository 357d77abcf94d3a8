"""Errors a service raises; the HTTP layer turns each into a JSON problem document with its status."""
from __future__ import annotations

from flask_babel.speaklater import LazyString


class ServiceError(Exception):
    """A request that cannot be carried out; ``errors`` maps field names to messages when fields are at fault."""

    status = 400
    title = "Bad Request"

    def __init__(self, message: str | LazyString, errors: dict[str, list[str]] | None = None) -> None:
        text = str(message)  # a lazy constant, in the language of the request that raises it
        super().__init__(text)
        self.message = text
        self.errors = errors or {}


class InvalidInput(ServiceError):
    """The values break a rule; the field errors say which and how to fix them."""

    status = 422
    title = "Unprocessable Entity"

    @classmethod
    def field(cls, name: str, message: str) -> InvalidInput:
        """One field at fault."""
        return cls(f"{name}: {message}", {name: [message]})


class Unauthorized(ServiceError):
    """The caller's credentials are missing or wrong."""

    status = 401
    title = "Unauthorized"


class Forbidden(ServiceError):
    """The caller is known but may not do this."""

    status = 403
    title = "Forbidden"


class NotFound(ServiceError):
    """No such object, or one the caller may not see (the two are indistinguishable on purpose)."""

    status = 404
    title = "Not Found"


class Conflict(ServiceError):
    """The object is not in a state that allows this, or another request changed it first."""

    status = 409
    title = "Conflict"
