"""Test helpers of evaluation engagements and reports by professional institutions: an evaluator institution (a
verified institution of kind evaluator with a signed-in owner) beside a trading market, the report's multipart
body, and the API calls of both sides."""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import select

from hall.extensions import db
from hall.models import AuditEvent
from tests.support.factories import InstitutionFactory, UserFactory
from tests.support.listings import PDF
from tests.support.orders import Market, Party

EVALUATIONS = "/api/v1/evaluations"


@dataclass
class Evaluator:
    """An evaluation institution and its signed-in owner."""

    org_id: int
    party: Party


def new_evaluator(app: Flask, *, kind: str = "evaluator", verification_status: str = "verified",
                  name_zh: str | None = None, name_en: str | None = None) -> Evaluator:
    """A committed institution (an evaluator, verified, unless told) with an owner signed in through the API."""
    with app.app_context():
        names = {key: value for key, value in (("name_zh", name_zh), ("name_en", name_en)) if value}
        org = InstitutionFactory(kind=kind, verification_status=verification_status, **names)
        owner = UserFactory(institution=org, institution_role="owner")
        db.session.commit()
        org_id, email = org.id, owner.email
        db.session.remove()
    return Evaluator(org_id, Party(app, email))


def report_body(**overrides: Any) -> dict[str, Any]:
    """A complete report as a multipart body (the PDF in ``file``); overrides replace or (None) drop fields."""
    body: dict[str, Any] = {
        "maturity_grade": "7", "innovation_grade": "3", "advancement_grade": "5", "valuation_method": "income",
        "value_low": "650000000", "value_high": "900000000", "currency": "CNY", "report_number": "GKPJ-2026-001",
        "issued_on": "2026-11-20", "conclusion_zh": "达到国内领先水平。", "conclusion_en": "Leading in China.",
        "file": (io.BytesIO(PDF), "report.pdf"),
    }
    for key, value in overrides.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def request_evaluation(client: Party, listing_id: int, evaluator_org_id: int, note: str = "技术成熟度评价") -> Any:
    """POST /evaluations as ``client``."""
    return client.post(EVALUATIONS, {"listing_id": listing_id, "evaluator_institution_id": evaluator_org_id,
                                     "note": note})


def issue(party: Party, engagement_id: int, **overrides: Any) -> Any:
    """POST the report (multipart) as ``party``."""
    return party.client.post(f"{EVALUATIONS}/{engagement_id}/report", data=report_body(**overrides),
                             headers={"X-CSRFToken": party.csrf}, content_type="multipart/form-data")


def engaged(market: Market, evaluator: Evaluator, listing_id: int | None = None) -> int:
    """An engagement of ``evaluator`` by the market's seller on one of its listings (the licence by default)."""
    made = request_evaluation(market.seller, listing_id or market.licence, evaluator.org_id)
    assert made.status_code == 201, made.get_json()
    return int(made.get_json()["id"])


def reported(market: Market, evaluator: Evaluator, listing_id: int | None = None, *, attach: bool = False,
             number: str = "GKPJ-2026-001") -> int:
    """An engagement with an issued report (attached to the public listing when ``attach``)."""
    engagement_id = engaged(market, evaluator, listing_id)
    assert evaluator.party.post(f"{EVALUATIONS}/{engagement_id}/accept").status_code == 200
    answer = issue(evaluator.party, engagement_id, report_number=number)
    assert answer.status_code == 200, answer.get_json()
    if attach:
        assert market.seller.post(f"{EVALUATIONS}/{engagement_id}/attach").status_code == 200
    return engagement_id


def history(app: Flask, engagement_id: int) -> list[tuple[str, str | None, str | None, int | None]]:
    """(action, from, to, actor id) of every audit event of an engagement, oldest first."""
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "evaluation",
                                                           AuditEvent.object_id == str(engagement_id))
                                  .order_by(AuditEvent.id)).all()
        return [(row.action, row.from_state, row.to_state, row.actor_id) for row in rows]


def workspace_ids(market: Market) -> dict[str, int]:
    """The ids the web route inventory needs for this feature's workspace rules, made in ``market`` (the seller's
    institution owns them; see tests/support/web_routes.py): an engagement by the seller, with an issued report."""
    evaluator = new_evaluator(market.app)
    return {"engagement_id": reported(market, evaluator)}
