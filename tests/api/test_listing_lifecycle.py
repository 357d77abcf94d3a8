"""The listing lifecycle end to end through the API and the review service, including a revision of a published
listing that the public does not see until it is approved."""
from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.support.factories import make_people
from tests.support.listing_data import achievement, first_of_kind
from tests.support.listings import Owner, admin_decides


def test_draft_submit_changes_requested_publish_revise_withdraw_renew(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        people = make_people()
    owner = Owner(app, people["owner"])
    created = owner.post("/api/v1/listings", achievement())
    assert created.status_code == 201, created.get_json()
    listing_id = created.get_json()["id"]
    assert created.get_json()["status"] == "draft"
    assert client.get(f"/api/v1/hall/listings/{listing_id}").status_code == 404

    assert owner.post(f"/api/v1/listings/{listing_id}/submit").get_json()["status"] == "submitted"
    assert client.get("/api/v1/hall/listings?q=固态电池").get_json()["total"] == 0
    admin_decides(app, listing_id, "request_changes", "请补充专利证书")
    body = owner.client.get(f"/api/v1/listings/{listing_id}").get_json()
    assert body["status"] == "changes_requested" and body["status_reason"] == "请补充专利证书"

    assert owner.patch(listing_id, {"trl": 7}).status_code == 200
    owner.post(f"/api/v1/listings/{listing_id}/submit")
    admin_decides(app, listing_id, "approve")
    public = client.get(f"/api/v1/hall/listings/{listing_id}?lang=en").get_json()
    assert public["title"] == "Solid-state battery electrolyte with high energy density" and public["trl"] == 7
    found = client.get("/api/v1/hall/listings?q=固态电池").get_json()
    assert [item["id"] for item in found["items"]] == [listing_id]

    # A revision: the public keeps the approved text until the revision is approved.
    revised = owner.patch(listing_id, {"title_en": "Sulfide solid electrolyte, revised", "trl": 8})
    assert revised.status_code == 200 and revised.get_json()["has_pending_revision"] is True
    assert client.get(f"/api/v1/hall/listings/{listing_id}?lang=en").get_json()["trl"] == 7
    owner.post(f"/api/v1/listings/{listing_id}/submit")
    assert client.get(f"/api/v1/hall/listings/{listing_id}?lang=en").get_json()["trl"] == 7
    admin_decides(app, listing_id, "approve")
    public = client.get(f"/api/v1/hall/listings/{listing_id}?lang=en").get_json()
    assert public["trl"] == 8 and public["title"] == "Sulfide solid electrolyte, revised"
    assert client.get("/api/v1/hall/listings?q=sulfide").get_json()["total"] == 1

    assert owner.post(f"/api/v1/listings/{listing_id}/withdraw").get_json()["status"] == "withdrawn"
    assert client.get(f"/api/v1/hall/listings/{listing_id}").status_code == 404
    assert client.get("/api/v1/hall/listings?q=sulfide").get_json()["total"] == 0
    assert owner.post(f"/api/v1/listings/{listing_id}/submit").get_json()["status"] == "submitted"
    admin_decides(app, listing_id, "approve")
    assert client.get(f"/api/v1/hall/listings/{listing_id}").status_code == 200

    history = owner.client.get(f"/api/v1/listings/{listing_id}/history").get_json()
    actions = [step["action"] for step in history]
    assert actions[:3] == ["created", "submit", "request_changes"]
    assert "revision_submitted" in actions and "revision_approve" in actions and "renew" in actions
    assert next(s for s in history if s["action"] == "request_changes")["by_platform"] is True


def test_first_of_kind_product_is_published_and_filterable(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        people = make_people()
    owner = Owner(app, people["owner"])
    listing_id = owner.post("/api/v1/listings", first_of_kind()).get_json()["id"]
    submitted = owner.post(f"/api/v1/listings/{listing_id}/submit")
    assert submitted.status_code == 200, submitted.get_json()
    admin_decides(app, listing_id, "approve")
    page = client.get("/api/v1/hall/listings?product_kind=equipment&recognition_level=national").get_json()
    assert [item["id"] for item in page["items"]] == [listing_id]
    assert page["facets"]["kind"] == {"first_of_kind": 1}
    assert page["items"][0]["title"] == "兆瓦级氢燃料电池发电系统"
    english = client.get(f"/api/v1/hall/listings/{listing_id}", headers={"Accept-Language": "en"}).get_json()
    assert english["title"] == "兆瓦级氢燃料电池发电系统" and english["language"] == "zh"  # falls back
