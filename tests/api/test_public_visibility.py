"""One visibility rule for everything public (issue 9, item 6): a listing is public only while it is published
with an approved version, its institution is verified and its term has not ended; of its files, only those of
that approved version. The hall's detail, files, institution profile, search and directory all follow it."""
from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from hall.extensions import db
from hall.models import Institution, Listing, User
from hall.models.types import utcnow
from hall.services.accounts import institutions
from hall.services.publishing.hall import listing_is_public, public_listing_conditions
from tests.support.factories import UserFactory, make_people
from tests.support.listings import (
    PDF,
    PNG,
    Owner,
    admin_decides,
    bring_to,
    create,
    download,
    publish,
    upload,
)


@pytest.fixture
def people(app: Flask, tmp_path: Path) -> dict[str, Any]:
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    with app.app_context():
        return make_people()


@pytest.fixture
def owner(app: Flask, people: dict[str, Any]) -> Owner:
    return Owner(app, people["owner"])


def published_with_file(app: Flask, owner: Owner) -> tuple[int, int]:
    """A published listing whose approved version carries one PDF: (listing id, attachment id)."""
    listing_id = create(owner)
    attachment_id = upload(owner, listing_id, PDF, "public.pdf").get_json()["id"]
    assert owner.post(f"/api/v1/listings/{listing_id}/submit").status_code == 200
    admin_decides(app, listing_id, "approve")
    return listing_id, attachment_id


def file_url(listing_id: int, attachment_id: int) -> str:
    return f"/api/v1/hall/listings/{listing_id}/attachments/{attachment_id}"


def decide_institution(app: Flask, org_id: int, action: str) -> None:
    """A platform admin (of no institution) suspends or reinstates ``org_id`` through the service."""
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.is_admin.is_(True))) or UserFactory(is_admin=True)
        institutions.review_institution(admin, db.session.get(Institution, org_id), action,
                                        "违规" if action == "suspend" else None)
        db.session.commit()
        db.session.remove()


def hall_ids(client: FlaskClient) -> list[int]:
    response = client.get("/api/v1/hall/listings?per_page=50&sort=newest")
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


