"""Enquiry threads between two institutions, about a listing or a demand, and their messages."""
from __future__ import annotations

from typing import Any

from flask import current_app
from flask_login import login_required

from blueprints.actor import actor, per_person
from blueprints.api.base import PAGINATION_HEADER, ApiBlueprint, file_download, paginated
from blueprints.downloads import send_attachment
from hall.extensions import limiter
from hall.services.docking import thread_messages, threads
from hall.services.docking.thread_messages import Upload
from hall.services.publishing.attachments import ALLOWED_TYPES
from schemas.common import ErrorSchema
from schemas.threads import (
    ReportedQueryIn,
    ReportedThreadOut,
    ReportedThreadSummaryOut,
    ThreadDetailOut,
    ThreadMessageIn,
    ThreadMessageOut,
    ThreadMessageUploadIn,
    ThreadOpenIn,
    ThreadOrderIn,
    ThreadOrderOut,
    ThreadOut,
    ThreadQueryIn,
    ThreadReportIn,
)

blp = ApiBlueprint("threads", __name__, url_prefix="/threads",
                   description="Enquiry threads between two institutions about a listing or a demand")


def _thread_limit() -> Any:
    return limiter.limit(lambda: current_app.config["THREAD_CREATE_LIMIT"], key_func=per_person,
                         scope="thread-create")


def _message_limit() -> Any:
    """One budget for text messages and messages with a file together."""
    return limiter.shared_limit(lambda: current_app.config["THREAD_MESSAGE_LIMIT"], key_func=per_person,
                                scope="thread-message")


@blp.route("", methods=["GET"])
@login_required
@blp.arguments(ThreadQueryIn, location="query")
@blp.response(200, ThreadOut(many=True), headers=PAGINATION_HEADER)
def list_threads(query: dict[str, Any]) -> Any:
    """Your institution's threads (as the asking side or as the owner of the listing or demand), latest message
    first, each with how many messages you have not read; optionally only unread ones, or one listing's or
    demand's (totals in X-Pagination)."""
    page, size = query.pop("page"), query.pop("page_size")
    items, total = threads.list_threads(actor(), page=page, per_page=size, **query)
    return paginated(items, total, page, size)


@blp.route("", methods=["POST"])
@login_required
@_thread_limit()
@blp.arguments(ThreadOpenIn)
@blp.response(201, ThreadDetailOut)
@blp.alt_response(200, schema=ThreadDetailOut, description="Your institution already has this thread open: here "
                                                           "it is (nothing was added to it).")
@blp.alt_response(403, schema=ErrorSchema, description="Your institution is not verified yet.")
@blp.alt_response(404, schema=ErrorSchema, description="No such published listing or demand.")
def open_thread(data: dict[str, Any]) -> Any:
    """Ask about another institution's published listing (listing_id) or answer its published demand
    (demand_id), with a first message; the other institution's members are notified."""
    view, created = threads.open_thread(actor(), **data)
    return view, 201 if created else 200


@blp.route("/<int:thread_id>", methods=["GET"])
@login_required
@blp.response(200, ThreadDetailOut)
@blp.alt_response(404, schema=ErrorSchema, description="Not a thread of your institution.")
def read_thread(thread_id: int) -> Any:
    """One thread of your institution with its messages; reading it marks it read for you (unread_count tells
    how many were new)."""
    return threads.read_thread(actor(), thread_id)


@blp.route("/<int:thread_id>/messages", methods=["POST"])
@login_required
@_message_limit()
@blp.arguments(ThreadMessageIn)
@blp.response(201, ThreadMessageOut)
@blp.alt_response(409, schema=ErrorSchema, description="The thread is closed.")
def post_message(data: dict[str, Any], thread_id: int) -> Any:
    """Write in a thread of your institution; the other institution's members are notified."""
    return thread_messages.post_message(actor(), thread_id, data["body"])


