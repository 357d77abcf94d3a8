"""Evaluation by professional institutions on the web front: the request form reached from the workspace listing
page, the engagement page as each side sees it (accept, decline with a reason, the report form with amounts typed
in yuan and the PDF, attach and detach), the workspace list of both roles, the public listing ("evaluated by …"
only once attached) and the evaluator's public page, another institution's 404, and the console's read-only pages."""
from __future__ import annotations

import html
import io
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update
from werkzeug.test import TestResponse

from hall.extensions import db
from hall.models import User
from tests.support.console import admin_client_for, field_errors, flashes, hidden_value, text
from tests.support.evaluations import Evaluator, engaged, new_evaluator, reported
from tests.support.listings import PDF
from tests.support.orders import Market, Party, open_market

HTML = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
def market(app: Flask, tmp_path: Path) -> Market:
    """Parties around published listings, pages in English, uploads in this test's directory."""
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    opened = open_market(app)
    with app.app_context():
        db.session.execute(update(User).values(locale="en"))
        db.session.commit()
        db.session.remove()
    return opened


@pytest.fixture
def evaluator(app: Flask, market: Market) -> Evaluator:
    """A verified evaluation institution (its owner's pages in English)."""
    made = new_evaluator(app, name_zh="国科评价中心", name_en="Guoke Evaluation Centre")
    with app.app_context():
        db.session.execute(update(User).values(locale="en"))
        db.session.commit()
        db.session.remove()
    return made


def page(client: Any, path: str, status: int = 200) -> str:
    response = client.get(path, headers=HTML)
    assert response.status_code == status, f"GET {path} -> {response.status_code}: {text(response)[:1500]}"
    return text(response)


def visible(body: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body.split("<body>", 1)[-1])))


def post(party: Party, path: str, data: dict[str, Any], token_from: str) -> TestResponse:
    fields = {**data, "csrf_token": hidden_value(page(party.client, token_from), "csrf_token")}
    return party.client.post(path, data=fields, headers=HTML)


def test_the_client_asks_from_its_listing_page(market: Market, evaluator: Evaluator) -> None:
    listing_page = page(market.seller.client, f"/workspace/listings/{market.licence}")
    form_path = f"/workspace/listings/{market.licence}/evaluations/new"
    assert f'href="{form_path}"' in listing_page
    form = page(market.seller.client, form_path)
    assert "Guoke Evaluation Centre" in form
    empty = post(market.seller, form_path, {"evaluator_institution_id": "", "note": ""}, form_path)
    assert empty.status_code == 422
    assert field_errors(text(empty), "evaluator_institution_id")
    sent = post(market.seller, form_path, {"evaluator_institution_id": str(evaluator.org_id),
                                           "note": "请评价技术成熟度"}, form_path)
    assert sent.status_code == 302
    engagement_page = page(market.seller.client, sent.headers["Location"])
    assert "Awaiting the evaluator" in engagement_page and "请评价技术成熟度" in engagement_page
    assert "Cancel the evaluation" in engagement_page and "Accept the evaluation" not in engagement_page
    assert page(market.buyer.client, form_path, 404)


def test_the_evaluator_accepts_declines_and_issues_through_its_pages(app: Flask, market: Market,
                                                                     evaluator: Evaluator) -> None:
    first = engaged(market, evaluator)
    path = f"/workspace/evaluations/{first}"
    own = evaluator.party
    first_look = page(own.client, path)
    assert "Accept the evaluation" in first_look
    assert "The achievement to evaluate" in first_look  # the evaluator sees what it is asked to evaluate
    assert "The achievement to evaluate" not in page(market.seller.client, path)
    no_reason = post(own, f"{path}/decline", {"reason": ""}, path)
    assert no_reason.status_code == 422 and field_errors(text(no_reason), "reason")
    assert post(own, f"{path}/accept", {}, path).status_code == 302
    accepted = page(own.client, path)
    assert "Accepted, under evaluation" in accepted and "Issue the report" in accepted
    form = {"maturity_grade": "7", "innovation_grade": "3", "advancement_grade": "5", "valuation_method": "market",
            "currency": "CNY", "value_low": "6,500,000", "value_high": "9000000", "report_number": "GK-WEB-1",
            "issued_on": "2026-11-20", "conclusion_zh": "国内领先", "conclusion_en": "Leading in China",
            "csrf_token": hidden_value(accepted, "csrf_token")}
    wrong = own.client.post(f"{path}/report", data={**form, "value_low": "9500000",
                                                    "file": (io.BytesIO(PDF), "report.pdf")},
                            headers=HTML, content_type="multipart/form-data")
    assert wrong.status_code == 422 and field_errors(text(wrong), "value_high")
    issued = own.client.post(f"{path}/report", data={**form, "file": (io.BytesIO(PDF), "report.pdf")},
                             headers=HTML, content_type="multipart/form-data")
    assert issued.status_code == 302, text(issued)[:2000]
    shown = visible(page(own.client, path))
    assert "Report issued" in shown and "GK-WEB-1" in shown and "Market approach" in shown
    assert "6,500,000.00" in shown and "9,000,000.00" in shown
    second = engaged(market, evaluator, market.negotiable)
    declined = post(own, f"/workspace/evaluations/{second}/decline", {"reason": "利益冲突"},
                    f"/workspace/evaluations/{second}")
    assert declined.status_code == 302
    assert "利益冲突" in page(market.seller.client, f"/workspace/evaluations/{second}")
    listed = visible(page(own.client, "/workspace/evaluations?role=evaluator"))
    assert "Report issued" in listed and "Declined by the evaluator" in listed
    assert "No evaluations match." in page(own.client, "/workspace/evaluations?role=client")


