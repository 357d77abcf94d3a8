"""The institution workspace: a member's overview, the institution's listings, and the forms that create and edit
them. Every page calls the listings service with the signed-in person (``own_listing`` answers 404 for another
institution's listing, AUTHZ-01); the content goes through the API's schema; a refusal rolls back and is shown
beside the fields it names (``admin.actions.form_action``). The listing page, its buttons and its files are in
``workspace_listing``."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from math import ceil
from typing import Any, ParamSpec
from urllib.parse import quote

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from blueprints.actor import actor
from blueprints.admin.actions import Outcome, form_action
from blueprints.web import web
from blueprints.web.site import nav_item
from blueprints.web.workspace_forms import (
    ListingForm,
    initial_data,
    listing_form,
    new_listing_data,
    translate_errors,
)
from hall.models import Listing
from hall.models.listings import LISTING_KINDS, LISTING_STATUSES
from hall.services.publishing import listings
from hall.services.publishing.listing_rules import jsonable
from schemas.listings import ListingStatusQuery

Page = str | Response | tuple[str, int]
P = ParamSpec("P")
PER_PAGE = 20
RECENT = 5

nav_item("web.workspace", _l("Workspace"), "members", position=30)


def _sign_in_url() -> str:
    """The site's sign-in page, coming back here afterwards (to the workspace after a refused POST)."""
    here = request.full_path.rstrip("?") if request.method == "GET" else url_for("web.workspace")
    if "web.sign_in" in current_app.view_functions:
        return url_for("web.sign_in", next=here)
    return "/sign-in?next=" + quote(here, safe="/")


def member_page(view: Callable[P, Page]) -> Callable[P, Page]:
    """Anonymous visitors go to sign in; a person who belongs to no institution is told how to join one (403)."""
    @wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> Page:
        if not current_user.is_authenticated:
            return redirect(_sign_in_url())
        if current_user.institution_id is None:
            return render_template("web/workspace/no_institution.html"), 403
        return view(*args, **kwargs)
    return guarded


def run(form: Any, call: Callable[[], Any], **options: Any) -> Outcome[Any]:
    """``form_action`` (rollback, messages beside their fields, a conflict on top), the messages translated."""
    outcome = form_action(form, call, **options)
    if outcome.refused:
        translate_errors(form)
    return outcome


def can_edit(listing: Listing) -> bool:
    """Whether the listing's content can be changed now (the service decides; this only offers the buttons)."""
    version = listing.working_version
    return listing.status in listings.EDITABLE_STATUSES and version is not None \
        and version.review_status != "submitted"


# --- Overview and list -------------------------------------------------------------------------------------------


@web.get("/workspace")
@member_page
def workspace() -> Page:
    """The institution at a glance: its verification, its listings by status, the latest ones."""
    person = actor()
    counts = listings.count_own_listings(person)
    recent, total = listings.list_own_listings(person, page=1, per_page=RECENT)
    return render_template("web/workspace/overview.html", org=person.institution, counts=counts, recent=recent,
                           total=total)


def _list_query() -> dict[str, Any]:
    """The list's filters from the address, checked by the API's schema; a value it refuses is left out."""
    given = {name: request.args[name] for name in ("status", "kind", "page") if request.args.get(name)}
    try:
        return dict(ListingStatusQuery().load(given))
    except ValidationError as error:
        refused = error.messages if isinstance(error.messages, dict) else {}
        return dict(ListingStatusQuery().load({k: v for k, v in given.items() if k not in refused}))


@web.get("/workspace/listings")
@member_page
def my_listings() -> Page:
    """The institution's listings, newest first, by status and kind, a page at a time."""
    query = _list_query()
    items, total = listings.list_own_listings(actor(), query.get("status"), query.get("kind"), page=query["page"],
                                              per_page=PER_PAGE)
    return render_template("web/workspace/listings.html", items=items, total=total, page=query["page"],
                           pages=max(ceil(total / PER_PAGE), 1), status=query.get("status"),
                           kind=query.get("kind"), statuses=LISTING_STATUSES, kinds=LISTING_KINDS,
                           editable=can_edit)


# --- Create and edit ---------------------------------------------------------------------------------------------


def _form_page(form: ListingForm, status: int, listing: Listing | None = None) -> tuple[str, int]:
    if status == 422 or (status >= 400 and form.has_errors()):
        flash(_("Nothing was saved: correct the fields marked below."), "error")
    action = url_for("web.workspace_edit_listing", listing_id=listing.id) if listing is not None \
        else url_for("web.workspace_new_listing", kind=form.kind)
    return render_template("web/workspace/form.html", form=form, listing=listing, action=action,
                           org=actor().institution), status


