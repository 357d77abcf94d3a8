"""Evaluation by professional institutions through the API: who may be engaged (a verified evaluator, never the
client itself), who acts on each step (the evaluator accepts, declines and reports; the client cancels, attaches,
detaches), the report's rules (grades, value range, PDF, number unique per evaluator, immutable), the inboxes, and
what the public sees (only attached reports of public listings, in the listing detail and as PDF)."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask import Flask

from tests.support.evaluations import (
    EVALUATIONS,
    Evaluator,
    engaged,
    history,
    issue,
    new_evaluator,
    reported,
    request_evaluation,
)
from tests.support.inbox import events_of
from tests.support.listings import PDF, admin_decides, download, png_1x1
from tests.support.orders import Market

HALL = "/api/v1/hall/listings"


@pytest.fixture
def evaluator(app: Flask, market: Market, tmp_path: Path) -> Evaluator:
    """A verified evaluation institution beside the market (uploads go to this test's directory)."""
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    return new_evaluator(app, name_zh="国科评价中心", name_en="Guoke Evaluation Centre")


# --- who may be engaged -------------------------------------------------------------------------------------

def test_the_evaluators_are_the_verified_institutions_of_kind_evaluator(app: Flask, market: Market,
                                                                        evaluator: Evaluator) -> None:
    new_evaluator(app, verification_status="pending", name_zh="待认证评价机构")
    listed = app.test_client().get("/api/v1/evaluators")
    assert listed.status_code == 200
    assert [org["id"] for org in listed.get_json()] == [evaluator.org_id]


def test_a_client_engages_a_verified_evaluator_who_is_told(app: Flask, market: Market, evaluator: Evaluator) -> None:
    made = request_evaluation(market.seller, market.licence, evaluator.org_id, "请评价技术成熟度")
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert (body["status"], body["role"], body["note"], body["report"]) == ("requested", "client", "请评价技术成熟度",
                                                                            None)
    assert body["evaluator"]["id"] == evaluator.org_id and body["client"]["id"] == market.parties.seller_org
    assert "evaluation.requested" in events_of(app, evaluator.party.email)
    seen = evaluator.party.get(f"{EVALUATIONS}/{body['id']}").get_json()
    assert seen["role"] == "evaluator"


@pytest.mark.parametrize("case", ["pending", "enterprise", "missing"])
def test_only_a_verified_evaluator_kind_institution_can_be_engaged(app: Flask, market: Market, case: str) -> None:
    org_id = 987_654 if case == "missing" else new_evaluator(
        app, kind="evaluator" if case == "pending" else "enterprise",
        verification_status="pending" if case == "pending" else "verified").org_id
    refused = request_evaluation(market.seller, market.licence, org_id)
    assert refused.status_code == 422
    assert "evaluator_institution_id" in refused.get_json()["errors"]
    assert market.seller.get(EVALUATIONS).get_json() == []


def test_the_client_cannot_evaluate_itself(app: Flask, market: Market) -> None:
    with app.app_context():
        from hall.extensions import db
        from hall.models import Institution
        org = db.session.get(Institution, market.parties.seller_org)
        assert org is not None
        org.kind = "evaluator"
        db.session.commit()
    refused = request_evaluation(market.seller, market.licence, market.parties.seller_org)
    assert refused.status_code == 422
    assert "evaluator_institution_id" in refused.get_json()["errors"]


def test_only_the_listing_owner_asks_and_one_open_engagement_per_evaluator(market: Market,
                                                                          evaluator: Evaluator) -> None:
    assert request_evaluation(market.buyer, market.licence, evaluator.org_id).status_code == 404
    engaged(market, evaluator)
    again = request_evaluation(market.seller, market.licence, evaluator.org_id)
    assert again.status_code == 409
    assert request_evaluation(market.seller, market.negotiable, evaluator.org_id).status_code == 201


# --- the state machine and who acts ------------------------------------------------------------------------

def test_the_evaluator_accepts_and_reports_the_client_attaches(app: Flask, market: Market,
                                                               evaluator: Evaluator) -> None:
    engagement_id = engaged(market, evaluator)
    assert market.seller.post(f"{EVALUATIONS}/{engagement_id}/accept").status_code == 403
    assert market.buyer.post(f"{EVALUATIONS}/{engagement_id}/accept").status_code == 404
    accepted = evaluator.party.post(f"{EVALUATIONS}/{engagement_id}/accept")
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "accepted"
    assert "evaluation.accepted" in events_of(app, market.seller.email)
    assert issue(market.seller, engagement_id).status_code == 403
    done = issue(evaluator.party, engagement_id)
    assert done.status_code == 200, done.get_json()
    report = done.get_json()["report"]
    assert (report["maturity_grade"], report["innovation_grade"], report["advancement_grade"]) == (7, 3, 5)
    assert (report["value_low"], report["value_high"], report["valuation_method"]) == (650000000, 900000000,
                                                                                          "income")
    assert "evaluation.reported" in events_of(app, market.seller.email)
    assert evaluator.party.post(f"{EVALUATIONS}/{engagement_id}/attach").status_code == 403
    attached = market.seller.post(f"{EVALUATIONS}/{engagement_id}/attach")
    assert attached.status_code == 200 and attached.get_json()["attached"] is True
    assert [event[:3] for event in history(app, engagement_id)] == [
        ("evaluation.requested", None, "requested"), ("evaluation.accept", "requested", "accepted"),
        ("evaluation.report", "accepted", "reported"), ("evaluation.attached", None, None)]


def test_decline_and_cancel_need_a_reason_and_end_the_engagement(app: Flask, market: Market,
                                                                 evaluator: Evaluator) -> None:
    first = engaged(market, evaluator)
    assert evaluator.party.post(f"{EVALUATIONS}/{first}/decline", {"reason": ""}).status_code == 422
    declined = evaluator.party.post(f"{EVALUATIONS}/{first}/decline", {"reason": "利益冲突"})
    assert declined.status_code == 200
    assert (declined.get_json()["status"], declined.get_json()["status_reason"]) == ("declined", "利益冲突")
    assert "evaluation.declined" in events_of(app, market.seller.email)
    assert evaluator.party.post(f"{EVALUATIONS}/{first}/accept").status_code == 409
    assert market.seller.post(f"{EVALUATIONS}/{first}/cancel", {"reason": "不再需要"}).status_code == 409
    second = engaged(market, evaluator)  # declined is closed: a new one may be opened
    assert evaluator.party.post(f"{EVALUATIONS}/{second}/accept").status_code == 200
    assert evaluator.party.post(f"{EVALUATIONS}/{second}/cancel", {"reason": "x"}).status_code == 403
    cancelled = market.seller.post(f"{EVALUATIONS}/{second}/cancel", {"reason": "预算调整"})
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    assert issue(evaluator.party, second).status_code == 409
    assert market.seller.post(f"{EVALUATIONS}/{second}/attach").status_code == 409


def test_the_list_filters_by_role_and_status(market: Market, evaluator: Evaluator) -> None:
    engagement_id = engaged(market, evaluator)
    assert [e["id"] for e in market.seller.get(f"{EVALUATIONS}?role=client").get_json()] == [engagement_id]
    assert market.seller.get(f"{EVALUATIONS}?role=evaluator").get_json() == []
    assert [e["id"] for e in evaluator.party.get(f"{EVALUATIONS}?role=evaluator&status=requested")
            .get_json()] == [engagement_id]
    assert evaluator.party.get(f"{EVALUATIONS}?status=reported").get_json() == []
    assert market.buyer.get(EVALUATIONS).get_json() == []
    assert market.buyer.get(f"{EVALUATIONS}/{engagement_id}").status_code == 404
    assert market.seller.get(f"{EVALUATIONS}?role=nobody").status_code == 422


# --- the report's rules ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("overrides", "field"), [
    ({"maturity_grade": "10"}, "maturity_grade"), ({"innovation_grade": "0"}, "innovation_grade"),
    ({"advancement_grade": "8"}, "advancement_grade"), ({"value_low": "900000001"}, "value_high"),
    ({"value_high": None}, "value_high"), ({"value_low": "-1"}, "value_low"),
    ({"valuation_method": "guess"}, "valuation_method"), ({"report_number": ""}, "report_number"),
    ({"issued_on": "2999-01-01"}, "issued_on"), ({"file": None}, "file"),
    ({"conclusion_zh": "", "conclusion_en": ""}, "conclusion_zh"),
])
def test_a_bad_report_is_refused_naming_the_field(market: Market, evaluator: Evaluator, overrides: dict[str, str],
                                                  field: str) -> None:
    engagement_id = engaged(market, evaluator)
    assert evaluator.party.post(f"{EVALUATIONS}/{engagement_id}/accept").status_code == 200
    refused = issue(evaluator.party, engagement_id, **overrides)
    assert refused.status_code == 422, refused.get_json()
    assert field in refused.get_json()["errors"]
    assert evaluator.party.get(f"{EVALUATIONS}/{engagement_id}").get_json()["status"] == "accepted"


