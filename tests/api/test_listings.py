"""Listings through the owner API: tenant isolation (AUTHZ-01), refusal of server-controlled fields (AUTHZ-03),
input validation, submission rules, If-Match, the review state rules, expiry and renewal, and the owner's list.
Every refused write also checks that nothing changed in the database."""
from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from hall.extensions import db
from hall.models import Listing, User
from hall.models.types import utcnow
from hall.services.core.errors import InvalidInput
from hall.services.publishing import listing_review
from tests.support.factories import InstitutionFactory, UserFactory, make_people
from tests.support.listing_data import achievement, first_of_kind
from tests.support.listings import (
    PDF,
    Owner,
    admin_decides,
    bring_to,
    create,
    expire_now,
    listing_state,
    publish,
    upload,
)

MISSING = 987_654


def count_listings(app: Flask) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Listing)) or 0
        db.session.remove()
    return count


def hall_ids(client: FlaskClient) -> list[int]:
    """Ids of every listing the public hall search returns."""
    response = client.get("/api/v1/hall/listings?per_page=50&sort=newest")
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


def the_admin(app: Flask) -> int:
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.is_admin.is_(True))) or UserFactory(is_admin=True)
        db.session.commit()
        return admin.id


def owner_routes(listing_id: int, attachment_id: int, etag: str) -> list[tuple[str, str, dict[str, Any]]]:
    base = f"/api/v1/listings/{listing_id}"
    return [("GET", base, {}), ("PATCH", base, {"json": {"title_zh": "篡改"}, "If-Match": etag}),
            ("POST", f"{base}/submit", {}), ("POST", f"{base}/withdraw", {}), ("GET", f"{base}/history", {}),
            ("POST", f"{base}/attachments", {"upload": True}),
            ("GET", f"{base}/attachments/{attachment_id}", {}), ("DELETE", f"{base}/attachments/{attachment_id}", {})]


def call(client: FlaskClient, csrf: str | None, method: str, path: str, extra: dict[str, Any]) -> Any:
    headers = {key: value for key, value in (("X-CSRFToken", csrf), ("If-Match", extra.get("If-Match"))) if value}
    if extra.get("upload"):
        return client.post(path, data={"file": (io.BytesIO(PDF), "x.pdf"), "role": "attachment"}, headers=headers,
                           content_type="multipart/form-data")
    return client.open(path, method=method, json=extra.get("json"), headers=headers)


def test_other_institution_and_missing_ids_get_404_and_anonymous_401(app: Flask, tmp_path: Path) -> None:
    app.config["UPLOAD_DIR"] = str(tmp_path)
    with app.app_context():
        people = make_people()
    owner, other = Owner(app, people["owner"]), Owner(app, people["other_owner"])
    listing_id = create(owner)
    attachment_id = upload(owner, listing_id).get_json()["id"]
    other_draft = create(other)
    etag = owner.client.get(f"/api/v1/listings/{listing_id}").headers["ETag"]
    before, files = listing_state(app, listing_id), sorted(tmp_path.iterdir())

    probes = [(other, owner_routes(listing_id, attachment_id, etag)),
              (owner, owner_routes(MISSING, attachment_id, etag)),
              (other, owner_routes(MISSING, attachment_id, etag)),
              (owner, owner_routes(other_draft, attachment_id, etag)[5:]),  # A's file through B's listing id
              (owner, owner_routes(listing_id, MISSING, etag)[6:])]
    for caller, routes in probes:
        for method, path, extra in routes:
            response = call(caller.client, caller.csrf, method, path, extra)
            assert response.status_code == 404, (caller.csrf, method, path, response.get_json())
            assert response.get_json()["status"] == 404
    anonymous = app.test_client()
    for method, path, extra in owner_routes(listing_id, attachment_id, etag) + [("GET", "/api/v1/listings", {}),
                                                                                ("POST", "/api/v1/listings", {})]:
        response = call(anonymous, None, method, path, extra)
        assert response.status_code == 401, (method, path, response.get_json())
    assert listing_state(app, listing_id) == before
    assert sorted(tmp_path.iterdir()) == files
    with owner.client.get(f"/api/v1/listings/{listing_id}/attachments/{attachment_id}") as download:
        assert download.status_code == 200 and download.data == PDF


