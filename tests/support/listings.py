"""Listings through the API as their owner: ``Owner`` (a signed-in member of the listing institution), creating,
submitting and publishing listings, bringing one to any status through the real transitions, an admin's review
decisions through the service, uploads and downloads, and the PDF and PNG files the upload tests send."""
from __future__ import annotations

import io
import struct
import zlib
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from hall.extensions import db
from hall.models import AuditEvent, Listing, ListingAttachment, User
from hall.models.types import utcnow
from hall.services.publishing import listing_review
from tests.support.factories import UserFactory, sign_in
from tests.support.listing_data import achievement

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
VERSION_COLUMNS = ("title_zh", "title_en", "trl", "price_mode", "price_amount", "currency", "field_code",
                   "direction_code", "region_code", "deal_modes", "ip_assets", "first_of_kind", "review_status")


class Owner:
    """A signed-in member of the listing institution."""

    def __init__(self, app: Flask, email: str) -> None:
        self.client = app.test_client()
        self.csrf = sign_in(self.client, email)

    def post(self, path: str, body: Any = None) -> Any:
        return self.client.post(path, json=body, headers={"X-CSRFToken": self.csrf})

    def patch(self, listing_id: int, body: dict[str, Any], etag: str | None = None) -> Any:
        etag = etag or self.client.get(f"/api/v1/listings/{listing_id}").headers["ETag"]
        return self.client.patch(f"/api/v1/listings/{listing_id}", json=body,
                                 headers={"X-CSRFToken": self.csrf, "If-Match": etag})


def admin_decides(app: Flask, listing_id: int, action: str, reason: str | None = None) -> None:
    """The platform admin (made if there is none) approves, requests changes, rejects, suspends or reinstates."""
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.is_admin.is_(True))) or UserFactory(is_admin=True)
        if action in ("approve", "request_changes", "reject"):
            listing_review.decide(admin, listing_id, action, reason)
        elif action == "suspend":
            listing_review.suspend_listing(admin, listing_id, reason)
        else:
            listing_review.reinstate_listing(admin, listing_id)
        db.session.commit()


def upload(caller: Owner, listing_id: int, content: bytes = PDF, name: str = "report.pdf",
           role: str = "attachment") -> Any:
    """POST a multipart upload as ``caller``."""
    return caller.client.post(f"/api/v1/listings/{listing_id}/attachments",
                              data={"file": (io.BytesIO(content), name), "role": role},
                              headers={"X-CSRFToken": caller.csrf}, content_type="multipart/form-data")


def listing_state(app: Flask, listing_id: int) -> dict[str, Any] | None:
    """The listing row, its working version's content and attachment rows and its audit events, for comparison."""
    with app.app_context():
        listing = db.session.get(Listing, listing_id)
        if listing is None:
            return None
        state = {key: getattr(listing, key) for key in ("status", "status_reason", "lock_version", "institution_id",
                                                        "working_version_id", "published_version_id",
                                                        "published_at", "expires_at")}
        version = listing.working_version
        state.update({key: getattr(version, key) for key in VERSION_COLUMNS} if version else {})
        state["attachments"] = db.session.scalars(select(ListingAttachment.id).order_by(ListingAttachment.id)).all()
        state["events"] = db.session.scalar(select(func.count()).select_from(AuditEvent))
        db.session.remove()
    return state


def create(owner: Owner, body: dict[str, Any] | None = None) -> int:
    response = owner.post("/api/v1/listings", body if body is not None else achievement())
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def publish(app: Flask, owner: Owner, body: dict[str, Any] | None = None) -> int:
    """A new listing of ``owner``'s institution, submitted and approved."""
    listing_id = create(owner, body)
    response = owner.post(f"/api/v1/listings/{listing_id}/submit")
    assert response.status_code == 200, response.get_json()
    admin_decides(app, listing_id, "approve")
    return listing_id


def bring_to(app: Flask, owner: Owner, status: str) -> int:
    """A new listing in ``status``, reached through the real transitions."""
    if status == "draft":
        return create(owner)
    if status in ("published", "withdrawn", "suspended", "expired"):
        listing_id = publish(app, owner)
        if status == "withdrawn":
            assert owner.post(f"/api/v1/listings/{listing_id}/withdraw").status_code == 200
        elif status == "suspended":
            admin_decides(app, listing_id, "suspend", "违反平台规则")
        elif status == "expired":
            expire_now(app, listing_id)
        return listing_id
    listing_id = create(owner)
    assert owner.post(f"/api/v1/listings/{listing_id}/submit").status_code == 200
    if status != "submitted":
        admin_decides(app, listing_id, {"changes_requested": "request_changes", "rejected": "reject"}[status], "不符")
    return listing_id


def expire_now(app: Flask, listing_id: int) -> None:
    """Backdate the term and run ``flask hall expire-listings``."""
    with app.app_context():
        db.session.get(Listing, listing_id).expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["hall", "expire-listings"])
    assert result.exit_code == 0, result.output
    assert str(listing_id) in result.output


def png_1x1() -> bytes:
    """A valid 1x1 RGB PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
            + chunk(b"IEND", b""))


PNG = png_1x1()


def download(client: Any, path: str) -> tuple[int, dict[str, str], bytes]:
    with client.get(path) as response:
        return response.status_code, dict(response.headers), response.get_data()
