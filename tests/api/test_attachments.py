"""Listing attachments (FILE-01): type judged by content, size limits answered with JSON 413, generated storage
names under UPLOAD_DIR, downloads as attachments with nosniff, and public downloads only of published versions."""
from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import filetype
import pytest
from flask import Flask
from sqlalchemy import select

from hall.extensions import db
from hall.models import Listing, ListingAttachment, User
from hall.services.publishing import attachments
from tests.support.listings import (
    PDF,
    PNG,
    Owner,
    admin_decides,
    create,
    download,
    listing_state,
    publish,
    upload,
)

TEXT = b"This is plain text, not a PDF at all.\n" * 4


def stored(app: Flask) -> list[ListingAttachment]:
    with app.app_context():
        rows = db.session.scalars(select(ListingAttachment).order_by(ListingAttachment.id)).all()
        db.session.expunge_all()
        db.session.remove()
    return list(rows)


def upload_dir(app: Flask) -> Path:
    return Path(app.config["UPLOAD_DIR"])


def files_in(app: Flask) -> list[str]:
    directory = upload_dir(app)
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_content_sniffing_works_on_the_test_files() -> None:
    assert filetype.guess_mime(PDF) == "application/pdf"
    assert filetype.guess_mime(PNG) == "image/png"
    assert filetype.guess_mime(TEXT) is None


@pytest.mark.parametrize(("content", "name", "role", "mime"), [
    (PDF, "专利证书 scan.pdf", "attachment", "application/pdf"),
    (PNG, "cover-photo.png", "cover", "image/png"),
    (PNG, "diagram.PNG", "attachment", "image/png"),
])
def test_upload_is_stored_under_a_generated_name(app: Flask, owner: Owner, content: bytes, name: str, role: str,
                                                 mime: str) -> None:
    listing_id = create(owner)
    response = upload(owner, listing_id, content, name, role)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["filename"] == name and body["content_type"] == mime and body["role"] == role
    assert body["size"] == len(content) and body["sha256"] == hashlib.sha256(content).hexdigest()
    assert "storage_name" not in body
    [row] = stored(app)
    assert row.id == body["id"] and row.storage_name != name
    stem = Path(name).stem.lower()
    assert not any(part and part in row.storage_name.lower() for part in stem.replace("-", " ").split())
    assert files_in(app) == [row.storage_name]
    assert (upload_dir(app) / row.storage_name).read_bytes() == content
    assert not (upload_dir(app) / name).exists()
    version = owner.client.get(f"/api/v1/listings/{listing_id}").get_json()["working_version"]
    assert [a["id"] for a in version["attachments"]] == [body["id"]]


@pytest.mark.parametrize(("content", "name", "role", "field"), [
    (PDF, "report.png", "attachment", "file"),  # a PDF renamed .png
    (TEXT, "report.pdf", "attachment", "file"),  # text renamed .pdf
    (PNG, "photo.pdf", "attachment", "file"),
    (PDF, "cover.pdf", "cover", "role"),  # the cover must be an image
    (b"", "empty.pdf", "attachment", "file"),
    (PDF, "report.pdf", "thumbnail", "role"),
])
def test_wrong_content_or_role_is_refused(app: Flask, owner: Owner, content: bytes, name: str, role: str,
                                          field: str) -> None:
    listing_id = create(owner)
    before = listing_state(app, listing_id)
    response = upload(owner, listing_id, content, name, role)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]
    assert stored(app) == [] and files_in(app) == []
    assert listing_state(app, listing_id) == before


def test_oversize_file_and_oversize_body_get_json_413(app: Flask, owner: Owner) -> None:
    listing_id = create(owner)
    before = listing_state(app, listing_id)
    app.config["UPLOAD_MAX_BYTES"] = 1024
    big_pdf = PDF + b"%" + b"x" * 2048 + b"\n"
    too_big = upload(owner, listing_id, big_pdf, "big.pdf")
    assert too_big.status_code == 413 and too_big.is_json, too_big.data[:200]
    assert too_big.get_json()["status"] == 413 and too_big.get_json()["request_id"]
    assert upload(owner, listing_id, PDF, "small.pdf").status_code == 201  # under the limit still works
    after_small = listing_state(app, listing_id)

    app.config["UPLOAD_MAX_BYTES"] = 10 * 1024 * 1024
    app.config["MAX_CONTENT_LENGTH"] = 4096
    body_too_big = upload(owner, listing_id, PDF + b"%" + b"y" * 8192 + b"\n", "bigger.pdf")
    assert body_too_big.status_code == 413 and body_too_big.is_json, body_too_big.data[:200]
    assert body_too_big.get_json()["status"] == 413
    assert listing_state(app, listing_id) == after_small and after_small["events"] > before["events"]
    assert len(stored(app)) == 1 and len(files_in(app)) == 1


