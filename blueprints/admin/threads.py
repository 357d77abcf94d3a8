"""Reported enquiry threads: the list and one thread with its messages, read-only. A thread nobody reported is not
the platform's to read (404); every read and every file opened is in the audit trail (the services record it)."""
from __future__ import annotations

from math import ceil

from flask import render_template, request
from werkzeug.wrappers import Response

from blueprints.actor import actor
from blueprints.admin import admin
from blueprints.admin.pages import MAX_PAGE, PER_PAGE
from blueprints.downloads import send_attachment
from hall.services.docking import threads


@admin.get("/threads")
def reported_threads() -> str:
    """Threads a party reported, latest report first."""
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)
    items, total = threads.list_reported(actor(), page=page, per_page=PER_PAGE)
    return render_template("admin/threads.html", items=items, total=total, page=page,
                           pages=max(ceil(total / PER_PAGE), 1))


@admin.get("/threads/<int:thread_id>")
def reported_thread_page(thread_id: int) -> str:
    """One reported thread: who reported it and why, and every message (read-only)."""
    return render_template("admin/thread.html", thread=threads.reported_thread(actor(), thread_id))


@admin.get("/threads/<int:thread_id>/messages/<int:message_id>/file")
def reported_thread_file(thread_id: int, message_id: int) -> Response:
    """The file of a message in a reported thread."""
    stored, path = threads.reported_thread_file(actor(), thread_id, message_id)
    return send_attachment(stored, path)
