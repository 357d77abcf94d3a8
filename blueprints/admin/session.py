"""Signing in and out of the console, and the language switch."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user, logout_user
from werkzeug.wrappers import Response

from blueprints.actor import actor
from blueprints.admin import admin
from blueprints.admin.forms import LanguageForm, SignInForm
from hall.auth import authenticate_throttled, begin_browser_session
from hall.services.accounts import accounts, sessions
from hall.services.core.errors import ServiceError


def _safe_next(target: str | None) -> str:
    """Only paths inside the console are followed after sign-in (no open redirect)."""
    if target and target.startswith("/admin") and not target.startswith("//"):
        return target
    return url_for("admin.dashboard")


@admin.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> str | Response | tuple[str, int] | tuple[str, int, dict[str, str]]:
    """The sign-in page; only platform admins may enter the console. Failed sign-ins count on the same throttle
    as the API's (AUTHN-01)."""
    form = SignInForm(next=request.args.get("next", ""))
    if not form.validate_on_submit():
        return render_template("admin/sign_in.html", form=form), (422 if form.is_submitted() else 200)
    try:
        user = authenticate_throttled(form.email.data or "", form.password.data or "")
    except ServiceError as error:
        if error.status == 401:
            form.password.errors = [_("E-mail address or password is wrong.")]
        elif error.status == 429:
            form.password.errors = [_("Too many failed sign-ins; wait a while before trying again.")]
        else:
            form.password.errors = [error.message]
        retry_after = getattr(error, "retry_after", None)
        headers = {"Retry-After": str(retry_after)} if retry_after else {}
        return render_template("admin/sign_in.html", form=form), error.status, headers
    if not user.is_admin:
        form.email.errors = [_("This console is for platform administrators.")]
        return render_template("admin/sign_in.html", form=form), 403
    begin_browser_session(user)
    refresh()  # the form looked up the visitor's language before we knew who they are
    flash(_("Signed in."), "success")
    return redirect(_safe_next(form.next.data))


@admin.post("/sign-out")
def sign_out() -> Response:
    """End this session server-side."""
    key = current_user.get_id()
    if key:
        sessions.end_session(actor(), key)
    logout_user()
    session.clear()
    return redirect(url_for("admin.sign_in"))


@admin.post("/language")
def language() -> Response:
    """Remember the chosen language on the person."""
    form = LanguageForm()
    if form.validate_on_submit():
        accounts.update_profile(actor(), {"locale": form.locale.data})
    return redirect(_safe_next(form.next.data))