def test_the_report_is_a_pdf_judged_by_content(market: Market, evaluator: Evaluator) -> None:
    engagement_id = engaged(market, evaluator)
    evaluator.party.post(f"{EVALUATIONS}/{engagement_id}/accept")
    image = issue(evaluator.party, engagement_id, file=(io.BytesIO(png_1x1()), "report.png"))
    assert image.status_code == 422 and "file" in image.get_json()["errors"]
    disguised = issue(evaluator.party, engagement_id, file=(io.BytesIO(b"<html>not a pdf</html>"), "report.pdf"))
    assert disguised.status_code == 422


def test_value_range_is_optional_as_a_pair(market: Market, evaluator: Evaluator) -> None:
    engagement_id = engaged(market, evaluator)
    evaluator.party.post(f"{EVALUATIONS}/{engagement_id}/accept")
    done = issue(evaluator.party, engagement_id, value_low=None, value_high=None)
    assert done.status_code == 200, done.get_json()
    assert (done.get_json()["report"]["value_low"], done.get_json()["report"]["value_high"]) == (None, None)


def test_report_numbers_are_unique_per_evaluator_and_reports_never_change(app: Flask, market: Market,
                                                                          evaluator: Evaluator) -> None:
    first = reported(market, evaluator, number="GK-1")
    second = engaged(market, evaluator, market.negotiable)
    evaluator.party.post(f"{EVALUATIONS}/{second}/accept")
    clash = issue(evaluator.party, second, report_number="GK-1")
    assert clash.status_code == 422 and "report_number" in clash.get_json()["errors"]
    other = new_evaluator(app)
    third = engaged(market, other, market.negotiable)
    other.party.post(f"{EVALUATIONS}/{third}/accept")
    assert issue(other.party, third, report_number="GK-1").status_code == 200  # another evaluator's numbering
    again = issue(evaluator.party, first, maturity_grade="9", report_number="GK-2")
    assert again.status_code == 409
    assert evaluator.party.get(f"{EVALUATIONS}/{first}").get_json()["report"]["maturity_grade"] == 7


