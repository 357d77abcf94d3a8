"""Insurance compensation on the web front: the workspace pages (policies with their applications and amounts in
yuan, the policy form with field errors and a stale edit, an application's page with the rule in words, documents
uploaded and downloaded, filing), the console (the queue, an application's page, approve / reject / record the
payment, a stale page refused, documents for admins), and another institution's ids answering 404."""
from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update
from werkzeug.test import TestResponse

from hall.extensions import db
from hall.models import Institution, User
from tests.support.console import admin_client_for, field_errors, flashes, hidden_value, make_admin, text
from tests.support.factories import UserFactory
from tests.support.insurance import filed_application, make_application, make_policy
from tests.support.listings import PDF
from tests.support.orders import Market, open_market

HTML = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
def market(app: Flask, tmp_path: Path) -> Market:
    """The trading market, pages in English, uploads in tmp_path."""
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    opened = open_market(app)
    with app.app_context():
        db.session.execute(update(User).values(locale="en"))
        db.session.commit()
        db.session.remove()
    return opened


def page(client: FlaskClient, path: str, status: int = 200) -> str:
    response = client.get(path, headers=HTML)
    assert response.status_code == status, f"GET {path} -> {response.status_code}: {text(response)[:1500]}"
    return text(response)


def post(client: FlaskClient, path: str, data: dict[str, Any], token_from: str, **kwargs: Any) -> TestResponse:
    fields = {**data, "csrf_token": hidden_value(page(client, token_from), "csrf_token")}
    return client.post(path, data=fields, headers=HTML, **kwargs)


POLICY_FORM = {"insurer": "中国人民财产保险股份有限公司", "policy_number": "PICC-WEB-1", "coverage": "质量险和责任险",
               "insured_amount": "12000000.00", "premium": "360000", "premium_rate_bp": "",
               "period_start": "2024-01-01", "period_end": "2027-01-01"}


def test_a_policy_is_recorded_through_the_form_in_yuan_and_shown_with_its_amounts(market: Market) -> None:
    seller = market.seller.client
    new = "/workspace/insurance/policies/new"
    refused = post(seller, new, {**POLICY_FORM, "listing_id": str(market.product), "insured_amount": "100"}, new)
    assert refused.status_code == 422
    assert field_errors(text(refused), "insured_amount") == ["must be at least the unit price"]
    done = post(seller, new, {**POLICY_FORM, "listing_id": str(market.product)}, new)
    assert done.status_code == 302, text(done)[:2000]
    home = page(seller, "/workspace/insurance")
    assert "PICC-WEB-1" in home and "12,000,000.00" in home and "360,000.00" in home and "(3.00 %)" in home


def test_a_stale_policy_edit_is_refused_and_shows_the_current_values(market: Market) -> None:
    seller = market.seller.client
    policy_id = make_policy(market.seller, market.product)
    path = f"/workspace/insurance/policies/{policy_id}/edit"
    opened = page(seller, path)
    lock = hidden_value(opened, "lock_version")
    values = {"insurer": "中国人民财产保险股份有限公司", "policy_number": "PICC-FK-2025-001", "coverage": "质量险",
              "insured_amount": "12000000", "premium": "360000", "period_start": "2024-01-01",
              "period_end": "2027-01-01", "lock_version": lock}
    first = seller.post(path, data={**values, "csrf_token": hidden_value(opened, "csrf_token")}, headers=HTML)
    assert first.status_code == 302, text(first)[:2000]
    second = seller.post(path, data={**values, "coverage": "责任险", "csrf_token": hidden_value(opened, "csrf_token")},
                         headers=HTML)
    assert second.status_code == 409
    assert any("Someone else changed this policy" in message for message in flashes(text(second)))


def test_an_application_page_explains_the_rule_takes_documents_and_files(market: Market) -> None:
    seller = market.seller.client
    policy_id = make_policy(market.seller, market.product)
    home = "/workspace/insurance"
    started = post(seller, f"/workspace/insurance/policies/{policy_id}/applications",
                   {f"p{policy_id}-policy_year": "2"}, home)
    assert started.status_code == 302, text(started)[:2000]
    path = started.headers["Location"]
    body = page(seller, path)
    assert "80 % of the premium, the premium rate counted at most 3 %, year 2 of 3." in body
    assert "288,000.00" in body
    lacking = post(seller, f"{path}/file", {}, path)
    assert lacking.status_code == 422 and "attach at least one document" in text(lacking)
    uploaded = post(seller, f"{path}/documents", {"file": (io.BytesIO(PDF), "发票.pdf"), "kind": "premium_invoice"},
                    path, content_type="multipart/form-data")
    assert uploaded.status_code == 302, text(uploaded)[:2000]
    body = page(seller, path)
    document = re.search(r'href="(/workspace/insurance/applications/\d+/documents/\d+)"', body)
    assert document is not None
    with seller.get(document.group(1)) as response:
        assert response.status_code == 200 and response.data.startswith(b"%PDF")
    removed = post(seller, f"{document.group(1)}/delete", {}, path)
    assert removed.status_code == 302 and "发票.pdf" not in page(seller, path)
    uploaded = post(seller, f"{path}/documents", {"file": (io.BytesIO(PDF), "保单.pdf"), "kind": "policy"},
                    path, content_type="multipart/form-data")
    assert uploaded.status_code == 302, text(uploaded)[:2000]
    filed = post(seller, f"{path}/file", {}, path)
    assert filed.status_code == 302
    body = page(seller, path)
    assert "Waiting for the platform’s decision." in body or "Waiting for the platform&#8217;s decision." in body
    assert "288,000.00</td>" in body  # the requested amount, booked on filing


