"""The web front's URL rules as its route inventory sees them (``tests/site/test_web_route_inventory.py``): the
rules themselves, the pages anyone may read, a rule's path with real ids, and a market with an institution's
workspace objects (a published listing with a file, an order on it) to ask them about."""
from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask

from tests.support import contracts, evaluations, exhibitions, insurance
from tests.support.demands import admin_decides, demand_body
from tests.support.listings import PDF
from tests.support.orders import Market, buy_product, open_market

HTML = {"Accept": "text/html"}
_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
# Pages anyone may read (GET); the account pages are public by nature (a visitor signs in or registers there).
PUBLIC = frozenset({
    "web.home", "web.search", "web.listing", "web.institution", "web.notices", "web.sitemap", "web.robots",
    "web.language_link", "web.register", "web.check_mail", "web.confirm_email", "web.resend_confirmation",
    "web.sign_in", "web.request_password_reset", "web.reset_password", "web.accept_invitation",
    "web.demands", "web.demand",  # the public demand hall
    "web.exhibitions_list", "web.exhibition_page",  # docking exhibitions (对接会/路演)
})


def web_rules(app: Flask) -> list[Any]:
    """Every URL rule of the web front."""
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("web.")]


def web_pages(app: Flask) -> list[Any]:
    """Every GET rule of the web front."""
    return [rule for rule in web_rules(app) if "GET" in (rule.methods or set())]


def filled_path(rule_text: str, ids: Mapping[str, int]) -> str:
    """The rule with each argument replaced by the id of that name; a rule naming an argument ``ids`` lacks fails
    the test (a new kind of page needs its object added here, it is never silently skipped)."""
    missing = [m.group("name") for m in _ARGUMENT.finditer(rule_text) if m.group("name") not in ids]
    assert not missing, f"{rule_text}: no id for {missing}; add the object to tests/support/web_routes.py"
    return _ARGUMENT.sub(lambda m: str(ids[m.group("name")]), rule_text)


@dataclass
class Workspace:
    """A market (tests.support.orders) in which the seller's institution owns a published product with a file
    and an order the buyer placed on it; ``ids`` fills the workspace rules with the seller's objects."""

    market: Market
    ids: dict[str, int]


def seller_workspace(app: Flask) -> Workspace:
    """The seller's published product, a file of it (uploaded after publication, so on its pending revision) and
    an order of one unit by the buyer."""
    market = open_market(app)
    order_id = buy_product(market)["id"]
    seller = market.seller
    uploaded = seller.client.post(f"/api/v1/listings/{market.product}/attachments",
                                  data={"file": (io.BytesIO(PDF), "report.pdf"), "role": "attachment"},
                                  headers={"X-CSRFToken": seller.csrf}, content_type="multipart/form-data")
    assert uploaded.status_code == 201, uploaded.get_json()
    ids = {"listing_id": market.product, "attachment_id": uploaded.get_json()["id"], "order_id": order_id,
           "institution_id": market.parties.seller_org}
    ids.update(_thread_ids(market))  # an enquiry of the buyer about the product, with a file
    ids.update(_demand_ids(market))  # a published demand of the seller's institution
    for feature in (insurance, contracts, evaluations, exhibitions):  # policy workflows (issue 13)
        ids.update(feature.workspace_ids(market))
    return Workspace(market, ids)


def _thread_ids(market: Market) -> dict[str, int]:
    """An enquiry the buyer opened about the seller's product and a message with a PDF in it."""
    buyer = market.buyer
    opened = buyer.post("/api/v1/threads", {"listing_id": market.product, "body": "请问交货期多久？"})
    assert opened.status_code == 201, opened.get_json()
    thread_id = opened.get_json()["id"]
    sent = buyer.client.post(f"/api/v1/threads/{thread_id}/messages/upload",
                             data={"file": (io.BytesIO(PDF), "spec.pdf")}, headers={"X-CSRFToken": buyer.csrf},
                             content_type="multipart/form-data")
    assert sent.status_code == 201, sent.get_json()
    return {"thread_id": thread_id, "message_id": sent.get_json()["id"]}


def _demand_ids(market: Market) -> dict[str, int]:
    """A demand the seller's institution posted and the platform published (public, with matches)."""
    seller = market.seller
    created = seller.post("/api/v1/demands", demand_body())
    assert created.status_code == 201, created.get_json()
    demand_id = created.get_json()["id"]
    assert seller.post(f"/api/v1/demands/{demand_id}/submit").status_code == 200
    admin_decides(market.app, demand_id, "approve")
    return {"demand_id": demand_id}
