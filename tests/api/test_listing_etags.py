"""Writes that answer a listing carry the ETag a GET would give (issue 9, item 8b), so a client can edit with
If-Match right after creating, submitting or withdrawing, without reading the listing again."""
from __future__ import annotations

from flask import Flask

from tests.support.factories import make_people
from tests.support.listing_data import achievement
from tests.support.listings import Owner, admin_decides


def test_create_submit_and_withdraw_answer_the_current_etag(app: Flask) -> None:
    with app.app_context():
        people = make_people()
    owner = Owner(app, people["owner"])

    created = owner.post("/api/v1/listings", achievement())
    assert created.status_code == 201, created.get_json()
    listing_id = created.get_json()["id"]
    path = f"/api/v1/listings/{listing_id}"
    assert created.headers.get("ETag"), "POST /listings answered no ETag"
    assert created.headers["ETag"] == owner.client.get(path).headers["ETag"]
    edited = owner.patch(listing_id, {"trl": 7}, etag=created.headers["ETag"])  # If-Match with the POST's ETag
    assert edited.status_code == 200, edited.get_json()

    submitted = owner.post(f"{path}/submit")
    assert submitted.status_code == 200
    assert submitted.headers.get("ETag") == owner.client.get(path).headers["ETag"]

    admin_decides(app, listing_id, "approve")
    withdrawn = owner.post(f"{path}/withdraw")
    assert withdrawn.status_code == 200
    assert withdrawn.headers.get("ETag") == owner.client.get(path).headers["ETag"]
    after_withdrawal = owner.patch(listing_id, {"trl": 8}, etag=withdrawn.headers["ETag"])
    assert after_withdrawal.status_code == 200, after_withdrawal.get_json()
