"""First-of-kind insurance policies and premium compensation applications through the institution's API and the
console's review service: policies (recognised product, insured amount at least the unit price, one policy number
per insurer, If-Match), applications (amount computed by the platform, one per policy year, year limits, documents,
filing), the admin's decisions (cap, reasons, payment reference, own institution refused), the append-only entries,
tenancy (another institution's ids are 404, anonymous 401) and notifications."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text

from hall.extensions import db
from hall.models import AuditEvent, Institution, Notification, User
from hall.models.insurance import CompensationApplication, CompensationEntry
from hall.services.core.errors import Conflict, Forbidden, InvalidInput
from tests.support.factories import UserFactory
from tests.support.insurance import (
    APPLICATIONS,
    POLICIES,
    UNIT_PRICE,
    as_admin,
    filed_application,
    make_application,
    make_policy,
    policy_body,
    upload_document,
)
from tests.support.listings import png_1x1
from tests.support.orders import Market, open_market

MISSING = 987_654
YEAR_AMOUNT = 288_000_00  # 80 % of 360,000.00 yuan (3 % of 12,000,000.00)


@pytest.fixture
def market(app: Flask, tmp_path: Path) -> Market:
    """The trading market (the seller's product is a recognised first-of-kind equipment), uploads in tmp_path."""
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    return open_market(app)


def _entries(app: Flask, application_id: int) -> list[tuple[str, int]]:
    with app.app_context():
        rows = db.session.execute(select(CompensationEntry.kind, CompensationEntry.amount)
                                  .where(CompensationEntry.application_id == application_id)
                                  .order_by(CompensationEntry.id)).all()
        return [(kind, amount) for kind, amount in rows]


def _status(app: Flask, application_id: int) -> str:
    with app.app_context():
        return str(db.session.get(CompensationApplication, application_id).status)


# --- policies ----------------------------------------------------------------------------------------------------

def test_a_policy_is_recorded_read_listed_and_edited_with_if_match(market: Market) -> None:
    seller = market.seller
    policy_id = make_policy(seller, market.product)
    read = seller.get(f"{POLICIES}/{policy_id}")
    assert read.status_code == 200
    body = read.get_json()
    assert body["policy_number"] == "PICC-FK-2025-001" and body["premium"] == 360_000_00
    assert body["premium_rate_bp"] == 300  # computed from the premium when not given
    assert [p["id"] for p in seller.get(POLICIES).get_json()] == [policy_id]
    etag = read.headers["ETag"]
    edited = seller.client.patch(f"{POLICIES}/{policy_id}", json={"coverage": "质量险"},
                                 headers={"X-CSRFToken": seller.csrf, "If-Match": etag})
    assert edited.status_code == 200 and edited.get_json()["coverage"] == "质量险"
    stale = seller.client.patch(f"{POLICIES}/{policy_id}", json={"coverage": "责任险"},
                                headers={"X-CSRFToken": seller.csrf, "If-Match": etag})
    assert stale.status_code == 412
    without = seller.client.patch(f"{POLICIES}/{policy_id}", json={"coverage": "责任险"},
                                  headers={"X-CSRFToken": seller.csrf})
    assert without.status_code == 428


@pytest.mark.parametrize(("overrides", "field"), [
    ({"insured_amount": UNIT_PRICE - 1}, "insured_amount"),
    ({"premium": 0}, "premium"),
    ({"period_end": "2020-01-01", "period_start": "2021-01-01"}, "period_end"),
    ({"period_start": "2000-01-01", "period_end": "2020-01-01"}, "period_end"),  # more than ten years
    ({"currency": "USD"}, "currency"),
    ({"policy_number": ""}, "policy_number"),
])
def test_a_policy_with_bad_facts_is_refused_naming_the_field(market: Market, overrides: dict[str, Any],
                                                             field: str) -> None:
    response = market.seller.post(POLICIES, policy_body(market.product, **overrides))
    assert response.status_code == 422, response.get_json()
    assert field in str(response.get_json()), response.get_json()
    assert market.seller.get(POLICIES).get_json() == []


def test_only_a_recognised_first_of_kind_listing_of_the_institution_is_insured(market: Market) -> None:
    achievement = market.seller.post(POLICIES, policy_body(market.licence))
    assert achievement.status_code == 422 and "listing_id" in str(achievement.get_json())
    foreign = market.buyer.post(POLICIES, policy_body(market.product))
    assert foreign.status_code == 422 and "listing_id" in str(foreign.get_json())
    with market.app.app_context():
        from hall.models import Listing

        version = db.session.get(Listing, market.product).published_version
        version.recognition_level = None
        db.session.commit()
    unrecognised = market.seller.post(POLICIES, policy_body(market.product))
    assert unrecognised.status_code == 422 and "recognition" in str(unrecognised.get_json())


def test_an_insurer_records_a_policy_number_once_but_renewals_are_further_policies(market: Market) -> None:
    make_policy(market.seller, market.product)
    again = market.seller.post(POLICIES, policy_body(market.product))
    assert again.status_code == 409
    make_policy(market.seller, market.product, policy_number="PICC-FK-2026-002")  # a renewal
    make_policy(market.seller, market.product, insurer="中国太平洋财产保险")  # same number, another insurer
    assert len(market.seller.get(POLICIES).get_json()) == 3


def test_another_institution_never_sees_a_policy_or_an_application(market: Market, client: Any) -> None:
    policy_id, application_id = filed_application(market)
    [document] = market.seller.get(f"{APPLICATIONS}/{application_id}/documents").get_json()
    for path in (f"{POLICIES}/{policy_id}", f"{APPLICATIONS}/{application_id}",
                 f"{APPLICATIONS}/{application_id}/documents",
                 f"{APPLICATIONS}/{application_id}/documents/{document['id']}", f"{POLICIES}/{MISSING}"):
        assert market.buyer.get(path).status_code == 404, path
        assert client.get(path).status_code == 401, path
    assert market.buyer.get(POLICIES).get_json() == [] and market.buyer.get(APPLICATIONS).get_json() == []
    taken = market.buyer.post(APPLICATIONS, {"policy_id": policy_id, "policy_year": 2})
    assert taken.status_code == 404
    upload = upload_document(market.buyer, application_id)
    assert upload.status_code == 404
    with market.seller.client.get(f"{APPLICATIONS}/{application_id}/documents/{document['id']}") as response:
        assert response.status_code == 200 and response.data.startswith(b"%PDF")


# --- applications ------------------------------------------------------------------------------------------------

def test_the_platform_computes_the_amount_and_the_client_cannot_send_one(market: Market) -> None:
    policy_id = make_policy(market.seller, market.product)
    sent = market.seller.post(APPLICATIONS, {"policy_id": policy_id, "policy_year": 1, "requested_amount": 1})
    assert sent.status_code == 422  # unknown field
    application_id, _document = make_application(market.seller, policy_id)
    body = market.seller.get(f"{APPLICATIONS}/{application_id}").get_json()
    assert (body["share_bp"], body["rate_cap_bp"], body["max_years"]) == (8000, 300, 3)
    assert body["counted_premium"] == 360_000_00 and body["requested_amount"] == YEAR_AMOUNT
    assert body["status"] == "draft" and _entries(market.app, application_id) == []


def test_the_rate_cap_counts_at_most_three_percent_of_the_insured_amount(market: Market) -> None:
    policy_id = make_policy(market.seller, market.product, premium=600_000_00)  # 5 %
    application_id, _document = make_application(market.seller, policy_id)
    body = market.seller.get(f"{APPLICATIONS}/{application_id}").get_json()
    assert body["counted_premium"] == 360_000_00 and body["requested_amount"] == YEAR_AMOUNT


def test_one_application_per_policy_year_until_it_is_rejected_or_withdrawn(market: Market) -> None:
    policy_id, first = filed_application(market)
    again = market.seller.post(APPLICATIONS, {"policy_id": policy_id, "policy_year": 1})
    assert again.status_code == 409
    as_admin(market.app, market.parties.admin_id, "reject", first, "保单未覆盖质量风险")
    second, _document = make_application(market.seller, policy_id, 1)
    assert market.seller.post(f"{APPLICATIONS}/{second}/withdraw").status_code == 200
    third, _document = make_application(market.seller, policy_id, 1)
    assert _status(market.app, third) == "draft"
    year_two, _document = make_application(market.seller, policy_id, 2, document=False)
    moved = market.seller.client.patch(f"{APPLICATIONS}/{year_two}", json={"policy_year": 1}, headers={
        "X-CSRFToken": market.seller.csrf,
        "If-Match": market.seller.get(f"{APPLICATIONS}/{year_two}").headers["ETag"]})
    assert moved.status_code == 409


@pytest.mark.parametrize(("year", "period", "words"), [
    (4, None, "outside"),  # the policy covers three years
    (0, None, "policy_year"),
    (4, ("2020-01-01", "2030-01-01"), "at most 3"),  # a ten-year policy: the scheme stops after three
    (1, ("2090-01-01", "2091-01-01"), "begins on"),  # not begun yet
])
def test_a_year_outside_the_period_beyond_the_limit_or_not_begun_is_refused(
        market: Market, year: int, period: tuple[str, str] | None, words: str) -> None:
    extra = {"period_start": period[0], "period_end": period[1]} if period else {}
    policy_id = make_policy(market.seller, market.product, **extra)
    response = market.seller.post(APPLICATIONS, {"policy_id": policy_id, "policy_year": year})
    assert response.status_code == 422 and words in str(response.get_json()), response.get_json()


@pytest.mark.parametrize(("kind", "words"), [("software", "province"), ("material", None)])
def test_the_rule_follows_the_products_kind(market: Market, kind: str, words: str | None) -> None:
    policy_id = make_policy(market.seller, market.product)
    with market.app.app_context():
        from hall.models import Listing

        db.session.get(Listing, market.product).published_version.product_kind = kind
        db.session.commit()
    response = market.seller.post(APPLICATIONS, {"policy_id": policy_id, "policy_year": 1})
    if words is None:  # 首批次: the same 80 % of a premium counted at most 3 %
        assert response.status_code == 201 and response.get_json()["requested_amount"] == YEAR_AMOUNT
        assert response.get_json()["product_kind"] == "material"
    else:  # 首版次: no national scheme
        assert response.status_code == 422 and words in str(response.get_json()), response.get_json()


def test_the_year_limit_counts_the_products_renewals_too(market: Market) -> None:
    first = make_policy(market.seller, market.product)
    for year in (1, 2, 3):
        make_application(market.seller, first, year, document=False)
    renewal = make_policy(market.seller, market.product, policy_number="PICC-FK-2028-009")
    response = market.seller.post(APPLICATIONS, {"policy_id": renewal, "policy_year": 1})
    assert response.status_code == 422 and "used them" in str(response.get_json())


def test_filing_needs_a_document_and_books_the_requested_amount(market: Market) -> None:
    policy_id = make_policy(market.seller, market.product)
    application_id, _none = make_application(market.seller, policy_id, document=False)
    refused = market.seller.post(f"{APPLICATIONS}/{application_id}/file")
    assert refused.status_code == 422 and "documents" in refused.get_json()["errors"]
    image = upload_document(market.seller, application_id, png_1x1(), "invoice.png")
    assert image.status_code == 422  # PDFs only
    renamed = upload_document(market.seller, application_id, png_1x1(), "invoice.pdf")
    assert renamed.status_code == 422  # judged by content
    assert upload_document(market.seller, application_id, kind="premium_invoice").status_code == 201
    filed = market.seller.post(f"{APPLICATIONS}/{application_id}/file")
    assert filed.status_code == 200 and filed.get_json()["status"] == "filed"
    assert _entries(market.app, application_id) == [("requested", YEAR_AMOUNT)]
    assert upload_document(market.seller, application_id).status_code == 409  # no longer a draft
    assert market.seller.post(f"{APPLICATIONS}/{application_id}/withdraw").status_code == 409
    assert market.seller.post(f"{APPLICATIONS}/{application_id}/file").status_code == 409
    edit = market.seller.client.patch(f"{POLICIES}/{policy_id}", json={"premium": 1_00}, headers={
        "X-CSRFToken": market.seller.csrf, "If-Match": market.seller.get(f"{POLICIES}/{policy_id}").headers["ETag"]})
    assert edit.status_code == 409  # a filed application fixes its policy


def test_a_document_is_removed_from_a_draft_only(market: Market) -> None:
    policy_id = make_policy(market.seller, market.product)
    application_id, document_id = make_application(market.seller, policy_id)
    path = f"{APPLICATIONS}/{application_id}/documents/{document_id}"
    headers = {"X-CSRFToken": market.seller.csrf}
    assert market.buyer.client.delete(path, headers={"X-CSRFToken": market.buyer.csrf}).status_code == 404
    assert market.seller.client.delete(path, headers=headers).status_code == 204
    assert market.seller.get(f"{APPLICATIONS}/{application_id}/documents").get_json() == []
    assert market.seller.post(f"{APPLICATIONS}/{application_id}/file").status_code == 422  # nothing attached
    kept = upload_document(market.seller, application_id).get_json()["id"]
    assert market.seller.post(f"{APPLICATIONS}/{application_id}/file").status_code == 200
    assert market.seller.client.delete(f"{APPLICATIONS}/{application_id}/documents/{kept}",
                                       headers=headers).status_code == 409


def test_an_unverified_institution_drafts_but_does_not_file(market: Market) -> None:
    policy_id = make_policy(market.seller, market.product)
    application_id, _document = make_application(market.seller, policy_id)
    with market.app.app_context():
        db.session.get(Institution, market.parties.seller_org).verification_status = "pending"
        db.session.commit()
    assert market.seller.post(f"{APPLICATIONS}/{application_id}/file").status_code == 403
    assert _status(market.app, application_id) == "draft"


# --- the platform's decisions ------------------------------------------------------------------------------------

def test_approval_payment_and_the_entries_ledger(market: Market) -> None:
    _policy, application_id = filed_application(market)
    admin = market.parties.admin_id
    with market.app.app_context():
        from hall.services.policy import insurance_review

        person = db.session.get(User, admin)
        with pytest.raises(InvalidInput, match="cap"):
            insurance_review.approve(person, application_id, YEAR_AMOUNT + 1)
        with pytest.raises(InvalidInput, match="below"):
            insurance_review.approve(person, application_id, YEAR_AMOUNT - 100)  # lower: reason required
        with pytest.raises(Conflict):
            insurance_review.record_payment(person, application_id, "BANK-1")  # not approved yet
        db.session.rollback()
    as_admin(market.app, admin, "approve", application_id, YEAR_AMOUNT - 100_00, "保费发票金额核减 100 元")
    as_admin(market.app, admin, "record_payment", application_id, "ZJ-2026-00017")
    assert _status(market.app, application_id) == "paid"
    assert _entries(market.app, application_id) == [("requested", YEAR_AMOUNT), ("approved", YEAR_AMOUNT - 100_00),
                                                    ("paid", YEAR_AMOUNT - 100_00)]
    body = market.seller.get(f"{APPLICATIONS}/{application_id}").get_json()
    assert body["approved_amount"] == YEAR_AMOUNT - 100_00 and body["payment_reference"] == "ZJ-2026-00017"
    assert [e["kind"] for e in body["entries"]] == ["requested", "approved", "paid"]
    with market.app.app_context():
        told = db.session.scalars(select(Notification.event).where(Notification.group == "reviews")).all()
        assert "compensation_application.approved" in told and "compensation_application.paid" in told
        actions = db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.object_type == "compensation_application")).all()
        assert {"compensation_application.file", "compensation_application.approve",
                "compensation_application.pay"} <= set(actions)