# --- what the public sees ----------------------------------------------------------------------------------

def test_an_unattached_report_is_invisible_to_the_public(app: Flask, market: Market, evaluator: Evaluator) -> None:
    engagement_id = reported(market, evaluator)
    anonymous = app.test_client()
    assert anonymous.get(f"{HALL}/{market.licence}").get_json()["evaluation_reports"] == []
    assert download(anonymous, f"{EVALUATIONS}/{engagement_id}/report.pdf")[0] == 404
    assert download(market.buyer.client, f"{EVALUATIONS}/{engagement_id}/report.pdf")[0] == 404
    for party in (market.seller, evaluator.party, market.admin):
        status, _headers, data = download(party.client, f"{EVALUATIONS}/{engagement_id}/report.pdf")
        assert (status, data) == (200, PDF)


def test_an_attached_report_shows_on_the_public_listing(app: Flask, market: Market, evaluator: Evaluator) -> None:
    engagement_id = reported(market, evaluator, attach=True)
    anonymous = app.test_client()
    [shown] = anonymous.get(f"{HALL}/{market.licence}?lang=zh").get_json()["evaluation_reports"]
    assert shown["evaluator"]["name_zh"] == "国科评价中心"
    assert (shown["maturity_grade"], shown["valuation_method"], shown["value_low"]) == (7, "income", 650000000)
    assert shown["conclusion"] == "达到国内领先水平。"
    assert shown["evaluator_url"] == f"/api/v1/hall/institutions/{evaluator.org_id}"
    status, headers, data = download(anonymous, shown["download"])
    assert (status, data) == (200, PDF)
    assert headers["Content-Disposition"].startswith("attachment")
    assert market.seller.post(f"{EVALUATIONS}/{engagement_id}/detach").status_code == 200
    assert anonymous.get(f"{HALL}/{market.licence}").get_json()["evaluation_reports"] == []
    assert download(anonymous, shown["download"])[0] == 404


def test_an_attached_report_of_a_listing_that_left_the_hall_is_not_public(app: Flask, market: Market,
                                                                          evaluator: Evaluator) -> None:
    engagement_id = reported(market, evaluator, attach=True)
    admin_decides(app, market.licence, "suspend", "核查中")
    anonymous = app.test_client()
    assert download(anonymous, f"{EVALUATIONS}/{engagement_id}/report.pdf")[0] == 404
    assert download(market.seller.client, f"{EVALUATIONS}/{engagement_id}/report.pdf")[0] == 200
