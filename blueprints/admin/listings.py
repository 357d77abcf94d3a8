"""Listing review: the queue, browsing, the review page with a revision's differences, the decisions."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from blueprints.actor import actor
from blueprints.admin import admin
from blueprints.admin.actions import form_action
from blueprints.admin.forms import ListingDecisionForm
from blueprints.admin.pages import paginate
from blueprints.downloads import send_attachment
from hall.extensions import db
from hall.models import Listing
from hall.models.listings import LISTING_KINDS, LISTING_STATUSES
from hall.services.console import admin_queries
from hall.services.core.errors import Conflict
from hall.services.docking import data_room_files
from hall.services.publishing import hall, listing_review


@admin.get("/listings/queue")
def review_queue() -> str:
    """Listings and revisions awaiting review, oldest first, filtered by kind, direction and institution."""
    args = request.args
    institution = args.get("institution", type=int)
    institution = institution if institution is not None and 0 < institution < 2**31 else None
    query = admin_queries.review_queue_query(actor(), args.get("kind") or None, args.get("direction") or None,
                                             institution)
    page = paginate(query)
    return render_template("admin/queue.html", page=page, args=args, kinds=LISTING_KINDS,
                           directions=hall.taxonomy())


@admin.get("/listings")
def listing_list() -> str:
    """Every listing by status, with search in titles."""
    status = request.args.get("status") or None
    status = status if status in LISTING_STATUSES else None
    page = paginate(admin_queries.listings_query(actor(), status, request.args.get("q")))
    return render_template("admin/listings.html", page=page, status=status, statuses=LISTING_STATUSES,
                           q=request.args.get("q", ""))


def _listing(listing_id: int) -> Listing:
    listing = db.session.get(Listing, listing_id)
    if listing is None:
        raise NotFound()
    return listing


def _render(listing: Listing, form: ListingDecisionForm, status: int = 200) -> tuple[str, int]:
    waiting = None
    try:
        waiting = listing_review.pending_submission(listing)
    except Conflict:
        pass
    diff: list[tuple[str, Any, Any]] = []
    if waiting == "revision":
        assert listing.working_version is not None  # a revision awaiting review is the working version
        diff = admin_queries.version_diff(listing.published_version, listing.working_version)
    return render_template("admin/listing.html", listing=listing, version=listing.working_version, form=form,
                           waiting=waiting, diff=diff,
                           history=admin_queries.object_history(actor(), "listing", listing.id)), status


@admin.get("/listings/<int:listing_id>")
def listing_review_page(listing_id: int) -> tuple[str, int]:
    """Everything the listing carries; for a revision, its differences from the published version."""
    listing = _listing(listing_id)
    return _render(listing, ListingDecisionForm(lock_version=listing.lock_version))


def _decide(action: str, listing_id: int, reason: str | None, lock_version: int | None) -> None:
    if action == "suspend":
        listing_review.suspend_listing(actor(), listing_id, reason, lock_version)
    elif action == "reinstate":
        listing_review.reinstate_listing(actor(), listing_id, reason, lock_version)
    else:
        listing_review.decide(actor(), listing_id, action, reason, lock_version)


@admin.post("/listings/<int:listing_id>/decision")
def listing_decision(listing_id: int) -> Response | tuple[str, int]:
    """Approve, request changes, reject, suspend or reinstate; refused when the page is stale."""
    listing = _listing(listing_id)
    form = ListingDecisionForm()
    if not form.validate_on_submit():
        return _render(listing, form, 422)
    outcome = form_action(form, lambda: _decide(form.action.data or "", listing_id, form.reason.data,
                                                form.lock_version.data), general_field="reason")
    if outcome.conflict:
        listing = _listing(listing_id)
        return _render(listing, ListingDecisionForm(formdata=None, lock_version=listing.lock_version), 409)
    if outcome.status is not None:
        return _render(_listing(listing_id), form, outcome.status)
    flash(_("Decision recorded; the institution has been told by e-mail."), "success")
    return redirect(url_for("admin.listing_review_page", listing_id=listing_id))


@admin.get("/attachments/<int:attachment_id>")
def attachment(attachment_id: int) -> Response:
    """Any listing's file, for reviewers, as a download — except a confidential one (403: the platform has no
    special access to files under an NDA)."""
    item, path = data_room_files.console_attachment(actor(), attachment_id)
    return send_attachment(item, path)
