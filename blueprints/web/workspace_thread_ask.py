"""Starting an enquiry from a public page: "Ask the institution" on a listing, "Answer this demand" on a demand.
The form sits on the public page (``web/threads/_ask.html``, ``web/threads/_answer.html``); the thread is opened by
the threads service (a member of another verified institution, a published listing or demand) and the person is
taken to it. A refusal shows the form again on its own page with the messages beside the fields."""
from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from blueprints.actor import actor, per_person
from blueprints.web import web
from blueprints.web.public_views import lang
from blueprints.web.workspace import Page, member_page, run
from blueprints.web.workspace_thread_forms import AskForm
from hall.extensions import limiter
from hall.services.docking import threads
from hall.services.docking.demand_hall import published_demand
from hall.services.publishing.hall import published_listing


def _create_limit() -> Any:
    """The API's budget for new threads, per person."""
    return limiter.shared_limit(lambda: current_app.config["THREAD_CREATE_LIMIT"], key_func=per_person,
                                scope="thread-create-web")


def _title(zh: str | None, en: str | None) -> str:
    return ((en or zh) if lang() == "en" else (zh or en)) or ""


def _opened(outcome: Any) -> Response:
    view, created = outcome.value
    flash(_("Your message is sent; the institution is told.") if created
          else _("Your institution already has this enquiry open: here it is (nothing was added to it)."),
          "success")
    return redirect(url_for("web.workspace_thread", thread_id=view.id))


def _refused(form: AskForm, title: str, back: str, status: int) -> tuple[str, int]:
    flash(_("Nothing was sent: correct the fields marked below."), "error")
    return render_template("web/threads/ask.html", form=form, title=title, back=back), status


@web.post("/hall/listings/<int:listing_id>/ask")
@member_page
@_create_limit()
def ask_listing(listing_id: int) -> Page:
    """Ask the institution about its published listing: opens the enquiry (or finds the open one) and goes to it."""
    _listing, version = published_listing(listing_id)
    title, back = _title(version.title_zh, version.title_en), url_for("web.listing", listing_id=listing_id)
    form = AskForm()
    if not form.validate_on_submit():
        return _refused(form, title, back, 422)
    outcome = run(form, lambda: threads.open_thread(actor(), **form.checked(listing_id=listing_id)),
                  general_field="body")
    if outcome.refused or outcome.value is None:
        return _refused(form, title, back, outcome.status or 500)
    return _opened(outcome)


@web.post("/demands/<int:demand_id>/answer")
@member_page
@_create_limit()
def answer_demand(demand_id: int) -> Page:
    """Answer another institution's published demand: opens the thread (or finds the open one) and goes to it."""
    demand = published_demand(demand_id)
    title = _title(demand.title_zh, demand.title_en)
    back = url_for("web.demand", demand_id=demand_id) if "web.demand" in current_app.view_functions else "/"
    form = AskForm()
    if not form.validate_on_submit():
        return _refused(form, title, back, 422)
    outcome = run(form, lambda: threads.open_thread(actor(), **form.checked(demand_id=demand_id)),
                  general_field="body")
    if outcome.refused or outcome.value is None:
        return _refused(form, title, back, outcome.status or 500)
    return _opened(outcome)
