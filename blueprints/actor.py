"""The signed-in person for a view behind a login check: the one way blueprints name who acts."""
from __future__ import annotations

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