def test_a_payment_reference_is_used_once_and_a_rejection_needs_a_reason(market: Market) -> None:
    admin = market.parties.admin_id
    _policy, first = filed_application(market, 1)
    second, _document = make_application(market.seller, _policy, 2)
    assert market.seller.post(f"{APPLICATIONS}/{second}/file").status_code == 200
    as_admin(market.app, admin, "approve", first, YEAR_AMOUNT)
    as_admin(market.app, admin, "approve", second, YEAR_AMOUNT)
    as_admin(market.app, admin, "record_payment", first, "ZJ-1")
    with market.app.app_context():
        from hall.services.policy import insurance_review

        person = db.session.get(User, admin)
        with pytest.raises(InvalidInput, match="already recorded"):
            insurance_review.record_payment(person, second, "ZJ-1")
        with pytest.raises(Conflict):
            insurance_review.reject(person, second, "迟交")  # approved: no longer rejectable
    assert _status(market.app, second) == "approved"


def test_admins_never_decide_their_own_institutions_applications(market: Market) -> None:
    _policy, application_id = filed_application(market)
    with market.app.app_context():
        org = db.session.get(Institution, market.parties.seller_org)
        insider = UserFactory(is_admin=True, institution=org, institution_role="member")
        db.session.commit()
        from hall.services.policy import insurance_review

        for call in (lambda: insurance_review.approve(insider, application_id, YEAR_AMOUNT),
                     lambda: insurance_review.reject(insider, application_id, "不符合"),
                     lambda: insurance_review.record_payment(insider, application_id, "X-1")):
            with pytest.raises(Forbidden):
                call()
        member = db.session.scalar(select(User).where(User.email == market.parties.seller))
        with pytest.raises(Forbidden):
            insurance_review.approve(member, application_id, YEAR_AMOUNT)  # not an admin at all
    assert _status(market.app, application_id) == "filed"


def test_a_decision_on_a_stale_page_is_refused(market: Market) -> None:
    _policy, application_id = filed_application(market)
    with market.app.app_context():
        from hall.services.policy import insurance_review

        admin = db.session.get(User, market.parties.admin_id)
        with pytest.raises(Conflict):
            insurance_review.approve(admin, application_id, YEAR_AMOUNT, None, expected_lock_version=1)


# --- the entries are append-only ---------------------------------------------------------------------------------

@pytest.mark.parametrize("statement", ["UPDATE compensation_entries SET amount = 1",
                                       "DELETE FROM compensation_entries"])
def test_the_entries_refuse_update_and_delete_in_the_database(market: Market, statement: str) -> None:
    _policy, application_id = filed_application(market)
    with market.app.app_context():
        with pytest.raises(Exception, match="append-only"):
            db.session.execute(text(statement))
            db.session.flush()
        db.session.rollback()
    assert _entries(market.app, application_id) == [("requested", YEAR_AMOUNT)]
