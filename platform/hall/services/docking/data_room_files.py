"""Confidential listing files: the owner marks them, the one gate every download of a public listing's file passes
(``hall_download``), the console's refusal and the owner's download log.

Who gets a confidential file of a public listing: members of the owner institution, and members of an institution
whose approved request accepted the listing's current NDA version. Anonymous visitors are told to sign in (401);
everyone else signed in — admins included, the platform has no special access — is told how to get access (403).
Every download under an access grant is logged (append-only ``download_logs``) in the same transaction as the
request, so a download that fails writes nothing. The owner institution's own downloads are not logged.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from hall.extensions import db
from hall.models import DownloadLog, Institution, Listing, ListingAttachment, ListingVersion, User
from hall.services.core.access import require_admin
from hall.services.core.audit import record_event
from hall.services.core.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from hall.services.docking.data_rooms import current_nda, granted_request, live_request
from hall.services.publishing.attachments import upload_dir
from hall.services.publishing.hall import public_attachment
from hall.services.publishing.listings import bump_lock_version, own_listing


def set_confidential(actor: User, listing_id: int, attachment_id: int, confidential: bool) -> ListingAttachment:
    """Mark a file of the actor's listing confidential (or public again). The mark follows the file: every copy of
    it in the listing's versions (the public one and a revision) changes together. A cover is always public."""
    listing = own_listing(actor, listing_id)
    attachment = db.session.get(ListingAttachment, attachment_id)
    if attachment is None or attachment.version.listing_id != listing.id:
        raise NotFound(_("No such attachment."))
    if attachment.role == "cover" and confidential:
        raise InvalidInput.field("confidential", _("a cover image is always public; upload the file as a document"))
    versions = select(ListingVersion.id).where(ListingVersion.listing_id == listing.id)
    db.session.execute(update(ListingAttachment)
                       .where(ListingAttachment.version_id.in_(versions),
                              ListingAttachment.storage_name == attachment.storage_name)
                       .values(confidential=confidential).execution_options(synchronize_session=False))
    db.session.expire(attachment)
    bump_lock_version(listing)
    record_event("listing.attachment_confidential" if confidential else "listing.attachment_public", "listing",
                 listing.id, actor=actor, details={"attachment_id": attachment.id, "filename": attachment.filename})
    return attachment


def _refusal(actor: User, listing_id: int) -> Forbidden:
    """Why the actor's institution cannot open the file, and what to do about it."""
    org_id = actor.institution_id
    request = live_request(listing_id, org_id) if org_id is not None else None
    nda = current_nda(listing_id)
    if request is not None and request.status == "requested":
        return Forbidden(_("This file is confidential. Your institution's request is waiting for the owner's "
                           "decision."))
    if request is not None and nda is not None and request.nda_version != nda.version:
        return Forbidden(_("This file is confidential and the NDA has changed since your institution accepted it: "
                           "accept version %(version)s to download it again.", version=nda.version))
    return Forbidden(_("This file is confidential. A member of a verified institution can request access by "
                       "accepting the listing's NDA; the owner institution then approves the request."))


def hall_download(actor: User | None, listing_id: int, attachment_id: int, *,
                  record: bool = True) -> tuple[ListingAttachment, Path]:
    """A file of a public listing for the public download (API and web): any file of another listing or of a
    listing that is not public is 404; a confidential one needs the owner institution or an access grant (logged
    unless ``record`` is false: a HEAD request sends no file)."""
    attachment = public_attachment(listing_id, attachment_id)
    path = upload_dir() / attachment.storage_name
    if not attachment.confidential:
        return attachment, path
    if actor is None:
        raise Unauthorized(_("This file is confidential: sign in as a member of an institution that accepted the "
                             "listing's NDA and was given access."))
    listing = db.session.get(Listing, listing_id)  # loaded by the visibility check
    if listing is not None and actor.institution_id is not None and actor.institution_id == listing.institution_id:
        return attachment, path
    grant = granted_request(listing_id, actor.institution_id)
    if grant is None:
        raise _refusal(actor, listing_id)
    if not path.exists():
        raise NotFound(_("The stored file is missing; ask the institution to upload it again."))
    if not record:
        return attachment, path
    db.session.add(DownloadLog(attachment_id=attachment.id, listing_id=listing_id, user_id=actor.id,
                               institution_id=actor.institution_id, request_id=grant.id))
    db.session.flush()
    return attachment, path


def console_attachment(actor: User, attachment_id: int) -> tuple[ListingAttachment, Path]:
    """Any listing's file for the console's reviewers — except confidential ones: the platform has no special
    access to them (reviewers see their name, type, size and SHA-256)."""
    require_admin(actor, _("review listing files"))
    attachment = db.session.get(ListingAttachment, attachment_id)
    if attachment is None:
        raise NotFound(_("No such attachment."))
    if attachment.confidential:
        raise Forbidden(_("This file is confidential: it opens only to institutions that accepted the listing's "
                          "NDA, and the platform has no special access to it."))
    return attachment, upload_dir() / attachment.storage_name


def download_log(actor: User, listing_id: int, *, page: int = 1,
                 page_size: int = 50) -> tuple[list[dict[str, Any]], int]:
    """Who downloaded the listing's confidential files (person, institution, when, which file), newest first; for
    the owner institution only (404 otherwise)."""
    listing = own_listing(actor, listing_id)
    total = db.session.scalar(select(func.count()).select_from(DownloadLog)
                              .where(DownloadLog.listing_id == listing.id)) or 0
    rows = db.session.execute(
        select(DownloadLog, User, Institution, ListingAttachment)
        .join(User, User.id == DownloadLog.user_id)
        .join(Institution, Institution.id == DownloadLog.institution_id)
        .join(ListingAttachment, ListingAttachment.id == DownloadLog.attachment_id)
        .where(DownloadLog.listing_id == listing.id)
        .order_by(DownloadLog.downloaded_at.desc(), DownloadLog.id.desc())
        .limit(page_size).offset((page - 1) * page_size)).all()
    return [{"id": log.id, "attachment_id": log.attachment_id, "filename": attachment.filename,
             "listing_id": log.listing_id, "user": {"id": user.id, "display_name": user.display_name},
             "institution": {"id": org.id, "name_zh": org.name_zh, "name_en": org.name_en},
             "downloaded_at": log.downloaded_at, "request_id": log.request_id}
            for log, user, org, attachment in rows], total
