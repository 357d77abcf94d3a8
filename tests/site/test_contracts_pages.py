"""Contract registration and the annual transformation report on the web: the workspace's list with its period filter
(a bad period is 422 naming the field) and downloads, the contract page with the seller's edit form (refusals beside
their fields, a stale page on top), the buyer reads without the form, another institution gets 404, the order page
links to its record, the annual report's page and files; the console lists every record, downloads the platform's
registration list and shows each institution's annual figures. Pages in English (and they render in Chinese)."""
from __future__ import annotations

import csv
import io
from typing import Any

import openpyxl
import pytest
from flask import Flask
from sqlalchemy import update

from hall.extensions import db
from hall.models import User
from tests.support.console import admin_client_for, field_errors, flashes, hidden_value, text
from tests.support.contracts import complete_licence, record_of
from tests.support.orders import Market, Party, open_market, refund

HTML = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
def market(app: Flask) -> Market:
    """Parties around published listings, everyone signed in, pages in English."""
    opened = open_market(app)
    with app.app_context():
        db.session.execute(update(User).values(locale="en"))
        db.session.commit()
        db.session.remove()
    return opened


def page(client: Any, path: str, status: int = 200) -> str:
    response = client.get(path, headers=HTML)
    assert response.status_code == status, f"GET {path} -> {response.status_code}: {text(response)[:1500]}"
    return text(response)


def edit(party: Party, record_id: int, data: dict[str, Any], lock_version: int | None = None) -> Any:
    path = f"/workspace/contracts/{record_id}"
    html = page(party.client, path)
    fields = {"csrf_token": hidden_value(html, "csrf_token"),
              "lock_version": str(lock_version) if lock_version is not None else hidden_value(html, "lock_version"),
              "technology_amount": "", "technology_amount_reason": "", "registration_number": "",
              "registered_on": "", **data}
    return party.client.post(path, data=fields, headers=HTML)


def test_the_workspace_lists_contracts_with_a_checked_period_and_downloads(market: Market) -> None:
    order_id = complete_licence(market)
    record = record_of(market, order_id)
    assert record is not None
    html = page(market.seller.client, "/workspace/contracts")
    assert "Contract registration" in html and record["contract_number"] in html
    assert "/workspace/contracts/export?format=xlsx" in html and "technology licence contract" in html
    day = record["completed_on"].isoformat()
    assert record["contract_number"] in page(market.seller.client, f"/workspace/contracts?from={day}&to={day}")
    assert "No contracts match." in page(market.seller.client, "/workspace/contracts?to=2020-01-01")
    refused = page(market.seller.client, "/workspace/contracts?from=2025-03-01&to=2025-02-01", 422)
    assert "the end of the period must not be before its start" in refused
    assert "a period covers at most 5 years" in page(market.seller.client,
                                                     "/workspace/contracts?from=2018-01-01&to=2025-01-01", 422)
    page(market.seller.client, "/workspace/contracts/export?from=2025-03-01&to=2025-02-01", 422)
    download = market.seller.client.get("/workspace/contracts/export?format=csv", headers=HTML)
    assert download.status_code == 200 and download.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(download.get_data().decode("utf-8")[1:])))
    assert rows[0][0] == "Contract number" and rows[1][0] == record["contract_number"] and rows[1][-1] == "seller"
    order_page = page(market.buyer.client, f"/workspace/orders/{order_id}")
    assert f"/workspace/contracts/{record['id']}" in order_page


def test_the_seller_edits_the_record_and_refusals_show_beside_the_fields(market: Market) -> None:
    record = record_of(market, complete_licence(market))
    assert record is not None
    record_id = record["id"]
    html = page(market.seller.client, f"/workspace/contracts/{record_id}")
    assert "Edit the record" in html and "Parties when the order completed" in html
    too_much = edit(market.seller, record_id, {"technology_amount": "500000.01", "technology_amount_reason": "x"})
    assert too_much.status_code == 422
    assert field_errors(text(too_much), "technology_amount") == ["cannot exceed the contract amount net of refunds"]
    no_reason = edit(market.seller, record_id, {"technology_amount": "400000"})
    assert no_reason.status_code == 422 and field_errors(text(no_reason), "technology_amount_reason")
    saved = edit(market.seller, record_id, {"technology_amount": "400000", "technology_amount_reason": "含设备费",
                                            "registration_number": "2026440100000123",
                                            "registered_on": record["completed_on"].isoformat()})
    assert saved.status_code == 302, text(saved)[:1500]
    after = record_of(market, record["order_id"])
    assert after is not None and after["technology_amount"] == 400_000_00
    assert after["registration_number"] == "2026440100000123" and after["lock_version"] == 2
    stale = edit(market.seller, record_id, {"registration_number": "OTHER"}, lock_version=1)
    assert stale.status_code == 409 and any("changed meanwhile" in m for m in flashes(text(stale)))
    assert record_of(market, record["order_id"])["registration_number"] == "2026440100000123"  # type: ignore[index]


