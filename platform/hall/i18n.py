"""Languages (Flask-Babel): zh_CN by default, en; the choice is remembered on the person."""
from __future__ import annotations

from flask import has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user

from hall.money import format_money

LOCALES = ("zh_CN", "en")
API_PREFIX = "/api/"


def select_locale() -> str:
    """The language of this request: an API client's Accept-Language header when it sends one; else the signed-in
    person's language, else the one a visitor chose on the site, else the browser's, else Chinese. Outside a request
    (the command line, jobs), English."""
    if not has_request_context():
        return "en"
    if request.path.startswith(API_PREFIX) and "Accept-Language" in request.headers:
        return _best_of(request.accept_languages.best_match(["zh_CN", "zh", "en"]))
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return str(current_user.locale)
    if session.get("locale") in LOCALES:
        return str(session["locale"])
    return _best_of(request.accept_languages.best_match(["zh_CN", "zh", "en"]))


def _best_of(best: str | None) -> str:
    return "en" if best == "en" else "zh_CN"


def money(amount: int | None, currency: str = "CNY") -> str:
    """Minor units as money in the current locale (¥1,234.50), or an em dash."""
    if amount is None:
        return "—"
    return format_money(amount, currency, get_locale())