@blp.route("/<int:thread_id>/messages/upload", methods=["POST"])
@login_required
@_message_limit()
@blp.arguments(ThreadMessageUploadIn, location="multipart")
@blp.response(201, ThreadMessageOut)
@blp.alt_response(409, schema=ErrorSchema, description="The thread is closed.")
def post_message_with_file(form: dict[str, Any], thread_id: int) -> Any:
    """Send a PDF or image (at most 10 MB; type judged by content, as listing attachments), with optional text."""
    upload = form["file"]
    return thread_messages.post_message(actor(), thread_id, form.get("body"),
                                        Upload(upload.stream, upload.filename or ""))


@blp.route("/<int:thread_id>/messages/<int:message_id>/attachment", methods=["GET"])
@login_required
@file_download(blp, ALLOWED_TYPES)
def download_message_file(thread_id: int, message_id: int) -> Any:
    """Download the file of a message in a thread of your institution."""
    stored, path = thread_messages.message_file(actor(), thread_id, message_id)
    return send_attachment(stored, path)


@blp.route("/<int:thread_id>/close", methods=["POST"])
@login_required
@blp.response(200, ThreadOut)
@blp.alt_response(409, schema=ErrorSchema, description="The thread is already closed.")
def close_thread(thread_id: int) -> Any:
    """End the conversation (either side); a closed thread takes no more messages."""
    return threads.close_thread(actor(), thread_id)


@blp.route("/<int:thread_id>/report", methods=["POST"])
@login_required
@blp.arguments(ThreadReportIn)
@blp.response(200, ThreadOut)
@blp.alt_response(409, schema=ErrorSchema, description="The thread was already reported.")
def report_thread(data: dict[str, Any], thread_id: int) -> Any:
    """Report the thread to the platform (spam, abuse, fraud). From then on the platform's admins may read it; they
    never see threads nobody reported."""
    return threads.report_thread(actor(), thread_id, data["reason"])


@blp.route("/<int:thread_id>/order", methods=["POST"])
@login_required
@limiter.limit(lambda: current_app.config["ORDER_CREATE_LIMIT"], key_func=per_person, scope="order-create")
@blp.arguments(ThreadOrderIn)
@blp.response(201, ThreadOrderOut)
@blp.alt_response(200, schema=ThreadOrderOut, description="You already have this order open: here it is.")
@blp.alt_response(403, schema=ErrorSchema, description="Only the asking institution (the buyer) orders.")
@blp.alt_response(409, schema=ErrorSchema, description="The thread is closed or is about a demand.")
def order_from_thread(data: dict[str, Any], thread_id: int) -> Any:
    """The asking institution orders the listing the thread is about, with the fields of POST /orders (the
    platform computes the price). Orders start only from threads about listings."""
    view, order, created = threads.order_from_thread(actor(), thread_id, data)
    return {"thread": view, "order": order}, 201 if created else 200


@blp.route("/reported", methods=["GET"])
@login_required
@blp.arguments(ReportedQueryIn, location="query")
@blp.response(200, ReportedThreadSummaryOut(many=True), headers=PAGINATION_HEADER)
def list_reported(query: dict[str, Any]) -> Any:
    """Admins: threads a party reported, latest report first (threads nobody reported are never shown)."""
    items, total = threads.list_reported(actor(), page=query["page"], per_page=query["page_size"])
    return paginated(items, total, query["page"], query["page_size"])


@blp.route("/reported/<int:thread_id>", methods=["GET"])
@login_required
@blp.response(200, ReportedThreadOut)
@blp.alt_response(404, schema=ErrorSchema, description="No such reported thread.")
def read_reported(thread_id: int) -> Any:
    """Admins: one reported thread with its messages (the read is recorded in the audit trail)."""
    return threads.reported_thread(actor(), thread_id)


@blp.route("/reported/<int:thread_id>/messages/<int:message_id>/attachment", methods=["GET"])
@login_required
@file_download(blp, ALLOWED_TYPES)
def download_reported_file(thread_id: int, message_id: int) -> Any:
    """Admins: the file of a message in a reported thread."""
    stored, path = threads.reported_thread_file(actor(), thread_id, message_id)
    return send_attachment(stored, path)
