"""One pattern for the console's form actions: run the service call; on refusal roll back, put the messages beside
the form's fields (or on top when they concern the whole object) and tell the view which status to answer."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from flask import flash
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from hall.extensions import db
from hall.payments import GatewayError
from hall.services.core.errors import Conflict, ServiceError

T = TypeVar("T")


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What a form action came to: the service's value, or the status of its refusal (and whether it was a
    conflict with a change made meanwhile, after which the page shows the object afresh)."""

    value: T | None = None
    status: int | None = None
    conflict: bool = False

    @property
    def refused(self) -> bool:
        """Whether the service refused (nothing was kept)."""
        return self.status is not None


def form_action(form: FlaskForm, call: Callable[[], T], *, general_field: str | None = None,
                conflict_message: str | None = None) -> Outcome[T]:
    """Run ``call``; a ServiceError rolls back the request's changes (the page must show the object as it was) and
    places each message beside its field, or on ``general_field`` / on top of the page when no field takes it.

    A Conflict (someone changed the object meanwhile) is always shown on top, as ``conflict_message`` if given.
    A payment provider that refuses or cannot be reached answers 502 with nothing recorded."""
    try:
        return Outcome(value=call())
    except Conflict as error:
        db.session.rollback()
        flash(conflict_message or error.message, "error")
        return Outcome(status=error.status, conflict=True)
    except ServiceError as error:
        db.session.rollback()
        placed = False
        for name, messages in error.errors.items():
            if name in form:
                form[name].errors = list(messages)
                placed = True
        if not placed and general_field is not None and general_field in form:
            form[general_field].errors = [error.message]
            placed = True
        if not placed:
            flash(error.message, "error")
        return Outcome(status=error.status)
    except GatewayError as error:
        db.session.rollback()
        flash(_("The payment provider refused or could not be reached; nothing was recorded: %(error)s",
                error=str(error)), "error")
        return Outcome(status=502)
