"""Listing attachments (FILE-01): size limit, type judged by content, generated storage names, files kept outside
the static folder and served only through authorised views."""
from __future__ import annotations

import hashlib
import os
import re
import uuid
from pathlib import Path
from typing import IO

import filetype
from flask import current_app
from flask_babel import gettext as _

from hall.extensions import db
from hall.models import ListingAttachment, User
from hall.services.core.audit import record_event
from hall.services.core.errors import Forbidden, InvalidInput, NotFound, ServiceError
from hall.services.publishing.hall import public_attachment as visible_attachment
from hall.services.publishing.listings import bump_lock_version, editable_version, own_listing

ALLOWED_TYPES = {"application/pdf": {".pdf"}, "image/png": {".png"}, "image/jpeg": {".jpg", ".jpeg"},
                 "image/webp": {".webp"}}
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/webp"})
MAX_ATTACHMENTS = 20


class PayloadTooLarge(ServiceError):
    """The file is larger than the platform accepts."""

    status = 413
    title = "Payload Too Large"


def upload_dir() -> Path:
    """Where files are stored (instance/uploads unless UPLOAD_DIR says otherwise)."""
    path = Path(current_app.config.get("UPLOAD_DIR") or Path(current_app.instance_path) / "uploads")
    path.mkdir(parents=True, exist_ok=True)
    return path


def safe_filename(name: str) -> str:
    """A display name without path parts or control characters (the stored name is generated)."""
    name = os.path.basename(name.replace("\\", "/")).strip()
    name = re.sub(r"[\x00-\x1f\x7f\"<>|:*?]", "_", name)
    return name[:200] or "file"


def checked_upload(stream: IO[bytes], filename: str) -> tuple[bytes, str, str]:
    """Read an upload and check it (FILE-01): at most UPLOAD_MAX_BYTES (413), not empty, a PDF or image judged by
    its content, the name's extension matching the content. Returns (data, detected media type, display name).
    Every stored file (listing attachments, thread messages) passes here."""
    limit = int(current_app.config["UPLOAD_MAX_BYTES"])
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(_("Files may be at most %(size)s MB.", size=limit // (1024 * 1024)))
    if not data:
        raise InvalidInput.field("file", _("the file is empty"))
    detected = filetype.guess_mime(data)
    if detected not in ALLOWED_TYPES:
        raise InvalidInput.field("file", _("only PDF, PNG, JPEG and WebP files are accepted (judged by content)"))
    display_name = safe_filename(filename)
    extension = os.path.splitext(display_name)[1].lower()
    if extension not in ALLOWED_TYPES[detected]:
        raise InvalidInput.field("file", _("the content is %(detected)s but the name ends in %(extension)s; rename the "
                                           "file to match what it is", detected=detected,
                                           extension=extension or _("nothing")))
    return data, detected, display_name


def store_file(data: bytes, media_type: str) -> str:
    """Write checked bytes under a generated name in upload_dir() (written aside, then renamed into place);
    returns the storage name."""
    storage_name = f"{uuid.uuid4().hex}{sorted(ALLOWED_TYPES[media_type])[0]}"
    target = upload_dir() / storage_name
    temporary = target.with_suffix(".part")
    temporary.write_bytes(data)
    temporary.replace(target)
    return storage_name


def add_attachment(actor: User, listing_id: int, stream: IO[bytes], filename: str, role: str) -> ListingAttachment:
    """Store an uploaded PDF or image on the version being edited; the cover must be an image."""
    listing = own_listing(actor, listing_id)
    data, detected, display_name = checked_upload(stream, filename)
    if role == "cover" and detected not in IMAGE_TYPES:
        raise InvalidInput.field("role", _("the cover must be an image"))
    version = editable_version(actor, listing)
    if len(version.attachments) >= MAX_ATTACHMENTS:
        raise InvalidInput.field("file", _("a listing holds at most %(count)s files", count=MAX_ATTACHMENTS))
    storage_name = store_file(data, detected)
    if role == "cover":
        for old in [a for a in version.attachments if a.role == "cover"]:
            version.attachments.remove(old)
    attachment = ListingAttachment(role=role, filename=display_name, storage_name=storage_name,
                                   content_type=detected, size=len(data), sha256=hashlib.sha256(data).hexdigest())
    version.attachments.append(attachment)
    db.session.flush()
    bump_lock_version(listing)
    record_event("listing.attachment_added", "listing", listing.id, actor=actor,
                 details={"attachment_id": attachment.id, "role": role, "filename": display_name})
    return attachment


def remove_attachment(actor: User, listing_id: int, attachment_id: int) -> None:
    """Remove a file from the version being edited (earlier versions keep theirs)."""
    listing = own_listing(actor, listing_id)
    current = listing.working_version
    position = next((i for i, a in enumerate(current.attachments) if a.id == attachment_id), None) \
        if current is not None else None
    if position is None:
        raise NotFound(_("No such attachment."))
    version = editable_version(actor, listing)  # a revision copies the files in the same order
    target = version.attachments[position]
    filename = target.filename
    version.attachments.remove(target)
    db.session.flush()
    bump_lock_version(listing)
    record_event("listing.attachment_removed", "listing", listing.id, actor=actor,
                 details={"attachment_id": attachment_id, "filename": filename})


def attachment_for_owner(actor: User, listing_id: int, attachment_id: int) -> tuple[ListingAttachment, Path]:
    """A file of any version of the actor's own listing."""
    listing = own_listing(actor, listing_id)
    attachment = db.session.get(ListingAttachment, attachment_id)
    if attachment is None or attachment.version.listing_id != listing.id:
        raise NotFound(_("No such attachment."))
    return attachment, upload_dir() / attachment.storage_name


def public_attachment(listing_id: int, attachment_id: int) -> tuple[ListingAttachment, Path]:
    """A file of a public listing's approved version (the hall's visibility rule); anything else is 404. A
    confidential file is refused here: it is served only through hall.services.docking.data_room_files."""
    attachment = visible_attachment(listing_id, attachment_id)
    if attachment.confidential:
        raise Forbidden(_("This file is confidential; it opens only under the listing's NDA."))
    return attachment, upload_dir() / attachment.storage_name
