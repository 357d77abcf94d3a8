"""Test helpers of first-of-kind insurance policies and premium compensation applications: a policy body whose
three policy years have all begun, recording policies and draft applications (with a PDF) through the API as the
market's seller, and the admin's decisions through the services."""
from __future__ import annotations

import io
from datetime import date
from typing import Any

from flask import Flask

from hall.extensions import db
from hall.models import User
from hall.models.types import utcnow
from hall.services.policy import insurance_review
from tests.support.listings import PDF
from tests.support.orders import Market, Party

POLICIES = "/api/v1/insurance/policies"
APPLICATIONS = "/api/v1/insurance/applications"
UNIT_PRICE = 12_000_000_00  # the market's product (tests.support.orders.open_market)


def three_years() -> tuple[str, str]:
    """A policy period of three policy years that have all begun: 1 January two years ago to 1 January next year."""
    year = utcnow().date().year
    return date(year - 2, 1, 1).isoformat(), date(year + 1, 1, 1).isoformat()


def policy_body(listing_id: int, **overrides: Any) -> dict[str, Any]:
    """A policy of 12,000,000.00 yuan insured at a 3 % premium (360,000.00 yuan a year) over three years."""
    start, end = three_years()
    body: dict[str, Any] = {
        "listing_id": listing_id, "insurer": "中国人民财产保险股份有限公司", "policy_number": "PICC-FK-2025-001",
        "coverage": "产品质量风险和产品责任风险（质量险 + 责任险）", "insured_amount": UNIT_PRICE,
        "premium": 360_000_00, "period_start": start, "period_end": end,
    }
    body.update(overrides)
    return body


def make_policy(party: Party, listing_id: int, **overrides: Any) -> int:
    """Record a policy through the API (201); returns its id."""
    response = party.post(POLICIES, policy_body(listing_id, **overrides))
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["id"])


def upload_document(party: Party, application_id: int, content: bytes = PDF, name: str = "保单.pdf",
                    kind: str = "policy") -> Any:
    """POST a document to an application (multipart)."""
    return party.client.post(f"{APPLICATIONS}/{application_id}/documents",
                             data={"file": (io.BytesIO(content), name), "kind": kind},
                             headers={"X-CSRFToken": party.csrf}, content_type="multipart/form-data")


def make_application(party: Party, policy_id: int, year: int = 1, *, document: bool = True) -> tuple[int, int | None]:
    """A draft application for ``year`` (with a policy PDF unless ``document`` is false); (id, document id)."""
    response = party.post(APPLICATIONS, {"policy_id": policy_id, "policy_year": year})
    assert response.status_code == 201, response.get_json()
    application_id = int(response.get_json()["id"])
    if not document:
        return application_id, None
    uploaded = upload_document(party, application_id)
    assert uploaded.status_code == 201, uploaded.get_json()
    return application_id, int(uploaded.get_json()["id"])


def filed_application(market: Market, year: int = 1, **policy: Any) -> tuple[int, int]:
    """A policy of the market's product and a filed application for ``year``: (policy id, application id)."""
    policy_id = make_policy(market.seller, market.product, **policy)
    application_id, _document = make_application(market.seller, policy_id, year)
    filed = market.seller.post(f"{APPLICATIONS}/{application_id}/file")
    assert filed.status_code == 200, filed.get_json()
    return policy_id, application_id


def as_admin(app: Flask, admin_id: int, action: str, application_id: int, *args: Any) -> None:
    """Run one of insurance_review's decisions (approve, reject, record_payment) as ``admin_id`` and commit."""
    with app.app_context():
        getattr(insurance_review, action)(db.session.get(User, admin_id), application_id, *args)
        db.session.commit()
        db.session.remove()


def workspace_ids(market: Market) -> dict[str, int]:
    """The ids the web route inventory needs for this feature's workspace rules, made in ``market`` (the seller's
    institution owns them; see tests/support/web_routes.py)."""
    policy_id = make_policy(market.seller, market.product, policy_number="PICC-FK-ROUTES-1")
    application_id, document_id = make_application(market.seller, policy_id)
    assert document_id is not None
    return {"policy_id": policy_id, "application_id": application_id, "document_id": document_id}
