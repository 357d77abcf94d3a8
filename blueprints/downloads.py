"""Serving stored files: always as a download, never rendered inline, sandboxed if opened anyway."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import send_file
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from hall.services.core.errors import NotFound


def send_attachment(attachment: Any, path: Path) -> Response:
    """Serve a stored file under its display name as an attachment (FILE-01)."""
    if not path.exists():
        raise NotFound(_("The stored file is missing; ask the institution to upload it again."))
    response = send_file(path, mimetype=attachment.content_type, as_attachment=True,
                         download_name=attachment.filename, max_age=0, conditional=True)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
