"""Languages (Flask-Babel): zh_CN by default, en; the choice is remembered on the person."""
from __future__ import annotations

from flask import has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user

from hall.money import format_money

LOCALES = ("zh_CN", "en")


def select_locale() -> str:
    """The signed-in person's language, else the one a visitor chose on the site, else the browser's, else
    Chinese."""
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return str(current_user.locale)
    if has_request_context() and session.get("locale") in LOCALES:
        return str(session["locale"])
    best = request.accept_languages.best_match(["zh_CN", "zh", "en"]) if request else None
    return "en" if best == "en" else "zh_CN"


def money(amount: int | None, currency: str = "CNY") -> str:
    """Minor units as money in the current locale (¥1,234.50), or an em dash."""
    if amount is None:
        return "—"
    return format_money(amount, currency, get_locale())