def test_another_institution_gets_404_on_every_insurance_page(market: Market) -> None:
    policy_id, application_id = filed_application(market)
    buyer = market.buyer.client
    for path in (f"/workspace/insurance/policies/{policy_id}/edit",
                 f"/workspace/insurance/applications/{application_id}",
                 f"/workspace/insurance/applications/{application_id}/documents/1"):
        assert buyer.get(path, headers=HTML).status_code == 404, path
    assert "PICC-FK-2025-001" not in page(buyer, "/workspace/insurance")


def _console(app: Flask) -> FlaskClient:
    return admin_client_for(app, make_admin(app, locale="en")["email"])


def test_the_console_queue_decides_and_records_the_payment(market: Market) -> None:
    _policy, application_id = filed_application(market)
    admin = _console(market.app)
    queue = page(admin, "/admin/insurance")
    assert f'data-application="{application_id}"' in queue
    path = f"/admin/insurance/{application_id}"
    body = page(admin, path)
    assert "PICC-FK-2025-001" in body and "288,000.00" in body
    document = re.search(r'href="(/admin/insurance/\d+/documents/\d+)"', body)
    assert document is not None
    with admin.get(document.group(1)) as response:
        assert response.status_code == 200 and response.data.startswith(b"%PDF")
    too_much = post(admin, f"{path}/decision", {"action": "approve", "amount": "288000.01",
                                                 "lock_version": hidden_value(body, "lock_version")}, path)
    assert too_much.status_code == 422 and field_errors(text(too_much), "amount")
    lower = post(admin, f"{path}/decision", {"action": "approve", "amount": "280000",
                                              "lock_version": hidden_value(body, "lock_version")}, path)
    assert lower.status_code == 422 and field_errors(text(lower), "reason")
    stale = post(admin, f"{path}/decision", {"action": "approve", "amount": "288000", "lock_version": "99"}, path)
    assert stale.status_code == 409
    body = page(admin, path)
    approved = post(admin, f"{path}/decision", {"action": "approve", "amount": "288000",
                                                 "lock_version": hidden_value(body, "lock_version")}, path)
    assert approved.status_code == 302, text(approved)[:2000]
    body = page(admin, path)
    paid = post(admin, f"{path}/decision", {"action": "pay", "reference": "ZJ-2026-1",
                                             "lock_version": hidden_value(body, "lock_version")}, path)
    assert paid.status_code == 302, text(paid)[:2000]
    history = page(admin, path)
    assert "ZJ-2026-1" in history
    assert 'data-action="compensation_application.pay"' in history  # the history names each step in words
    assert 'data-action="compensation_application.document_added"' in history
    assert 'data-action="compensation_application.document_added">compensation application' not in history
    assert f'data-application="{application_id}"' in page(admin, "/admin/insurance?status=paid")
    assert "ZJ-2026-1" in page(market.seller.client, f"/workspace/insurance/applications/{application_id}")


def test_the_console_rejects_with_a_reason_only(market: Market) -> None:
    _policy, application_id = filed_application(market)
    admin = _console(market.app)
    path = f"/admin/insurance/{application_id}"
    body = page(admin, path)
    bare = post(admin, f"{path}/decision", {"action": "reject", "lock_version": hidden_value(body, "lock_version")},
                path)
    assert bare.status_code == 422 and field_errors(text(bare), "reason")
    done = post(admin, f"{path}/decision", {"action": "reject", "reason": "保费发票与保单不符",
                                             "lock_version": hidden_value(body, "lock_version")}, path)
    assert done.status_code == 302
    assert "保费发票与保单不符" in page(market.seller.client, f"/workspace/insurance/applications/{application_id}")


def test_a_draft_application_can_be_withdrawn_from_its_page(market: Market) -> None:
    policy_id = make_policy(market.seller, market.product)
    application_id, _document = make_application(market.seller, policy_id)
    path = f"/workspace/insurance/applications/{application_id}"
    done = post(market.seller.client, f"{path}/withdraw", {}, path)
    assert done.status_code == 302
    assert "withdrawn" in page(market.seller.client, path)


def test_an_admin_of_the_applying_institution_cannot_decide_in_the_console(market: Market) -> None:
    _policy, application_id = filed_application(market)
    with market.app.app_context():
        org = db.session.get(Institution, market.parties.seller_org)
        insider = str(UserFactory(is_admin=True, institution=org, institution_role="member", locale="en").email)
        db.session.commit()
    admin = admin_client_for(market.app, insider)
    path = f"/admin/insurance/{application_id}"
    body = page(admin, path)
    refused = post(admin, f"{path}/decision", {"action": "approve", "amount": "288000",
                                                "lock_version": hidden_value(body, "lock_version")}, path)
    assert refused.status_code == 403
    assert "own institution" in text(refused)
    assert "Filed" in page(admin, path)
