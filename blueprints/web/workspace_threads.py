"""Enquiry threads in the workspace: the institution's threads (unread, open, closed) with the person's unread
count on each, one thread with its messages (opening it marks it read), replying with a text and a file, closing,
reporting, ordering from an enquiry about a listing, and a message's file. Asking about a listing (and answering a
demand) starts on the public page (``web/threads/_ask.html``). Each view calls one threads service with the
signed-in person (``thread_for_party`` answers 404 to anyone but the two institutions' members); a refusal rolls
back and is shown beside its field or on top."""
from __future__ import annotations

from math import ceil
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from blueprints.actor import actor, per_person
from blueprints.downloads import send_attachment
from blueprints.web import web
from blueprints.web.public_views import lang, org_name
from blueprints.web.site import nav_item
from blueprints.web.workspace import Page, member_page, run
from blueprints.web.workspace_forms import ActionForm
from blueprints.web.workspace_order_forms import OrderForm
from blueprints.web.workspace_thread_forms import ReplyForm, ReportForm
from hall.extensions import db, limiter
from hall.models import Demand, Listing
from hall.services.core.errors import NotFound
from hall.services.docking import thread_messages, threads
from hall.services.docking.threads import ThreadView
from hall.services.publishing.hall import published_listing
from schemas.threads import ThreadQueryIn

PER_PAGE = 20
FILTERS = ("unread", "open", "closed")


def _unread_threads() -> int:
    """The navigation badge: how many of the institution's threads hold messages this person has not read."""
    if not current_user.is_authenticated or current_user.institution_id is None:
        return 0
    return threads.list_threads(actor(), unread=True, per_page=1)[1]


nav_item("web.my_threads", _l("Messages"), "members", position=37, badge=_unread_threads)


def message_limit() -> Any:
    """The API's message budget, shared with it (one scope for both doors)."""
    return limiter.shared_limit(lambda: current_app.config["THREAD_MESSAGE_LIMIT"], key_func=per_person,
                                scope="thread-message")


def other_name(view: ThreadView) -> str:
    """The other institution's name in the page's language."""
    return org_name(view.counterpart_institution if view.side == "opener" else view.opener_institution)


def about(view: ThreadView) -> tuple[str, str, str | None]:
    """What the thread is about: (kind in words, title in the page's language, public link or None)."""
    english = lang() == "en"
    if view.listing_id is not None:
        listing = db.session.get(Listing, view.listing_id)
        version = (listing.published_version or listing.working_version) if listing is not None else None
        title = ((version.title_en or version.title_zh) if english else (version.title_zh or version.title_en)) \
            if version is not None else None
        return _("Listing"), title or view.subject, url_for("web.listing", listing_id=view.listing_id)
    demand = db.session.get(Demand, view.demand_id)
    title = ((demand.title_en or demand.title_zh) if english else (demand.title_zh or demand.title_en)) \
        if demand is not None else None
    link = url_for("web.demand", demand_id=view.demand_id) if "web.demand" in current_app.view_functions else None
    return _("Demand"), title or view.subject, link


# --- The list ----------------------------------------------------------------------------------------------------


def _list_query() -> tuple[str | None, dict[str, Any]]:
    """The filter (unread, open or closed) and the page from the address, checked by the API's schema."""
    shown = request.args.get("show")
    shown = shown if shown in FILTERS else None
    given: dict[str, Any] = {"page": request.args.get("page", "1")}
    if shown == "unread":
        given["unread"] = "true"
    elif shown is not None:
        given["status"] = shown
    try:
        query = dict(ThreadQueryIn().load(given))
    except ValidationError:  # a page number the schema refuses: the first page
        query = dict(ThreadQueryIn().load({k: v for k, v in given.items() if k != "page"}))
    query.pop("page_size", None)
    return shown, query


@web.get("/workspace/threads")
@member_page
def my_threads() -> Page:
    """The institution's enquiries, latest message first, with how many messages this person has not read."""
    shown, query = _list_query()
    page = query.pop("page")
    items, total = threads.list_threads(actor(), page=page, per_page=PER_PAGE, **query)
    rows = [(view, other_name(view), about(view)) for view in items]
    return render_template("web/threads/list.html", rows=rows, total=total, page=page,
                           pages=max(ceil(total / PER_PAGE), 1), shown=shown, filters=FILTERS)


# --- One thread --------------------------------------------------------------------------------------------------


def _order_form(view: ThreadView, form: OrderForm | None = None) -> tuple[OrderForm | None, Any, Any]:
    """The order form for the asking institution of an open thread about a listing still in the hall."""
    if view.side != "opener" or view.listing_id is None or view.status != "open":
        return None, None, None
    try:
        listing, version = published_listing(view.listing_id)
    except NotFound:
        return None, None, None
    form = form or OrderForm(formdata=None, prefix="order")
    form.deal_mode.choices = [(mode, _(mode)) for mode in version.deal_modes]
    return form, listing, version


