"""The signed-in person for a view behind a login check: the one way blueprints name who acts."""
from __future__ import annotations

from flask import request
from flask_login import current_user

from hall.models import User


def actor() -> User:
    """The signed-in person as the User row (not Flask-Login's proxy), to hand to a service."""
    person = current_user._get_current_object()
    assert isinstance(person, User), "actor() is for views behind a login check"
    return person


def viewer() -> User | None:
    """The signed-in person, or None for an anonymous visitor (for pages and reads open to both)."""
    return actor() if current_user.is_authenticated else None


def per_person() -> str:
    """The rate-limit key of the signed-in person (RATE-01): their user id, so one budget whether they come with a
    session cookie (any of their sessions) or a personal access token, on any worker or instance. (The session
    key Flask-Login's ``get_id`` gives is not a person: a token caller has none, and a new sign-in has a new one.)
    An anonymous caller, which a login check normally stops first, is counted by address."""
    person = current_user._get_current_object()
    if isinstance(person, User):
        return f"person:{person.id}"
    return f"address:{request.remote_addr}"
