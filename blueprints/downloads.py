"""Serving stored files: always as a download, never rendered inline, sandboxed if opened anyway."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import send_file
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from hall.services.core.errors import NotFound


def send_attachment(attachment: Any, path: Path) -> Response:
    """Serve a stored file under its display name as an attachment (FILE-01). A confidential file is always sent
    whole (no 304 or partial answers, so each logged download is the file) and never stored by caches."""
    if not path.exists():
        raise NotFound(_("The stored file is missing; ask the institution to upload it again."))
    confidential = bool(getattr(attachment, "confidential", False))
    response = send_file(path, mimetype=attachment.content_type, as_attachment=True,
                         download_name=attachment.filename, max_age=0, conditional=not confidential,
                         etag=not confidential)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    if confidential:
        response.headers["Cache-Control"] = "private, no-store"
    return response
