"""The owner's side of listings: drafts, edits with If-Match, attachments, submission, withdrawal, history."""
from __future__ import annotations

from typing import Any

from flask_login import login_required
from flask_smorest.fields import Upload
from marshmallow import fields, validate

from blueprints.actor import actor
from blueprints.api.base import PAGINATION_HEADER, ApiBlueprint, file_download, paginated
from blueprints.downloads import send_attachment
from hall.models.listings import ATTACHMENT_ROLES
from hall.services.publishing import attachments, listings
from hall.services.publishing.attachments import ALLOWED_TYPES
from schemas.common import StrictSchema
from schemas.listings import (
    AttachmentOut,
    HistoryEntryOut,
    ListingContentIn,
    ListingCreateIn,
    ListingEtagSchema,
    ListingOut,
    ListingStatusQuery,
)

blp = ApiBlueprint("listings", __name__, url_prefix="/listings",
                description="Your institution's listings: drafts, revisions, review")


class UploadIn(StrictSchema):
    """A file upload (multipart/form-data): the file and what it is for."""

    file = Upload(required=True)
    role = fields.String(load_default="attachment", validate=validate.OneOf(ATTACHMENT_ROLES))


def _with_etag(listing: Any) -> Any:
    blp.set_etag(listing, ListingEtagSchema)
    return listing


@blp.route("", methods=["GET"])
@login_required
@blp.arguments(ListingStatusQuery, location="query")
@blp.response(200, ListingOut(many=True), headers=PAGINATION_HEADER)
def list_listings(query: dict[str, Any]) -> Any:
    """Your institution's listings, newest first, optionally by status and kind (totals in X-Pagination)."""
    items, total = listings.list_own_listings(actor(), query.get("status"), query.get("kind"), page=query["page"],
                                              per_page=query["page_size"])
    return paginated(items, total, query["page"], query["page_size"])


@blp.route("", methods=["POST"])
@login_required
@blp.etag
@blp.arguments(ListingCreateIn)
@blp.response(201, ListingOut)
def create_listing(data: dict[str, Any]) -> Any:
    """Start a draft (achievement or first-of-kind); content may be filled in over several edits. The ETag is the
    one a GET would give: send it as If-Match with the first edit."""
    kind = data.pop("kind")
    return _with_etag(listings.create_draft(actor(), kind, data))


@blp.route("/<int:listing_id>", methods=["GET"])
@login_required
@blp.etag
@blp.response(200, ListingOut)
def read_listing(listing_id: int) -> Any:
    """One of your listings with the version being edited; the ETag guards edits."""
    return _with_etag(listings.own_listing(actor(), listing_id))


@blp.route("/<int:listing_id>", methods=["PATCH"])
@login_required
@blp.etag
@blp.arguments(ListingContentIn)
@blp.response(200, ListingOut)
def edit_listing(changes: dict[str, Any], listing_id: int) -> Any:
    """Edit the content. Send If-Match with the ETag you read (428 without, 412 when stale). Editing a published
    listing makes a revision that is reviewed while the public keeps the approved version."""
    listing = listings.own_listing(actor(), listing_id)
    blp.check_etag(listing, ListingEtagSchema)
    return _with_etag(listings.edit_listing(actor(), listing_id, changes, listing.lock_version))


@blp.route("/<int:listing_id>/submit", methods=["POST"])
@login_required
@blp.etag
@blp.response(200, ListingOut)
def submit_listing(listing_id: int) -> Any:
    """Send for review: a draft, a listing returned for changes, a renewal, or a revision."""
    return _with_etag(listings.submit_listing(actor(), listing_id))


@blp.route("/<int:listing_id>/withdraw", methods=["POST"])
@login_required
@blp.etag
@blp.response(200, ListingOut)
def withdraw_listing(listing_id: int) -> Any:
    """Take a published listing out of the hall (submit it again later to renew)."""
    return _with_etag(listings.withdraw_listing(actor(), listing_id))


@blp.route("/<int:listing_id>/history", methods=["GET"])
@login_required
@blp.response(200, HistoryEntryOut(many=True))
def listing_history(listing_id: int) -> Any:
    """Every step of the listing's lifecycle with the platform's reasons."""
    return listings.listing_history(actor(), listing_id)


@blp.route("/<int:listing_id>/attachments", methods=["POST"])
@login_required
@blp.arguments(UploadIn, location="multipart")
@blp.response(201, AttachmentOut)
def add_attachment(form: dict[str, Any], listing_id: int) -> Any:
    """Upload a PDF or image (at most 10 MB; type judged by content). role=cover sets the cover image."""
    upload = form["file"]
    return attachments.add_attachment(actor(), listing_id, upload.stream, upload.filename or "", form["role"])


@blp.route("/<int:listing_id>/attachments/<int:attachment_id>", methods=["DELETE"])
@login_required
@blp.response(204)
def remove_attachment(listing_id: int, attachment_id: int) -> None:
    """Remove a file from the version being edited."""
    attachments.remove_attachment(actor(), listing_id, attachment_id)


@blp.route("/<int:listing_id>/attachments/<int:attachment_id>", methods=["GET"])
@login_required
@file_download(blp, ALLOWED_TYPES)
def download_attachment(listing_id: int, attachment_id: int) -> Any:
    """Download a file of one of your listings."""
    attachment, path = attachments.attachment_for_owner(actor(), listing_id, attachment_id)
    return send_attachment(attachment, path)
