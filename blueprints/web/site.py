"""What every page shares: the language switch (remembered on the person, or in the session of a visitor)."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, redirect, request, session
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from marshmallow import Schema, ValidationError
from werkzeug.wrappers import Response
from wtforms import HiddenField, SelectChoice, SelectField
from wtforms.validators import AnyOf

from blueprints.actor import actor
from blueprints.web import web
from hall.i18n import LOCALES
from hall.services.accounts import accounts
from hall.services.core.errors import InvalidInput


class LanguageForm(FlaskForm):
    """Switch the site's language."""

    locale = SelectField(choices=[SelectChoice("zh_CN", "中文"), SelectChoice("en", "English")],
                         validators=[AnyOf(LOCALES)])
    next = HiddenField()


def safe_next(target: str | None, default: str) -> str:
    """Only paths on this site are followed after a form (no open redirect). Browsers drop tabs and newlines from
    a URL and read a backslash as a slash, so a path with a control character or a backslash is refused too."""
    if not target or any(ord(c) < 0x20 or c in "\\\x7f" for c in target):
        return default
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.scheme and not parts.netloc:
        return target
    return default


@web.post("/language")
def language() -> Response:
    """Remember the chosen language: on the person when signed in, in the session otherwise."""
    form = LanguageForm()
    if form.validate_on_submit():
        session["locale"] = form.locale.data
        if current_user.is_authenticated:
            accounts.update_profile(actor(), {"locale": form.locale.data})
    return redirect(safe_next(form.next.data, "/"))


@web.get("/language")
def language_link() -> Response:
    """A visitor's language links: the choice is kept in the session (changing language harms nobody, so it needs
    no form). Public pages then carry no CSRF token and set no cookie until a visitor chooses; signed-in people
    use the form, which also remembers the choice on their profile."""
    choice = request.args.get("locale")
    if choice in LOCALES:
        session["locale"] = choice
    return redirect(safe_next(request.args.get("next"), "/"))


# The site's navigation: (endpoint, label, who sees it). Route modules add their entries with ``nav_item``; an entry
# whose endpoint is not registered is left out.
NAV: list[tuple[int, str, Any, str]] = []
AUDIENCES = ("everyone", "visitors", "signed_in", "members")


NAV_BADGES: dict[str, Callable[[], int]] = {}


def nav_item(endpoint: str, label: Any, audience: str = "everyone", position: int = 50,
             badge: Callable[[], int] | None = None) -> None:
    """Add a link to the site's navigation for ``audience`` (everyone, visitors, signed_in or members), ordered by
    ``position``; ``badge`` gives a count shown beside the label when it is not zero (e.g. unread notifications)."""
    assert audience in AUDIENCES
    if badge is not None:
        NAV_BADGES[endpoint] = badge
    NAV.append((position, endpoint, label, audience))
    NAV.sort(key=lambda item: item[0])


def _sees(audience: str) -> bool:
    signed_in = bool(current_user.is_authenticated)
    return {"everyone": True, "visitors": not signed_in, "signed_in": signed_in,
            "members": signed_in and current_user.institution_id is not None}[audience]


@web.app_context_processor
def site_globals() -> dict[str, Any]:
    """``site_nav()``, ``nav_badge(endpoint)`` and ``has_endpoint(name)`` for the web templates."""
    def site_nav() -> list[tuple[str, str]]:
        return [(endpoint, str(label)) for _position, endpoint, label, audience in NAV
                if endpoint in current_app.view_functions and _sees(audience)]

    def nav_badge(endpoint: str) -> int:
        badge = NAV_BADGES.get(endpoint)
        return badge() if badge is not None else 0

    return {"site_nav": site_nav, "has_endpoint": lambda name: name in current_app.view_functions,
            "nav_badge": nav_badge}


def check_with(schema: Schema, data: dict[str, Any]) -> dict[str, Any]:
    """A form's data checked by the API's schema (one set of rules for both doors); refusals are ``InvalidInput``
    naming the fields."""
    try:
        loaded: dict[str, Any] = schema.load(data)
    except ValidationError as error:
        messages = error.messages if isinstance(error.messages, Mapping) else {"_schema": error.messages}
        raise InvalidInput(_("Fix the fields named in errors."), dict(messages)) from None
    return loaded
