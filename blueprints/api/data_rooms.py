"""Confidential attachments under an NDA: the NDA text, access requests, approvals and the download log.

Paths (registered without a prefix under /api/v1): the public NDA and the request under /hall/listings/<id>; the
owner's settings, confidential marks and log under /listings/<id>; both sides' requests under /data-room."""
from __future__ import annotations

from typing import Any

from flask_login import login_required

from blueprints.actor import actor
from blueprints.api.base import PAGINATION_HEADER, ApiBlueprint, paginated
from hall.extensions import limiter
from hall.services.docking import data_room_files, data_rooms
from schemas.common import ErrorSchema
from schemas.data_rooms import (
    AccessIn,
    AccessRequestOut,
    ConfidentialIn,
    DataRoomIn,
    DataRoomOut,
    DecisionIn,
    DownloadOut,
    NdaIn,
    NdaOut,
    PageIn,
    RequestQueryIn,
)
from schemas.listings import AttachmentOut

blp = ApiBlueprint("data_rooms", __name__,
                   description="Confidential attachments under an NDA: its text, access requests, the download log")


def _present(request: Any) -> dict[str, Any]:
    return data_rooms.present_request(request, actor().institution_id)


@blp.route("/hall/listings/<int:listing_id>/nda", methods=["GET"])
@blp.response(200, NdaOut)
@blp.alt_response(404, schema=ErrorSchema, description="the listing is not public or has no NDA")
def public_nda(listing_id: int) -> Any:
    """The current NDA of a public listing (text and version): accept this version to request its confidential
    files."""
    return data_rooms.public_nda(listing_id)


@blp.route("/hall/listings/<int:listing_id>/access", methods=["POST"])
@login_required
@limiter.limit("20 per hour", key_func=lambda: f"person:{actor().id}", scope="nda-access")
@blp.arguments(AccessIn)
@blp.response(201, AccessRequestOut)
@blp.alt_response(200, schema=AccessRequestOut, description="a new NDA version accepted on an existing request")
@blp.alt_response(409, schema=ErrorSchema, description="a stale NDA version, no NDA, your own listing, or a request "
                                                       "already waiting or approved")
def request_access(data: dict[str, Any], listing_id: int) -> Any:
    """Accept the listing's current NDA version for your (verified) institution and ask to open its confidential
    files; approved at once when the owner auto-approves. After a new NDA version, accept again to keep access."""
    request, created = data_rooms.request_access(actor(), listing_id, data["nda_version"], data["accept"])
    return _present(request), 201 if created else 200


@blp.route("/data-room/requests", methods=["GET"])
@login_required
@blp.arguments(RequestQueryIn, location="query")
@blp.response(200, AccessRequestOut(many=True), headers=PAGINATION_HEADER)
def list_requests(query: dict[str, Any]) -> Any:
    """Requests for your institution's listings (incoming) and your institution's own requests (outgoing), newest
    first (totals in X-Pagination)."""
    items, total = data_rooms.list_requests(actor(), query.get("side"), query.get("status"), query.get("listing_id"),
                                            page=query["page"], page_size=query["page_size"])
    return paginated(items, total, query["page"], query["page_size"])


def _decide(action: str, request_id: int, data: dict[str, Any]) -> Any:
    return _present(data_rooms.decide(actor(), request_id, action, data.get("reason")))


@blp.route("/data-room/requests/<int:request_id>/approve", methods=["POST"])
@login_required
@blp.arguments(DecisionIn)
@blp.response(200, AccessRequestOut)
def approve_request(data: dict[str, Any], request_id: int) -> Any:
    """Approve a waiting request for one of your listings."""
    return _decide("approve", request_id, data)


@blp.route("/data-room/requests/<int:request_id>/reject", methods=["POST"])
@login_required
@blp.arguments(DecisionIn)
@blp.response(200, AccessRequestOut)
def reject_request(data: dict[str, Any], request_id: int) -> Any:
    """Decline a waiting request (a reason is required; the institution may ask again)."""
    return _decide("reject", request_id, data)


@blp.route("/data-room/requests/<int:request_id>/revoke", methods=["POST"])
@login_required
@blp.arguments(DecisionIn)
@blp.response(200, AccessRequestOut)
def revoke_request(data: dict[str, Any], request_id: int) -> Any:
    """End an approved institution's access (a reason is required)."""
    return _decide("revoke", request_id, data)


@blp.route("/listings/<int:listing_id>/nda", methods=["PUT"])
@login_required
@blp.arguments(NdaIn)
@blp.response(200, NdaOut)
def write_nda(data: dict[str, Any], listing_id: int) -> Any:
    """Write your listing's NDA; each save is a new version, and requesters must accept it again to download."""
    return data_rooms.write_nda(actor(), listing_id, data.get("text_zh"), data.get("text_en"))


@blp.route("/listings/<int:listing_id>/data-room", methods=["GET"])
@login_required
@blp.response(200, DataRoomOut)
def read_data_room(listing_id: int) -> Any:
    """Your listing's data room: auto-approve and the current NDA."""
    return data_rooms.room_settings(actor(), listing_id)


@blp.route("/listings/<int:listing_id>/data-room", methods=["PUT"])
@login_required
@blp.arguments(DataRoomIn)
@blp.response(200, DataRoomOut)
def set_data_room(data: dict[str, Any], listing_id: int) -> Any:
    """Turn auto-approve on or off for your listing."""
    return data_rooms.set_auto_approve(actor(), listing_id, data["auto_approve"])


@blp.route("/listings/<int:listing_id>/attachments/<int:attachment_id>", methods=["PATCH"])
@login_required
@blp.arguments(ConfidentialIn)
@blp.response(200, AttachmentOut)
def mark_attachment(data: dict[str, Any], listing_id: int, attachment_id: int) -> Any:
    """Mark a file of your listing confidential (listed, downloadable only under the NDA) or public again; every
    copy of the file in the listing's versions changes together. A cover image is always public."""
    return data_room_files.set_confidential(actor(), listing_id, attachment_id, data["confidential"])


@blp.route("/listings/<int:listing_id>/downloads", methods=["GET"])
@login_required
@blp.arguments(PageIn, location="query")
@blp.response(200, DownloadOut(many=True), headers=PAGINATION_HEADER)
def list_downloads(query: dict[str, Any], listing_id: int) -> Any:
    """Who downloaded your listing's confidential files: person, institution, when, which file (newest first)."""
    items, total = data_room_files.download_log(actor(), listing_id, page=query["page"],
                                                page_size=query["page_size"])
    return paginated(items, total, query["page"], query["page_size"])
