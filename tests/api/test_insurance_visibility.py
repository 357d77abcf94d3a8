"""The insurance leak fixed (issue 13): a first-of-kind product's policy number, premium and premium rate are seen
only by the listing's institution (its workspace API and pages) and the platform's admins (the console); every
public output — the hall's list and detail (API), the public listing page, the directory CSV/XLSX, the sitemap and
the institution page — shows the policy without them, to anonymous visitors, members of other institutions, the
owner and admins alike (a public page is the same for everyone)."""
from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hall.services.publishing.insurance_public import public_first_of_kind
from tests.support.console import admin_client_for, make_admin
from tests.support.orders import Market, open_market

NUMBER = "PICC-2024-88"  # tests.support.listing_data.first_of_kind's policy
PREMIUM = "36000"  # premium 36,000.00 yuan (3,600,000 fen): neither form may appear
SECRETS = (NUMBER, "3600000", "premium", "policy_number", "premium_rate_bp")
HTML = {"Accept": "text/html"}


@pytest.fixture
def market(app: Flask) -> Market:
    return open_market(app)


def _viewers(market: Market, anonymous: FlaskClient) -> dict[str, FlaskClient]:
    admin = admin_client_for(market.app, make_admin(market.app)["email"])
    return {"anonymous": anonymous, "other member": market.buyer.client, "owner": market.seller.client,
            "admin": admin}


def _no_secret(where: str, body: str) -> None:
    for secret in SECRETS:
        assert secret not in body, f"{where}: {secret!r} is public"


def test_the_public_rule_keeps_the_insurer_amount_and_period_and_drops_the_rest() -> None:
    details: dict[str, Any] = {"model": "HFC-1000", "insurance": {
        "insurer": "人保", "policy_number": "P-1", "insured_amount": 100, "premium": 3, "premium_rate_bp": 300,
        "period_start": "2024-10-01", "period_end": "2025-09-30", "compensation_status": "qualification",
        "added_later": "x"}}
    public = public_first_of_kind(details)
    assert public == {"model": "HFC-1000", "insurance": {
        "insurer": "人保", "insured_amount": 100, "period_start": "2024-10-01", "period_end": "2025-09-30",
        "compensation_status": "qualification"}}
    assert details["insurance"]["policy_number"] == "P-1"  # the stored details are not touched
    assert public_first_of_kind(None) is None and public_first_of_kind({"insurance": None}) == {"insurance": None}


def test_no_viewer_reads_the_policy_number_or_premium_in_a_public_output(market: Market, client: FlaskClient) -> None:
    product = market.product
    for who, viewer in _viewers(market, client).items():
        detail = viewer.get(f"/api/v1/hall/listings/{product}")
        assert detail.status_code == 200
        insurance = detail.get_json()["first_of_kind"]["insurance"]
        assert insurance["insurer"] == "中国人民财产保险" and insurance["insured_amount"] == market.unit_price
        _no_secret(f"hall detail as {who}", detail.get_data(as_text=True))
        found = viewer.get("/api/v1/hall/listings?kind=first_of_kind")
        assert product in [item["id"] for item in found.get_json()["items"]]
        _no_secret(f"hall list as {who}", found.get_data(as_text=True))
        page = viewer.get(f"/hall/listings/{product}", headers=HTML)
        assert page.status_code == 200 and "中国人民财产保险" in page.get_data(as_text=True)
        _no_secret(f"public page as {who}", page.get_data(as_text=True))
        search = viewer.get("/hall?kind=first_of_kind", headers=HTML)
        _no_secret(f"hall page as {who}", search.get_data(as_text=True))
        csv = viewer.get("/api/v1/hall/directory?format=csv&kind=first_of_kind")
        assert csv.status_code == 200 and str(product) in csv.get_data(as_text=True)
        _no_secret(f"directory CSV as {who}", csv.get_data(as_text=True))
        xlsx = viewer.get("/api/v1/hall/directory?format=xlsx&kind=first_of_kind")
        with zipfile.ZipFile(io.BytesIO(xlsx.data)) as book:
            text = " ".join(book.read(name).decode("utf-8", "replace") for name in book.namelist())
        _no_secret(f"directory XLSX as {who}", text)
        for path in ("/sitemap.xml", f"/institutions/{market.parties.seller_org}",
                     f"/api/v1/hall/institutions/{market.parties.seller_org}"):
            _no_secret(f"{path} as {who}", viewer.get(path, headers=HTML).get_data(as_text=True))


def test_the_owner_and_the_console_keep_the_policys_private_facts(market: Market) -> None:
    own = market.seller.get(f"/api/v1/listings/{market.product}")
    assert own.status_code == 200
    insurance = own.get_json()["working_version"]["first_of_kind"]["insurance"] \
        if "working_version" in own.get_json() else own.get_json()["first_of_kind"]["insurance"]
    assert insurance["policy_number"] == NUMBER and insurance["premium"] == 3_600_000
    other = market.buyer.get(f"/api/v1/listings/{market.product}")
    assert other.status_code == 404
    admin = admin_client_for(market.app, make_admin(market.app)["email"])
    console = admin.get(f"/admin/listings/{market.product}")
    assert console.status_code == 200 and NUMBER in console.get_data(as_text=True)
