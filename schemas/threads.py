"""Schemas for enquiry threads and their messages: separate In (load) and Out (dump) schemas."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from hall.models.threads import MESSAGE_MAX_CHARS, REPORT_REASON_MAX_CHARS, SUBJECT_MAX_CHARS, THREAD_STATUSES
from schemas.common import MAX_ID, StrictSchema
from schemas.orders import OrderCreateIn, OrderOut, PartyOut

ID_RANGE = validate.Range(min=1, max=MAX_ID)


class ThreadOpenIn(StrictSchema):
    """Ask about a listing (listing_id) or answer a demand (demand_id) of another institution, with a first
    message. The subject defaults to the listing's or demand's title."""

    listing_id = fields.Integer(strict=True, validate=ID_RANGE, metadata={"description": "a published listing"})
    demand_id = fields.Integer(strict=True, validate=ID_RANGE, metadata={"description": "a published demand"})
    subject = fields.String(validate=validate.Length(max=SUBJECT_MAX_CHARS))
    body = fields.String(required=True, validate=validate.Length(min=1, max=MESSAGE_MAX_CHARS))
    exhibition_id = fields.Integer(strict=True, allow_none=True, validate=ID_RANGE,
                                   metadata={"description": "the docking exhibition the enquiry starts from (the "
                                                            "listing or demand must be on its roadshow)"})

    @validates_schema
    def _one_subject(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if ("listing_id" in data) == ("demand_id" in data):
            raise ValidationError(_("name either a listing or a demand"), "listing_id")


class ThreadQueryIn(StrictSchema):
    """Filters and page of your institution's threads."""

    unread = fields.Boolean(load_default=False, metadata={"description": "only threads with messages you have "
                                                                         "not read"})
    listing_id = fields.Integer(validate=ID_RANGE)
    demand_id = fields.Integer(validate=ID_RANGE)
    status = fields.String(validate=validate.OneOf(THREAD_STATUSES))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=50))


class ReportedQueryIn(StrictSchema):
    """A page of a list."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=50))


class ThreadMessageIn(StrictSchema):
    """A text message."""

    body = fields.String(required=True, validate=validate.Length(min=1, max=MESSAGE_MAX_CHARS))


class ThreadMessageUploadIn(StrictSchema):
    """A message with a file (multipart/form-data): a PDF or image, at most 10 MB, its type judged by content; the
    text is optional."""

    file = Upload(required=True)
    body = fields.String(validate=validate.Length(max=MESSAGE_MAX_CHARS))


class ThreadReportIn(StrictSchema):
    """Why the thread is reported (spam, abuse, fraud): the platform's admins may read it from then on."""

    reason = fields.String(required=True, validate=validate.Length(min=1, max=REPORT_REASON_MAX_CHARS))


class ThreadOrderIn(OrderCreateIn):
    """The order fields of POST /orders; the listing is the thread's."""

    class Meta(StrictSchema.Meta):
        exclude = ("listing_id",)


class ThreadMessageFileOut(Schema):
    """A file sent with a message (download it from …/messages/<id>/attachment)."""

    filename = fields.String(attribute="attachment_filename")
    content_type = fields.String(attribute="attachment_content_type")
    size = fields.Integer(attribute="attachment_size")
    sha256 = fields.String(attribute="attachment_sha256")


def _file_of(message: Any) -> Any:
    return ThreadMessageFileOut().dump(message) if message.has_attachment else None


class ThreadMessageOut(Schema):
    """One message of a thread."""

    id = fields.Integer()
    author_id = fields.Integer()
    author_name = fields.Function(lambda message: message.author.display_name)
    author_institution_id = fields.Integer()
    side = fields.Function(lambda message: "opener" if message.author_institution_id
                           == message.thread.opener_institution_id else "counterpart",
                           metadata={"description": "opener (the institution that asked) or counterpart"})
    body = fields.String(allow_none=True)
    attachment = fields.Function(_file_of, metadata={"description": "filename, content_type, size, sha256; null "
                                                                    "without a file"})
    created_at = fields.DateTime()


class ThreadOut(Schema):
    """A thread as a party sees it in a list."""

    id = fields.Integer()
    subject = fields.String()
    status = fields.String()
    about = fields.String(attribute="subject_kind", metadata={"description": "listing or demand"})
    listing_id = fields.Integer(allow_none=True)
    demand_id = fields.Integer(allow_none=True)
    exhibition_id = fields.Integer(allow_none=True, metadata={
        "description": "the docking exhibition this enquiry was started from (a lead of it)"})
    opener = fields.Nested(PartyOut, attribute="opener_institution",
                           metadata={"description": "the institution that asked"})
    counterpart = fields.Nested(PartyOut, attribute="counterpart_institution",
                                metadata={"description": "the institution whose listing or demand it is"})
    side = fields.String(metadata={"description": "your side: opener or counterpart (admin for the console)"})
    unread_count = fields.Integer(metadata={"description": "messages you have not read"})
    created_at = fields.DateTime()
    last_message_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)
    order_id = fields.Integer(allow_none=True, metadata={"description": "the order started from this thread"})
    reported = fields.Function(lambda view: view.reported_at is not None,
                               metadata={"description": "reported by a party: the platform's admins may read it"})
    reported_at = fields.DateTime(allow_none=True)


class ThreadDetailOut(ThreadOut):
    """A thread with its messages, oldest first."""

    messages = fields.List(fields.Nested(ThreadMessageOut))


class ReportedThreadSummaryOut(ThreadOut):
    """A reported thread in the admins' list: who reported it and why."""

    report_reason = fields.String(allow_none=True)
    reported_by_id = fields.Integer(allow_none=True)


class ReportedThreadOut(ThreadDetailOut):
    """A reported thread with its messages, as the platform's admins see it."""

    report_reason = fields.String(allow_none=True)
    reported_by_id = fields.Integer(allow_none=True)


class ThreadOrderOut(Schema):
    """The thread and the order started from it."""

    thread = fields.Nested(ThreadOut)
    order = fields.Nested(OrderOut)
