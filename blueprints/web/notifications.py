"""The person's notifications on the site (/notifications, for every signed-in person, with or without an
institution): the inbox with mark-read buttons, "mark all read", and the mail preferences per group. The unread
count is shown as a badge on the navigation entry."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField

from blueprints.actor import actor
from blueprints.web import web
from blueprints.web.site import nav_item
from blueprints.web.workspace import Page, run
from blueprints.web.workspace_forms import ActionForm
from hall.services.core import inbox

P = ParamSpec("P")
PER_PAGE = 20
# The groups in words, in the order the preferences form shows them.
GROUP_LABELS = {
    "reviews": _l("Review decisions (listings, institution verification)"),
    "matches": _l("New matches"),
    "messages": _l("New messages"),
    "orders": _l("Orders, quotes and payments"),
    "nda": _l("NDA and data room requests"),
    "notices": _l("Public notices"),
}


def _unread_badge() -> int:
    return inbox.unread_count(actor()) if current_user.is_authenticated else 0


nav_item("web.notifications", _l("Notifications"), "signed_in", position=55, badge=_unread_badge)


class PreferencesForm(FlaskForm):
    """Mail on or off per group of events (an unticked box is "no mail")."""

    reviews = BooleanField(GROUP_LABELS["reviews"])
    matches = BooleanField(GROUP_LABELS["matches"])
    messages = BooleanField(GROUP_LABELS["messages"])
    orders = BooleanField(GROUP_LABELS["orders"])
    nda = BooleanField(GROUP_LABELS["nda"])
    notices = BooleanField(GROUP_LABELS["notices"])

    def choices(self) -> dict[str, bool]:
        """The ticked groups as the service takes them."""
        return {group: bool(self[group].data) for group in inbox.GROUPS}


def signed_in(view: Callable[P, Page]) -> Callable[P, Page]:
    """Anonymous visitors go to sign in, and come back to the notifications afterwards."""
    @wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> Page:
        if not current_user.is_authenticated:
            here = request.full_path.rstrip("?") if request.method == "GET" else url_for("web.notifications")
            return redirect(url_for("web.sign_in", next=here))
        return view(*args, **kwargs)
    return guarded


def _page(form: PreferencesForm | None = None, status: int = 200) -> tuple[str, int]:
    person = actor()
    unread_only = request.args.get("unread") == "1"
    try:
        page = max(1, min(int(request.args.get("page", "1")), 10_000))
    except ValueError:
        page = 1
    items, total = inbox.list_notifications(person, page=page, page_size=PER_PAGE, unread=unread_only)
    if form is None:
        form = PreferencesForm(formdata=None, data=inbox.preferences(person))
    return render_template("web/notifications/index.html", items=items, total=total, page=page,
                           pages=-(-total // PER_PAGE), unread_only=unread_only,
                           unread=inbox.unread_count(person), form=form, buttons=ActionForm(formdata=None),
                           groups=GROUP_LABELS), status


@web.get("/notifications")
@signed_in
def notifications() -> Page:
    """The inbox, newest first (``?unread=1``: unread only), and the mail preferences."""
    return _page()


@web.post("/notifications/<int:notification_id>/read")
@signed_in
def read_notification(notification_id: int) -> Page:
    """Mark one notification read; with ``open`` set, go on to the page it links to."""
    outcome = run(ActionForm(), lambda: inbox.mark_read(actor(), notification_id))
    if outcome.refused:
        return _page(status=outcome.status or 500)
    link = outcome.value.link if outcome.value is not None else None
    if request.form.get("open") and link and link.startswith("/") and not link.startswith("//"):
        return redirect(link)
    return redirect(url_for("web.notifications"))


@web.post("/notifications/read-all")
@signed_in
def read_all_notifications() -> Page:
    """Mark every notification read."""
    outcome = run(ActionForm(), lambda: inbox.mark_all_read(actor()))
    if outcome.refused:
        return _page(status=outcome.status or 500)
    flash(_("All notifications are marked read."), "success")
    return redirect(url_for("web.notifications"))


@web.post("/notifications/preferences")
@signed_in
def notification_preferences() -> Page:
    """Save which groups of events also come by mail."""
    form = PreferencesForm()
    if not form.validate_on_submit():
        return _page(form, 422)
    outcome = run(form, lambda: inbox.set_preferences(actor(), form.choices()))
    if outcome.refused:
        return _page(form, outcome.status or 500)
    flash(_("Your mail preferences are saved."), "success")
    return redirect(url_for("web.notifications"))