@pytest.mark.parametrize("status", ["draft", "submitted", "changes_requested", "rejected", "withdrawn", "suspended",
                                    "expired"])
def test_public_hall_shows_only_published_listings(app: Flask, client: FlaskClient, status: str) -> None:
    with app.app_context():
        people = make_people()
    owner = Owner(app, people["owner"])
    listing_id = bring_to(app, owner, status)
    assert listing_state(app, listing_id)["status"] == status
    response = client.get(f"/api/v1/hall/listings/{listing_id}")
    assert response.status_code == 404 and response.get_json()["status"] == 404
    assert client.get(f"/api/v1/hall/listings/{MISSING}").status_code == 404
    visible = publish(app, owner)
    assert hall_ids(client) == [visible]


SERVER_FIELDS = {"status": "published", "review_status": "approved", "lock_version": 99, "institution_id": 2,
                 "published_version_id": 1, "id": 4242, "published_at": "2024-01-01T00:00:00Z"}


@pytest.mark.parametrize("field", SERVER_FIELDS)
def test_server_controlled_fields_are_refused_on_create_and_edit(app: Flask, field: str) -> None:
    with app.app_context():
        people = make_people()
    owner = Owner(app, people["owner"])
    created = owner.post("/api/v1/listings", achievement(**{field: SERVER_FIELDS[field]}))
    assert created.status_code == 422 and field in created.get_json()["errors"], created.get_json()
    assert count_listings(app) == 0
    listing_id = create(owner)
    before = listing_state(app, listing_id)
    edited = owner.patch(listing_id, {"title_zh": "新标题", field: SERVER_FIELDS[field]})
    assert edited.status_code == 422 and field in edited.get_json()["errors"], edited.get_json()
    assert listing_state(app, listing_id) == before


def ip_asset(**changes: Any) -> dict[str, Any]:
    return {"ip_assets": [{**achievement()["ip_assets"][0], **changes}]}


INVALID = [
    ("trl", {"trl": 0}), ("trl", {"trl": 10}), ("trl", {"trl": "5"}),
    ("price_amount", {"price_amount": -100}), ("price_amount", {"price_amount": 0}),
    ("price_amount", {"price_amount": 1.5}), ("price_amount", {"price_mode": "negotiable", "price_amount": 100}),
    ("ip_assets.number", ip_asset(number="CN201710601862.4")),  # wrong check digit
    ("ip_assets.number", ip_asset(number="CN2017106018623")),  # no dot before the check digit
    ("ip_assets.number", ip_asset(number="patent 42")),
    ("ip_assets.number", ip_asset(ip_type="utility_model")),  # an invention number (type digit 1)
    ("field_code", {"field_code": "energy.warp_drive"}),
    ("field_code", {"direction_code": "energy", "field_code": "information.quantum"}),
    ("deal_modes", {"deal_modes": ["transfer", "purchase"]}),
    ("first_of_kind", {"first_of_kind": first_of_kind()["first_of_kind"]}),
    ("region_code", {"region_code": "991234"}), ("region_code", {"region_code": "11010"}),
    ("currency", {"currency": "XYZ"}),
    ("ip_assets.owner_id", ip_asset(owner_id=7)),
]


@pytest.mark.parametrize(("field", "changes"), INVALID, ids=[f"{f}-{json.dumps(c)[:40]}" for f, c in INVALID])
def test_invalid_content_is_refused_naming_the_field(app: Flask, field: str, changes: dict[str, Any]) -> None:
    with app.app_context():
        people = make_people()
    owner = Owner(app, people["owner"])
    top, _, nested = field.partition(".")
    created = owner.post("/api/v1/listings", achievement(**changes))
    assert created.status_code == 422, created.get_json()
    errors = created.get_json()["errors"]
    assert top in errors and nested in json.dumps(errors[top]), errors
    assert count_listings(app) == 0
    listing_id = create(owner)
    before = listing_state(app, listing_id)
    edited = owner.patch(listing_id, changes)
    assert edited.status_code == 422 and top in edited.get_json()["errors"], edited.get_json()
    assert listing_state(app, listing_id) == before


