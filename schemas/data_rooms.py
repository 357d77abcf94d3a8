"""NDA data rooms: the NDA text, access requests and decisions, the owner's settings and download log."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from hall.models.data_rooms import ACCESS_STATUSES, NDA_TEXT_LENGTH
from schemas.common import MAX_ID, StrictSchema


class NdaOut(Schema):
    """A version of a listing's NDA (the current one is the highest)."""

    listing_id = fields.Integer()
    version = fields.Integer()
    text_zh = fields.String(allow_none=True)
    text_en = fields.String(allow_none=True)
    created_at = fields.DateTime()


class NdaIn(StrictSchema):
    """The NDA's text in one or both languages; each save becomes a new version that requesters must accept."""

    text_zh = fields.String(allow_none=True, validate=validate.Length(max=NDA_TEXT_LENGTH))
    text_en = fields.String(allow_none=True, validate=validate.Length(max=NDA_TEXT_LENGTH))

    @validates_schema
    def _one_language(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not (data.get("text_zh") or data.get("text_en")):
            raise ValidationError(_("write the NDA in at least one language"), "text_zh")


class AccessIn(StrictSchema):
    """Accept the listing's current NDA version and ask for its confidential files."""

    nda_version = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_ID), metadata={
        "description": "the version of the NDA you read and accept (GET …/nda); a stale version answers 409"})
    accept = fields.Boolean(required=True, metadata={"description": "must be true"})


class DecisionIn(StrictSchema):
    """The owner's reason (required to reject or revoke; optional to approve)."""

    reason = fields.String(allow_none=True, validate=validate.Length(max=2000))


class RequestQueryIn(StrictSchema):
    """Filter and page the institution's incoming and outgoing requests."""

    side = fields.String(validate=validate.OneOf(("incoming", "outgoing")), metadata={
        "description": "incoming: for your listings; outgoing: your institution's requests; both when absent"})
    status = fields.String(validate=validate.OneOf(ACCESS_STATUSES))
    listing_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class PageIn(StrictSchema):
    """A page of a list."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class InstitutionRefOut(Schema):
    """An institution named in both languages."""

    id = fields.Integer()
    name_zh = fields.String()
    name_en = fields.String(allow_none=True)


class AccessRequestOut(Schema):
    """An access request as the owner (incoming) or the requester (outgoing) sees it."""

    id = fields.Integer()
    listing_id = fields.Integer()
    listing_title = fields.String()
    side = fields.String(metadata={"description": "incoming or outgoing"})
    institution = fields.Nested(InstitutionRefOut, metadata={"description": "the requesting institution"})
    requested_by = fields.String(allow_none=True)
    nda_version = fields.Integer(metadata={"description": "the NDA version accepted"})
    current_nda_version = fields.Integer(allow_none=True)
    nda_current = fields.Boolean(metadata={
        "description": "false when the NDA changed since: downloads need the current version accepted again"})
    accepted_at = fields.DateTime()
    status = fields.String(metadata={"description": "requested, approved, rejected or revoked"})
    decided_at = fields.DateTime(allow_none=True)
    reason = fields.String(allow_none=True)
    created_at = fields.DateTime()


class DataRoomIn(StrictSchema):
    """The listing's data-room settings."""

    auto_approve = fields.Boolean(required=True, metadata={
        "description": "approve every request at once (requests already waiting still wait)"})


class DataRoomOut(Schema):
    """The owner's view of the data room."""

    listing_id = fields.Integer()
    auto_approve = fields.Boolean()
    nda = fields.Nested(NdaOut, allow_none=True)


class ConfidentialIn(StrictSchema):
    """Whether a file is confidential."""

    confidential = fields.Boolean(required=True)


class UserRefOut(Schema):
    """A person by name."""

    id = fields.Integer()
    display_name = fields.String()


class DownloadOut(Schema):
    """One download of a confidential file."""

    id = fields.Integer()
    attachment_id = fields.Integer()
    filename = fields.String()
    listing_id = fields.Integer()
    user = fields.Nested(UserRefOut)
    institution = fields.Nested(InstitutionRefOut)
    downloaded_at = fields.DateTime()
    request_id = fields.Integer(allow_none=True)
