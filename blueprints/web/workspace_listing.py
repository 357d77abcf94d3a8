"""One listing in the workspace: its state in words, the reviewers' reasons and the history, the revision waiting
beside the public version, its files (upload, cover, remove, download) and the buttons that submit or withdraw it.
Each button is a POST form with its CSRF token that calls one service; a refusal shows the page again with the
service's message and its status."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from blueprints.actor import actor
from blueprints.display import VERB_WORDS, field_words
from blueprints.downloads import send_attachment
from blueprints.web import web
from blueprints.web.workspace import Page, can_edit, member_page, run
from blueprints.web.workspace_choices import ATTACHMENT_ROLE_LABELS
from blueprints.web.workspace_forms import ActionForm, UploadForm, listing_form
from hall.library_messages import translate_library_message
from hall.models import Listing
from hall.services.core.errors import InvalidInput
from hall.services.publishing import attachments, listings
from hall.services.publishing.hall import listing_is_public
from hall.services.publishing.listings import LISTING_TRANSITIONS

SUBMITTABLE = LISTING_TRANSITIONS["submit"][0] | LISTING_TRANSITIONS["renew"][0]
WITHDRAWABLE = LISTING_TRANSITIONS["withdraw"][0]


def can_submit(listing: Listing) -> bool:
    """Whether a submit button is offered: a draft, a listing returned for changes, a renewal, or a revision of
    a published listing (the service decides)."""
    version = listing.working_version
    if version is None or version.review_status == "submitted":
        return False
    return listing.status in SUBMITTABLE or (listing.status == "published" and listing.has_pending_revision)


def _history(listing: Listing) -> list[dict[str, Any]]:
    """The listing's steps, each with its action in words."""
    steps = []
    for entry in listings.listing_history(actor(), listing.id):
        words = str(VERB_WORDS.get(entry["action"], entry["action"].replace("_", " ")))
        steps.append({**entry, "words": words[:1].upper() + words[1:]})
    return steps


def _missing(listing: Listing, errors: dict[str, list[str]]) -> list[tuple[str, list[str]]]:
    """What a refused submission lacks: each message with the form's labels of the fields it concerns."""
    form = listing_form(listing.kind, formdata=None)
    grouped: dict[str, list[str]] = {}
    for name, messages in errors.items():
        found = form.find(name)
        label = str(found.label.text) if found is not None else field_words(name.rsplit(".", 1)[-1])
        for message in messages:
            grouped.setdefault(translate_library_message(str(message)), []).append(label)
    return list(grouped.items())


def _page(listing: Listing, *, upload: UploadForm | None = None,
          missing: list[tuple[str, list[str]]] | None = None, status: int = 200) -> tuple[str, int]:
    org = actor().institution
    return render_template(
        "web/workspace/listing.html", listing=listing, version=listing.working_version, org=org,
        upload=upload or UploadForm(formdata=None), buttons=ActionForm(formdata=None), history=_history(listing),
        missing=missing or [], can_edit=can_edit(listing), can_submit=can_submit(listing),
        can_withdraw=listing.status in WITHDRAWABLE, public=listing_is_public(listing),
        role_labels=ATTACHMENT_ROLE_LABELS), status


@web.get("/workspace/listings/<int:listing_id>")
@member_page
def workspace_listing(listing_id: int) -> Page:
    """One of the institution's listings as its members manage it."""
    return _page(listings.own_listing(actor(), listing_id))


@web.post("/workspace/listings/<int:listing_id>/submit")
@member_page
def workspace_submit(listing_id: int) -> Page:
    """Send the working version for review (a first submission, a renewal, or a revision). An incomplete listing
    is refused with what it lacks; an institution that is not verified yet is refused with the service's word."""
    listing = listings.own_listing(actor(), listing_id)
    form = ActionForm()
    lacking: dict[str, list[str]] = {}

    def submit() -> Listing:
        try:
            return listings.submit_listing(actor(), listing_id)
        except InvalidInput as error:
            lacking.update(error.errors)
            raise InvalidInput(_("The listing is not complete yet: fill in what the list below names, then submit "
                                 "it again."), error.errors) from None

    revision = listing.status == "published"
    outcome = run(form, submit)
    if outcome.refused:
        listing = listings.own_listing(actor(), listing_id)
        return _page(listing, missing=_missing(listing, lacking), status=outcome.status or 500)
    flash(_("The revision is sent for review; the public keeps seeing the approved version meanwhile.") if revision
          else _("The listing is sent for review; the platform will tell you its decision."), "success")
    return redirect(url_for("web.workspace_listing", listing_id=listing_id))


@web.post("/workspace/listings/<int:listing_id>/withdraw")
@member_page
def workspace_withdraw(listing_id: int) -> Page:
    """Take a published listing out of the hall (submit it again later to renew it)."""
    listings.own_listing(actor(), listing_id)
    outcome = run(ActionForm(), lambda: listings.withdraw_listing(actor(), listing_id))
    if outcome.refused:
        return _page(listings.own_listing(actor(), listing_id), status=outcome.status or 500)
    flash(_("The listing is withdrawn from the hall; submit it again to renew it."), "success")
    return redirect(url_for("web.workspace_listing", listing_id=listing_id))


@web.post("/workspace/listings/<int:listing_id>/attachments")
@member_page
def workspace_upload(listing_id: int) -> Page:
    """Add a PDF or image to the version being edited (type judged by content); a cover replaces the old one.
    On a published listing this starts a revision."""
    listing = listings.own_listing(actor(), listing_id)
    form = UploadForm()
    if not form.validate_on_submit():
        return _page(listing, upload=form, status=422)
    upload = form.file.data
    outcome = run(form, lambda: attachments.add_attachment(actor(), listing_id, upload.stream,
                                                           upload.filename or "", form.role.data or "attachment"),
                  general_field="file")
    if outcome.refused:
        return _page(listings.own_listing(actor(), listing_id), upload=form, status=outcome.status or 500)
    flash(_("The file is added."), "success")
    return redirect(url_for("web.workspace_listing", listing_id=listing_id) + "#files")


@web.post("/workspace/listings/<int:listing_id>/attachments/<int:attachment_id>/delete")
@member_page
def workspace_delete_attachment(listing_id: int, attachment_id: int) -> Page:
    """Remove a file from the version being edited (the public version keeps its own)."""
    listings.own_listing(actor(), listing_id)
    outcome = run(ActionForm(), lambda: attachments.remove_attachment(actor(), listing_id, attachment_id))
    if outcome.refused:
        return _page(listings.own_listing(actor(), listing_id), status=outcome.status or 500)
    flash(_("The file is removed."), "success")
    return redirect(url_for("web.workspace_listing", listing_id=listing_id) + "#files")


@web.get("/workspace/listings/<int:listing_id>/attachments/<int:attachment_id>")
@member_page
def workspace_attachment(listing_id: int, attachment_id: int) -> Response:
    """A file of one of the institution's listings, as a download."""
    attachment, path = attachments.attachment_for_owner(actor(), listing_id, attachment_id)
    return send_attachment(attachment, path)