def _page(thread_id: int, *, reply: ReplyForm | None = None, report: ReportForm | None = None,
          order: OrderForm | None = None, status: int = 200) -> tuple[str, int]:
    view = threads.read_thread(actor(), thread_id)  # marks it read (the service does)
    order_form, listing, version = _order_form(view, order)
    return render_template(
        "web/threads/thread.html", view=view, other=other_name(view), about=about(view),
        reply=reply or ReplyForm(formdata=None), report=report or ReportForm(formdata=None, prefix="report"),
        buttons=ActionForm(formdata=None), order=order_form, listing=listing, version=version,
        licence_modes=[m for m in version.deal_modes if m.endswith("_license")] if version is not None else [],
        order_open=order is not None), status


@web.get("/workspace/threads/<int:thread_id>")
@member_page
def workspace_thread(thread_id: int) -> Page:
    """One thread of the institution, messages oldest first; opening it marks it read for this person."""
    return _page(thread_id)


@web.post("/workspace/threads/<int:thread_id>/messages")
@member_page
@message_limit()
def workspace_thread_reply(thread_id: int) -> Page:
    """Write in the thread: a text, a PDF or image (checked by content, as listing files), or both; the other
    institution's members are notified."""
    thread_messages.thread_for_party(actor(), thread_id)
    form = ReplyForm()
    if not form.validate_on_submit():
        return _page(thread_id, reply=form, status=422)
    outcome = run(form, lambda: thread_messages.post_message(actor(), thread_id, form.text(), form.upload()),
                  general_field="file")
    if outcome.refused:
        flash(_("Nothing was sent: correct the fields marked below."), "error")
        return _page(thread_id, reply=form, status=outcome.status or 500)
    flash(_("Your message is sent."), "success")
    return redirect(url_for("web.workspace_thread", thread_id=thread_id) + "#latest")


@web.post("/workspace/threads/<int:thread_id>/close")
@member_page
def workspace_thread_close(thread_id: int) -> Page:
    """End the conversation (either side); a closed thread takes no more messages."""
    thread_messages.thread_for_party(actor(), thread_id)
    outcome = run(ActionForm(), lambda: threads.close_thread(actor(), thread_id))
    if outcome.refused:
        return _page(thread_id, status=outcome.status or 500)
    flash(_("The thread is closed."), "success")
    return redirect(url_for("web.workspace_thread", thread_id=thread_id))


@web.post("/workspace/threads/<int:thread_id>/report")
@member_page
def workspace_thread_report(thread_id: int) -> Page:
    """Report the thread to the platform; its admins may read it from then on."""
    thread_messages.thread_for_party(actor(), thread_id)
    form = ReportForm(prefix="report")
    if not form.validate_on_submit():
        return _page(thread_id, report=form, status=422)
    outcome = run(form, lambda: threads.report_thread(actor(), thread_id, form.checked()))
    if outcome.refused:
        return _page(thread_id, report=form, status=outcome.status or 500)
    flash(_("The thread is reported; the platform will look into it."), "success")
    return redirect(url_for("web.workspace_thread", thread_id=thread_id))


@web.post("/workspace/threads/<int:thread_id>/order")
@member_page
@limiter.shared_limit(lambda: current_app.config["ORDER_CREATE_LIMIT"], key_func=per_person,
                      scope="order-create-web")
def workspace_thread_order(thread_id: int) -> Page:
    """The asking institution orders the listing the thread is about (the thread remembers the order)."""
    thread = thread_messages.thread_for_party(actor(), thread_id)
    form = OrderForm(prefix="order")
    listing = db.session.get(Listing, thread.listing_id) if thread.listing_id is not None else None
    if listing is None:  # a thread about a demand: the service says where orders start
        run(form, lambda: threads.order_from_thread(actor(), thread_id, {}))
        return _page(thread_id, status=409)
    if listing is not None and listing.published_version is not None:
        form.deal_mode.choices = [(mode, _(mode)) for mode in listing.published_version.deal_modes]
    body = form.checked(listing.id, listing.kind) if form.validate_on_submit() else None
    if body is None:
        flash(_("Nothing was ordered: correct the fields marked below."), "error")
        return _page(thread_id, order=form, status=422)
    body.pop("listing_id")
    outcome = run(form, lambda: threads.order_from_thread(actor(), thread_id, body))
    if outcome.refused or outcome.value is None:
        return _page(thread_id, order=form, status=outcome.status or 500)
    _view, placed, created = outcome.value
    flash(_("Your order is placed; follow it here.") if created
          else _("You already have this order open: here it is."), "success")
    return redirect(url_for("web.workspace_order", order_id=placed.id))


@web.get("/workspace/threads/<int:thread_id>/messages/<int:message_id>/file")
@member_page
def workspace_thread_file(thread_id: int, message_id: int) -> Response:
    """A message's file, as a download, for the two institutions' members only."""
    stored, path = thread_messages.message_file(actor(), thread_id, message_id)
    return send_attachment(stored, path)


from blueprints.web import workspace_thread_ask  # noqa: E402,F401  (asking from the public pages)