def directory_ids(client: FlaskClient) -> list[int]:
    response = client.get("/api/v1/hall/directory?format=csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    return [int(row[0]) for row in rows[1:]]


def public_views(client: FlaskClient, listing_id: int, attachment_id: int, org_id: int) -> dict[str, Any]:
    return {"detail": client.get(f"/api/v1/hall/listings/{listing_id}").status_code,
            "file": download(client, file_url(listing_id, attachment_id))[0],
            "profile": client.get(f"/api/v1/hall/institutions/{org_id}").status_code,
            "search": listing_id in hall_ids(client), "directory": listing_id in directory_ids(client)}


VISIBLE = {"detail": 200, "file": 200, "profile": 200, "search": True, "directory": True}


def test_a_suspended_institutions_files_are_not_public(app: Flask, client: FlaskClient, owner: Owner,
                                                      people: dict[str, Any]) -> None:
    listing_id, attachment_id = published_with_file(app, owner)
    assert public_views(client, listing_id, attachment_id, people["org"]) == VISIBLE

    decide_institution(app, people["org"], "suspend")
    assert public_views(client, listing_id, attachment_id, people["org"]) == {
        "detail": 404, "file": 404, "profile": 404, "search": False, "directory": False}

    decide_institution(app, people["org"], "reinstate")
    assert public_views(client, listing_id, attachment_id, people["org"]) == VISIBLE


def test_an_institution_that_is_not_verified_hides_everything_even_if_the_index_was_missed(
        app: Flask, client: FlaskClient, owner: Owner, people: dict[str, Any]) -> None:
    """The rule holds by itself, not only because transitions keep the search index in step."""
    listing_id, attachment_id = published_with_file(app, owner)
    with app.app_context():  # as a transition that forgot the index would leave it
        db.session.execute(text("UPDATE institutions SET verification_status = 'suspended' WHERE id = :id"),
                           {"id": people["org"]})
        db.session.commit()
        db.session.remove()
    assert public_views(client, listing_id, attachment_id, people["org"]) == {
        "detail": 404, "file": 404, "profile": 404, "search": False, "directory": False}


@pytest.mark.parametrize("status", ["suspended", "withdrawn", "expired"])
def test_files_of_a_listing_that_left_the_hall_are_not_public(app: Flask, client: FlaskClient, owner: Owner,
                                                             status: str) -> None:
    listing_id, attachment_id = published_with_file(app, owner)
    assert download(client, file_url(listing_id, attachment_id))[0] == 200
    if status == "suspended":
        admin_decides(app, listing_id, "suspend", "专利权属存在争议")
    elif status == "withdrawn":
        assert owner.post(f"/api/v1/listings/{listing_id}/withdraw").status_code == 200
    else:
        from tests.support.listings import expire_now

        expire_now(app, listing_id)
    assert download(client, file_url(listing_id, attachment_id))[0] == 404
    assert client.get(f"/api/v1/hall/listings/{listing_id}").status_code == 404


def test_a_listing_whose_term_ended_is_hidden_before_the_daily_sweep(app: Flask, client: FlaskClient,
                                                                    owner: Owner, people: dict[str, Any]) -> None:
    listing_id, attachment_id = published_with_file(app, owner)
    other = publish(app, owner)
    with app.app_context():  # the term ends; `flask hall expire-listings` has not run yet
        db.session.get(Listing, listing_id).expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
        db.session.remove()
    views = public_views(client, listing_id, attachment_id, people["org"])
    assert views == {"detail": 404, "file": 404, "profile": 200, "search": False, "directory": False}
    assert other in hall_ids(client) and other in directory_ids(client)


def test_files_of_drafts_and_of_pending_revisions_are_not_public(app: Flask, client: FlaskClient,
                                                                owner: Owner) -> None:
    draft = create(owner)
    draft_file = upload(owner, draft, PDF, "draft.pdf").get_json()["id"]
    assert download(client, file_url(draft, draft_file))[0] == 404

    submitted = create(owner)
    submitted_file = upload(owner, submitted, PDF, "submitted.pdf").get_json()["id"]
    assert owner.post(f"/api/v1/listings/{submitted}/submit").status_code == 200  # waiting for its first review
    assert download(client, file_url(submitted, submitted_file))[0] == 404

    listing_id, public_file = published_with_file(app, owner)
    revision_file = upload(owner, listing_id, PNG, "revision.png").get_json()["id"]  # starts a revision
    assert owner.post(f"/api/v1/listings/{listing_id}/submit").status_code == 200  # the revision waits for review
    assert download(client, file_url(listing_id, revision_file))[0] == 404
    assert download(client, file_url(listing_id, public_file))[0] == 200
    assert download(client, file_url(listing_id, draft_file))[0] == 404  # another listing's file, through this one

    admin_decides(app, listing_id, "approve")  # the revision becomes the public version, with its own file rows
    detail = client.get(f"/api/v1/hall/listings/{listing_id}").get_json()
    public_ids = [a["id"] for a in detail["attachments"]]
    assert public_ids and all(download(client, file_url(listing_id, a))[0] == 200 for a in public_ids)
    assert public_file not in public_ids and download(client, file_url(listing_id, public_file))[0] == 404


def test_the_rule_in_python_and_in_sql_agree(app: Flask, owner: Owner, people: dict[str, Any]) -> None:
    ids = {status: bring_to(app, owner, status) for status in
           ("draft", "submitted", "published", "withdrawn", "suspended", "expired", "rejected")}
    ended = publish(app, owner)
    with app.app_context():
        db.session.get(Listing, ended).expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        now = utcnow()
        in_python = {listing.id for listing in db.session.scalars(select(Listing)) if listing_is_public(listing, now)}
        in_sql = set(db.session.scalars(select(Listing.id).where(*public_listing_conditions(now))))
        assert in_python == in_sql == {ids["published"]}
        db.session.get(Institution, people["org"]).verification_status = "suspended"
        db.session.flush()
        assert not listing_is_public(db.session.get(Listing, ids["published"]), now)
        assert set(db.session.scalars(select(Listing.id).where(*public_listing_conditions(now)))) == set()
        db.session.rollback()
        db.session.remove()