def test_only_an_attached_report_shows_on_the_public_pages(app: Flask, market: Market, evaluator: Evaluator) -> None:
    engagement_id = reported(market, evaluator)
    anonymous = app.test_client()
    anonymous.get("/language?locale=en&next=/")
    public = f"/hall/listings/{market.licence}"
    pdf = f"/api/v1/evaluations/{engagement_id}/report.pdf"
    assert "Evaluated by" not in page(anonymous, public) and pdf not in page(anonymous, public)
    path = f"/workspace/evaluations/{engagement_id}"
    assert post(market.seller, f"{path}/attach", {}, path).status_code == 302
    shown = page(anonymous, public)
    assert "Evaluated by" in shown and "Guoke Evaluation Centre" in shown
    assert f'href="/institutions/{evaluator.org_id}"' in shown and f'href="{pdf}"' in shown
    assert "TRL 7 of 9" in visible(shown) and "Income approach" in visible(shown)
    assert "1 evaluation reports shown on public listings" in visible(page(anonymous,
                                                                             f"/institutions/{evaluator.org_id}"))
    assert post(market.seller, f"{path}/detach", {}, path).status_code == 302
    assert "Evaluated by" not in page(anonymous, public)


def test_another_institution_sees_nothing(market: Market, evaluator: Evaluator) -> None:
    engagement_id = engaged(market, evaluator)
    page(market.buyer.client, f"/workspace/evaluations/{engagement_id}", 404)
    refused = market.buyer.client.post(f"/workspace/evaluations/{engagement_id}/accept", headers=HTML,
                                       data={"csrf_token": hidden_value(page(market.buyer.client,
                                                                             "/workspace/evaluations"),
                                                                        "csrf_token")})
    assert refused.status_code == 404
    assert "No evaluations match." in page(market.buyer.client, "/workspace/evaluations")


def test_the_client_is_refused_the_evaluators_buttons(market: Market, evaluator: Evaluator) -> None:
    engagement_id = engaged(market, evaluator)
    path = f"/workspace/evaluations/{engagement_id}"
    refused = post(market.seller, f"{path}/accept", {}, path)
    assert refused.status_code == 403
    assert any("Only the evaluation institution" in message for message in flashes(text(refused)))


def test_the_console_oversees_every_engagement(app: Flask, market: Market, evaluator: Evaluator) -> None:
    engagement_id = reported(market, evaluator, attach=True)
    admin = admin_client_for(app, market.parties.admin)
    listed = visible(page(admin, "/admin/evaluations?status=reported"))
    assert "Guoke Evaluation Centre" in listed or "国科评价中心" in listed
    assert "GKPJ-2026-001" in listed
    assert "GKPJ-2026-001" not in visible(page(admin, "/admin/evaluations?status=requested"))
    detail = page(admin, f"/admin/evaluations/{engagement_id}")
    assert detail.count('data-action="evaluation.') == 4
    assert "<form" not in detail.split("<main>", 1)[1]  # read-only: admins oversee, evaluators decide
    page(admin, "/admin/evaluations/987654", 404)
    assert page(market.seller.client, "/admin/evaluations", 403) is not None