@pytest.mark.parametrize(("field", "start", "changes"), [
    ("field_code", {}, {"field_code": "information.quantum"}),
    ("field_code", {}, {"direction_code": "information"}),
    ("price_amount", {"price_mode": "negotiable", "price_amount": None}, {"price_amount": 100}),
])
def test_edits_are_checked_against_the_stored_content(app: Flask, field: str, start: dict[str, Any],
                                                      changes: dict[str, Any]) -> None:
    with app.app_context():
        people = make_people()
    owner = Owner(app, people["owner"])
    listing_id = create(owner, achievement(**start))
    before = listing_state(app, listing_id)
    edited = owner.patch(listing_id, changes)
    assert edited.status_code == 422 and field in (edited.get_json().get("errors") or {}), edited.get_json()
    assert listing_state(app, listing_id) == before


def test_only_a_verified_institution_submits_and_only_a_complete_listing(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        pending = InstitutionFactory(verification_status="pending")
        member = UserFactory(institution=pending, institution_role="member").email
        people = make_people()
    newcomer = Owner(app, member)
    listing_id = create(newcomer)
    refused = newcomer.post(f"/api/v1/listings/{listing_id}/submit")
    assert refused.status_code == 403 and refused.get_json()["status"] == 403
    assert listing_state(app, listing_id)["status"] == "draft"

    owner = Owner(app, people["owner"])
    sketch = create(owner, {"kind": "achievement", "title_zh": "只有标题"})
    incomplete = owner.post(f"/api/v1/listings/{sketch}/submit")
    assert incomplete.status_code == 422
    missing = incomplete.get_json()["errors"]
    for name in ("summary_zh", "description_zh", "benefit_zh", "scenarios_zh", "title_en", "trl", "field_code",
                 "direction_code", "region_code", "price_mode", "deal_modes"):
        assert name in missing, (name, missing)
    assert "title_zh" not in missing
    state = listing_state(app, sketch)
    assert state["status"] == "draft" and state["review_status"] == "draft"

    english_only = {key: value for key, value in achievement().items() if not key.endswith("_zh")}
    english = create(owner, english_only)
    assert owner.post(f"/api/v1/listings/{english}/submit").get_json()["status"] == "submitted"
    admin_decides(app, english, "approve")
    detail = client.get(f"/api/v1/hall/listings/{english}?lang=zh").get_json()
    assert detail["title"] == english_only["title_en"]


def test_edits_need_a_current_etag(app: Flask) -> None:
    with app.app_context():
        people = make_people()
    owner = Owner(app, people["owner"])
    listing_id = create(owner)
    path = f"/api/v1/listings/{listing_id}"
    before = listing_state(app, listing_id)
    no_etag = owner.client.patch(path, json={"trl": 7}, headers={"X-CSRFToken": owner.csrf})
    assert no_etag.status_code == 428 and no_etag.get_json()["status"] == 428
    first = owner.client.get(path).headers["ETag"]
    assert listing_state(app, listing_id) == before
    changed = owner.patch(listing_id, {"trl": 7}, etag=first)
    assert changed.status_code == 200 and changed.get_json()["working_version"]["trl"] == 7
    assert changed.headers.get("ETag") and changed.headers["ETag"] != first
    assert changed.headers["ETag"] == owner.client.get(path).headers["ETag"]
    after = listing_state(app, listing_id)
    stale = owner.patch(listing_id, {"trl": 8}, etag=first)
    assert stale.status_code == 412 and stale.get_json()["status"] == 412
    assert listing_state(app, listing_id) == after and after["trl"] == 7
    assert owner.patch(listing_id, {"trl": 8}, etag=changed.headers["ETag"]).status_code == 200


def test_review_state_rules(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        people = make_people()
    owner = Owner(app, people["owner"])
    admin_id = the_admin(app)
    submitted = bring_to(app, owner, "submitted")
    before = listing_state(app, submitted)
    assert owner.patch(submitted, {"trl": 7}).status_code == 409
    with app.app_context():
        admin = db.session.get(User, admin_id)
        for action, reason in (("request_changes", None), ("reject", "   "), ("reject", None)):
            with pytest.raises(InvalidInput) as refused:
                listing_review.decide(admin, submitted, action, reason)
            assert "reason" in refused.value.errors
            db.session.rollback()
        db.session.remove()
    assert listing_state(app, submitted) == before

    rejected = bring_to(app, owner, "rejected")
    before = listing_state(app, rejected)
    assert owner.patch(rejected, {"trl": 7}).status_code == 409
    assert owner.post(f"/api/v1/listings/{rejected}/submit").status_code == 409
    assert listing_state(app, rejected) == before

    published = publish(app, owner)
    assert hall_ids(client) == [published]
    before = listing_state(app, published)
    with app.app_context(), pytest.raises(InvalidInput) as refused:
        listing_review.suspend_listing(db.session.get(User, admin_id), published, " ")
    assert "reason" in refused.value.errors
    assert listing_state(app, published) == before and hall_ids(client) == [published]
    admin_decides(app, published, "suspend", "专利权属存在争议")
    assert listing_state(app, published)["status"] == "suspended"
    assert hall_ids(client) == [] and client.get(f"/api/v1/hall/listings/{published}").status_code == 404
    assert owner.patch(published, {"trl": 7}).status_code == 409
    admin_decides(app, published, "reinstate")
    assert hall_ids(client) == [published] and client.get(f"/api/v1/hall/listings/{published}").status_code == 200


def test_expired_listing_leaves_the_hall_and_is_renewed(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        people = make_people()
    owner = Owner(app, people["owner"])
    listing_id, fresh = publish(app, owner), publish(app, owner)
    expire_now(app, listing_id)
    assert listing_state(app, listing_id)["status"] == "expired"
    assert listing_state(app, fresh)["status"] == "published"
    assert hall_ids(client) == [fresh] and client.get(f"/api/v1/hall/listings/{listing_id}").status_code == 404
    renewed = owner.post(f"/api/v1/listings/{listing_id}/submit")
    assert renewed.status_code == 200 and renewed.get_json()["status"] == "submitted"
    assert hall_ids(client) == [fresh]
    admin_decides(app, listing_id, "approve")
    state = listing_state(app, listing_id)
    assert state["status"] == "published" and state["expires_at"] > utcnow() + timedelta(days=300)
    assert sorted(hall_ids(client)) == sorted([listing_id, fresh])
    assert client.get(f"/api/v1/hall/listings/{listing_id}").status_code == 200


def test_owner_list_shows_own_listings_by_status_with_pagination(app: Flask) -> None:
    with app.app_context():
        people = make_people()
    owner, other = Owner(app, people["owner"]), Owner(app, people["other_owner"])
    drafts = [create(owner) for _ in range(3)]
    bring_to(app, owner, "submitted")
    create(other)
    page = owner.client.get("/api/v1/listings?status=draft")
    assert page.status_code == 200, page.get_json()
    assert [item["id"] for item in page.get_json()] == drafts[::-1]
    assert json.loads(page.headers["X-Pagination"])["total"] == 3
    first = owner.client.get("/api/v1/listings?status=draft&page=1&page_size=2")
    assert first.status_code == 200, first.get_json()
    assert [item["id"] for item in first.get_json()] == drafts[:0:-1]
    assert json.loads(first.headers["X-Pagination"])["total_pages"] == 2
    too_big = owner.client.get("/api/v1/listings?page_size=51")
    assert too_big.status_code == 422 and "page_size" in too_big.get_json()["errors"]
    assert "Unknown field" not in json.dumps(too_big.get_json()["errors"])
    assert len(owner.client.get("/api/v1/listings").get_json()) == 4