def test_owner_download_is_an_attachment_with_nosniff(app: Flask, owner: Owner) -> None:
    listing_id = create(owner)
    pdf_id = upload(owner, listing_id, PDF, "技术报告.pdf").get_json()["id"]
    png_id = upload(owner, listing_id, PNG, "cover.png", "cover").get_json()["id"]
    for attachment_id, content, mime in ((pdf_id, PDF, "application/pdf"), (png_id, PNG, "image/png")):
        status, headers, data = download(owner.client, f"/api/v1/listings/{listing_id}/attachments/{attachment_id}")
        assert status == 200 and data == content
        assert headers["Content-Disposition"].startswith("attachment;")
        assert headers["Content-Type"].startswith(mime)
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in headers["Content-Security-Policy"]
    assert "%E6%8A%80%E6%9C%AF%E6%8A%A5%E5%91%8A.pdf" in download(
        owner.client, f"/api/v1/listings/{listing_id}/attachments/{pdf_id}")[1]["Content-Disposition"]

    removed = owner.client.delete(f"/api/v1/listings/{listing_id}/attachments/{pdf_id}",
                                  headers={"X-CSRFToken": owner.csrf})
    assert removed.status_code == 204
    assert download(owner.client, f"/api/v1/listings/{listing_id}/attachments/{pdf_id}")[0] == 404
    assert [a["id"] for a in owner.client.get(f"/api/v1/listings/{listing_id}").get_json()
            ["working_version"]["attachments"]] == [png_id]


def test_public_download_only_of_published_versions(app: Flask, client: Any, owner: Owner) -> None:
    draft = create(owner)
    draft_file = upload(owner, draft, PDF, "draft.pdf").get_json()["id"]
    assert download(client, f"/api/v1/hall/listings/{draft}/attachments/{draft_file}")[0] == 404

    listing_id = create(owner)
    public_file = upload(owner, listing_id, PDF, "public.pdf").get_json()["id"]
    assert owner.post(f"/api/v1/listings/{listing_id}/submit").status_code == 200
    assert download(client, f"/api/v1/hall/listings/{listing_id}/attachments/{public_file}")[0] == 404
    admin_decides(app, listing_id, "approve")
    status, headers, data = download(client, f"/api/v1/hall/listings/{listing_id}/attachments/{public_file}")
    assert status == 200 and data == PDF
    assert headers["Content-Disposition"].startswith("attachment;")
    assert headers["X-Content-Type-Options"] == "nosniff"
    detail = client.get(f"/api/v1/hall/listings/{listing_id}").get_json()
    assert public_file in [a["id"] for a in detail.get("attachments", [])], detail

    # A file added by an unapproved revision stays private; a file of another listing is not reachable through it.
    revision_file = upload(owner, listing_id, PNG, "new.png").get_json()["id"]
    assert download(client, f"/api/v1/hall/listings/{listing_id}/attachments/{revision_file}")[0] == 404
    assert download(client, f"/api/v1/hall/listings/{listing_id}/attachments/{draft_file}")[0] == 404
    assert download(client, f"/api/v1/hall/listings/{listing_id}/attachments/{public_file}")[0] == 200
    other = publish(app, owner)
    assert download(client, f"/api/v1/hall/listings/{other}/attachments/{public_file}")[0] == 404


@pytest.mark.parametrize(("name", "expected"), [("../../etc/passwd.pdf", "passwd.pdf"), ("/tmp/abs.pdf", "abs.pdf"),
                                              ("a<b>c|d:*?.pdf", "a_b_c_d___.pdf")])
def test_path_parts_in_the_uploaded_name_are_dropped(app: Flask, owner: Owner, tmp_path: Path, name: str,
                                                    expected: str) -> None:
    listing_id = create(owner)
    response = upload(owner, listing_id, PDF, name)
    assert response.status_code == 201, response.get_json()
    display = response.get_json()["filename"]
    assert display == expected
    [row] = stored(app)
    assert files_in(app) == [row.storage_name] and "/" not in row.storage_name
    assert (upload_dir(app) / row.storage_name).resolve().parent == upload_dir(app).resolve()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["uploads"]
    status, headers, data = download(owner.client, f"/api/v1/listings/{listing_id}/attachments/{row.id}")
    assert status == 200 and data == PDF and expected in headers["Content-Disposition"]
    with app.app_context():
        assert db.session.get(Listing, listing_id).working_version.attachments[0].filename == display


def test_windows_paths_are_dropped_by_the_service(app: Flask, owner: Owner) -> None:
    """Old browsers send the full client path; the test client cannot carry backslashes, so call the service."""
    listing_id = create(owner)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.institution_id.is_not(None)).order_by(User.id))
        attachment = attachments.add_attachment(user, listing_id, io.BytesIO(PDF), "C:\\Users\\..\\evil.pdf",
                                                "attachment")
        db.session.commit()
        assert attachment.filename == "evil.pdf"
        assert (upload_dir(app) / attachment.storage_name).read_bytes() == PDF
    assert files_in(app) == [stored(app)[0].storage_name]
