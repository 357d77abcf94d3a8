"""Review rules found in review: suspended institutions leave the hall, no self-decisions, expiry with a pending
revision, a rejected revision, an unknown direction."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hall.extensions import db
from hall.models import Institution, Listing, User
from hall.models.types import utcnow
from hall.services.accounts import institutions
from hall.services.core.errors import Conflict, Forbidden
from hall.services.publishing import listing_review
from tests.support.factories import UserFactory, make_people
from tests.support.listing_data import achievement
from tests.support.listings import Owner, admin_decides


def _published(app: Flask) -> tuple[Owner, int, dict]:
    with app.app_context():
        people = make_people()
    owner = Owner(app, people["owner"])
    listing_id = owner.post("/api/v1/listings", achievement()).get_json()["id"]
    owner.post(f"/api/v1/listings/{listing_id}/submit")
    admin_decides(app, listing_id, "approve")
    return owner, listing_id, people


def test_a_suspended_institution_leaves_the_hall_and_comes_back_when_reinstated(app: Flask,
                                                                                 client: FlaskClient) -> None:
    _owner, listing_id, people = _published(app)
    assert client.get("/api/v1/hall/listings?q=固态电池").get_json()["total"] == 1
    with app.app_context():
        admin = UserFactory(is_admin=True)
        admin_id = admin.id
        institutions.review_institution(admin, db.session.get(Institution, people["org"]), "suspend", "资质存疑")
        db.session.commit()
    assert client.get("/api/v1/hall/listings?q=固态电池").get_json()["total"] == 0
    assert client.get(f"/api/v1/hall/listings/{listing_id}").status_code == 404
    assert client.get("/api/v1/hall/directory?format=csv").get_data(as_text=True).count("\n") == 1  # header only
    with app.app_context():
        admin = db.session.get(User, admin_id)
        institutions.review_institution(admin, db.session.get(Institution, people["org"]), "reinstate")
        db.session.commit()
    assert client.get(f"/api/v1/hall/listings/{listing_id}").status_code == 200


def test_a_listing_of_an_unverified_institution_is_not_approved(app: Flask) -> None:
    with app.app_context():
        people = make_people()
    owner = Owner(app, people["owner"])
    listing_id = owner.post("/api/v1/listings", achievement()).get_json()["id"]
    owner.post(f"/api/v1/listings/{listing_id}/submit")
    with app.app_context():
        admin = UserFactory(is_admin=True)
        institutions.review_institution(admin, db.session.get(Institution, people["org"]), "suspend", "核查中")
        db.session.commit()
        with pytest.raises(Conflict):
            listing_review.decide(admin, listing_id, "approve")
        db.session.rollback()
        assert db.session.get(Listing, listing_id).status == "submitted"


def test_admins_do_not_decide_on_their_own_institution(app: Flask) -> None:
    with app.app_context():
        people = make_people()
    owner = Owner(app, people["owner"])
    listing_id = owner.post("/api/v1/listings", achievement()).get_json()["id"]
    owner.post(f"/api/v1/listings/{listing_id}/submit")
    with app.app_context():
        insider = db.session.get(User, people["owner_id"])
        insider.is_admin = True
        db.session.commit()
        with pytest.raises(Forbidden):
            listing_review.decide(insider, listing_id, "approve")
        with pytest.raises(Forbidden):
            institutions.review_institution(insider, db.session.get(Institution, people["org"]), "suspend", "x")
        db.session.rollback()
        assert db.session.get(Listing, listing_id).status == "submitted"


def test_expiry_returns_a_pending_revision_so_the_listing_can_be_renewed(app: Flask, client: FlaskClient) -> None:
    owner, listing_id, _people = _published(app)
    assert owner.patch(listing_id, {"trl": 8}).status_code == 200
    assert owner.post(f"/api/v1/listings/{listing_id}/submit").status_code == 200  # the revision awaits review
    with app.app_context():
        db.session.get(Listing, listing_id).expires_at = utcnow() - timedelta(days=1)
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["hall", "expire-listings"])
    assert result.exit_code == 0 and str(listing_id) in result.output
    renewed = owner.post(f"/api/v1/listings/{listing_id}/submit")
    assert renewed.status_code == 200 and renewed.get_json()["status"] == "submitted"
    admin_decides(app, listing_id, "approve")
    assert client.get(f"/api/v1/hall/listings/{listing_id}").get_json()["trl"] == 8


def test_after_a_rejected_revision_edits_and_renewal_start_from_the_public_version(app: Flask) -> None:
    owner, listing_id, _people = _published(app)
    owner.patch(listing_id, {"title_en": "A revision the platform rejects"})
    owner.post(f"/api/v1/listings/{listing_id}/submit")
    admin_decides(app, listing_id, "reject", "夸大宣传")
    edited = owner.patch(listing_id, {"trl": 7})
    assert edited.status_code == 200
    assert edited.get_json()["working_version"]["title_en"] == achievement()["title_en"]
    assert owner.post(f"/api/v1/listings/{listing_id}/withdraw").status_code == 200
    assert owner.post(f"/api/v1/listings/{listing_id}/submit").get_json()["status"] == "submitted"


def test_an_unknown_direction_is_a_422_naming_the_field(app: Flask) -> None:
    with app.app_context():
        people = make_people()
    owner = Owner(app, people["owner"])
    response = owner.post("/api/v1/listings", achievement(direction_code="nowhere", field_code=None))
    assert response.status_code == 422 and "direction_code" in response.get_json()["errors"]