def test_the_buyer_reads_without_the_form_and_others_get_404(market: Market) -> None:
    order_id = complete_licence(market)
    record_id = record_of(market, order_id)["id"]  # type: ignore[index]
    html = page(market.buyer.client, f"/workspace/contracts/{record_id}")
    assert "Edit the record" not in html and "The seller registers the contract" in html
    refused = market.buyer.client.post(f"/workspace/contracts/{record_id}", headers=HTML, data={
        "csrf_token": market.buyer.csrf, "lock_version": "1", "registration_number": "X"})
    assert refused.status_code == 403 and any("Only the seller" in m for m in flashes(text(refused)))
    page(market.outsider.client, f"/workspace/contracts/{record_id}", 404)
    page(market.seller.client, "/workspace/contracts/987654", 404)


def test_the_annual_report_page_and_its_files(market: Market) -> None:
    order_id = complete_licence(market)
    refund(market, order_id, 100_000_00)
    year = record_of(market, order_id)["completed_on"].year  # type: ignore[index]
    html = page(market.seller.client, f"/workspace/reports/annual?year={year}")
    assert "Annual transformation report" in html and "Licence" in html and "Total" in html
    assert "¥400,000.00" in html and "¥100,000.00" in html
    assert "Way of transformation" in page(market.seller.client, "/workspace/reports/annual")
    page(market.seller.client, "/workspace/reports/annual?year=1999", 422)
    page(market.seller.client, f"/workspace/reports/annual?year={year + 1}", 422)
    page(market.seller.client, "/workspace/reports/annual/download?format=pdf", 422)
    xlsx = market.seller.client.get(f"/workspace/reports/annual/download?year={year}&format=xlsx", headers=HTML)
    assert xlsx.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx.get_data()))
    assert workbook.sheetnames == ["Summary of the year", "Contract details"]
    details = market.seller.client.get(f"/workspace/reports/annual/download?year={year}&format=csv", headers=HTML)
    rows = list(csv.reader(io.StringIO(details.get_data().decode("utf-8")[1:])))
    assert rows[0][0] == "Contract number" and len(rows) == 2


def test_the_console_lists_every_record_exports_and_shows_annual_figures(app: Flask, market: Market) -> None:
    record = record_of(market, complete_licence(market))
    assert record is not None
    admin = admin_client_for(app, market.parties.admin)
    html = page(admin, "/admin/contracts")
    assert record["contract_number"] in html and "Download registration list (XLSX)" in html
    page(admin, "/admin/contracts?from=2025-03-01&to=2025-02-01", 422)
    download = admin.get("/admin/contracts/export?format=xlsx")
    assert download.status_code == 200
    sheet = [list(r) for r in openpyxl.load_workbook(io.BytesIO(download.get_data())).active.iter_rows(
        values_only=True)]
    assert sheet[0][0] == "Contract number" and sheet[1][0] == record["contract_number"]
    assert "Our side" not in sheet[0]
    assert admin.get("/admin/contracts/export?from=2025-03-01&to=2025-02-01").status_code == 422
    annual = page(admin, f"/admin/contracts/annual?year={record['completed_on'].year}")
    assert (record["seller_name_en"] or record["seller_name_zh"]) in annual
    page(admin, "/admin/contracts/annual?year=1999", 422)
    year = record["completed_on"].year
    report = admin.get(f"/admin/contracts/annual/{market.parties.seller_org}/download?year={year}")
    assert report.status_code == 200 and openpyxl.load_workbook(io.BytesIO(report.get_data())).sheetnames == [
        "Summary of the year", "Contract details"]
    assert admin.get(f"/admin/contracts/annual/{market.parties.seller_org}/download?format=pdf").status_code == 422
    assert admin.get("/admin/contracts/annual/987654/download").status_code == 404
    assert record["contract_number"] in page(admin, f"/admin/orders/{record['order_id']}")
    assert market.seller.client.get("/admin/contracts", headers=HTML).status_code in (302, 403, 404)