@web.route("/workspace/listings/new", methods=["GET", "POST"])
@member_page
def workspace_new_listing() -> Page:
    """Start a draft: an achievement or a first-of-kind product (``?kind=``); without a kind, choose one.
    An institution that is not verified yet may prepare drafts; submitting waits for its verification."""
    kind = request.args.get("kind", "")
    if kind not in LISTING_KINDS:
        return render_template("web/workspace/choose_kind.html", org=actor().institution)
    posted = request.method == "POST"
    form = listing_form(kind, data=None if posted else new_listing_data(kind))
    if posted and "add_ip_asset" in request.form:
        form.add_ip_row()
        return _form_page(form, 200)
    if not form.validate_on_submit():
        return _form_page(form, 422 if posted else 200)
    outcome = run(form, lambda: listings.create_draft(actor(), kind, form.content()))
    if outcome.refused or outcome.value is None:
        return _form_page(form, outcome.status or 500)
    flash(_("The draft is saved. Add files, then submit it for review when it is complete."), "success")
    return redirect(url_for("web.workspace_listing", listing_id=outcome.value.id))


def _lock_version(value: str | None) -> int:
    """The lock version the form was opened with (0, which never matches, when it is missing or garbled)."""
    return int(value) if value and value.isdigit() and len(value) < 10 else 0


def _changes(form: ListingForm, listing: Listing) -> dict[str, Any]:
    """The form's checked content, only what differs from the version being edited."""
    version = listing.working_version
    return {name: value for name, value in form.content().items()
            if jsonable(value) != jsonable(getattr(version, name))}


STALE = _l("Someone else changed this listing since you opened it. The form now shows the current values: "
           "apply your changes again.")


@web.route("/workspace/listings/<int:listing_id>/edit", methods=["GET", "POST"])
@member_page
def workspace_edit_listing(listing_id: int) -> Page:
    """Edit the version being worked on, guarded by the lock version the form was opened with: a change made by
    someone else meanwhile is never overwritten. Editing a published listing makes a revision; the public keeps
    the approved version until the revision is approved."""
    listing = listings.own_listing(actor(), listing_id)
    if not can_edit(listing):
        flash(_("This listing cannot be edited while it is %(status)s.", status=_(listing.status)), "error")
        return redirect(url_for("web.workspace_listing", listing_id=listing.id))
    version = listing.working_version
    assert version is not None
    if request.method == "GET":
        form = listing_form(listing.kind, data=initial_data(listing.kind, version), lock_version=listing.lock_version)
        return _form_page(form, 200, listing)
    form = listing_form(listing.kind, current_region=version.region_code)
    if "add_ip_asset" in request.form:
        form.add_ip_row()
        return _form_page(form, 200, listing)
    if not form.validate_on_submit():
        return _form_page(form, 422, listing)
    expected = _lock_version(form.lock_version.data)
    stale = expected != listing.lock_version

    def save() -> Listing | None:
        changes = _changes(form, listing)
        if not changes and not stale:
            return None
        return listings.edit_listing(actor(), listing_id, changes, expected)

    outcome = run(form, save, conflict_message=str(STALE) if stale else None)
    if outcome.conflict:
        return _reloaded(listing_id)
    if outcome.refused:
        return _form_page(form, outcome.status or 500, listing)
    if outcome.value is None:
        flash(_("Nothing changed."), "success")
    elif outcome.value.has_pending_revision:
        flash(_("Saved as a revision. The public keeps seeing the approved version until the platform approves "
                "the revision: submit it when it is ready."), "success")
    else:
        flash(_("Your changes are saved."), "success")
    return redirect(url_for("web.workspace_listing", listing_id=listing_id))


def _reloaded(listing_id: int) -> Page:
    """After a conflict: the form afresh with the current values and lock version (409), or the listing page when
    it can no longer be edited."""
    listing = listings.own_listing(actor(), listing_id)
    if not can_edit(listing) or listing.working_version is None:
        return redirect(url_for("web.workspace_listing", listing_id=listing.id))
    form = listing_form(listing.kind, formdata=None, data=initial_data(listing.kind, listing.working_version),
                        lock_version=listing.lock_version)
    return _form_page(form, 409, listing)


from blueprints.web import workspace_listing  # noqa: E402,F401  (the listing page's routes)
