"""Orders in the workspace (AUTHZ-01, PAY-02, PAY-06, TXN-03, TXN-05): a buyer orders from a listing through the
form and pays by bank transfer (the reference shown, an admin records it) or by card through the fake gateway's
local page; a negotiated order goes request → quote → accept on the pages, a stale accept after a re-quote is refused
with the service's message; the seller delivers and the buyer confirms; another institution's order is 404; every
POST needs its CSRF token; the transaction records list the charge and download as CSV. Pages in English (and they
render in Chinese)."""
from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update
from werkzeug.test import TestResponse

from hall.extensions import db
from hall.models import Institution, User
from hall.models.types import utcnow
from hall.services.trading import payments
from tests.support.console import field_errors, flashes, hidden_value, text
from tests.support.orders import Market, Party, as_admin, open_market, order_row, pay_by_card
from tests.support.trading import fake_gateway

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


def page(party: Party, path: str, status: int = 200) -> str:
    response = party.client.get(path, headers=HTML)
    assert response.status_code == status, f"GET {path} -> {response.status_code}: {text(response)[:1500]}"
    return text(response)


def post(party: Party, path: str, data: dict[str, Any], *, token_from: str | None = None,
         csrf_field: str = "csrf_token") -> TestResponse:
    """POST a form as a browser does, with the CSRF token of the page at ``token_from`` (none when None)."""
    fields = dict(data)
    if token_from is not None:
        fields[csrf_field] = hidden_value(page(party, token_from), csrf_field)
    return party.client.post(path, data=fields, headers=HTML)


def order_id_of(response: TestResponse) -> int:
    assert response.status_code == 302, text(response)[:2000]
    location = response.headers["Location"]
    assert location.startswith("/workspace/orders/"), location
    return int(location.rstrip("/").split("/")[-1])


def buy_product_through_form(market: Market, quantity: int = 1) -> int:
    form = f"/hall/listings/{market.product}/order"
    response = post(market.buyer, form, {"deal_mode": "purchase", "quantity": str(quantity),
                                         "end_user_declared": "y"}, token_from=form)
    return order_id_of(response)


def request_quote(market: Market) -> int:
    form = f"/hall/listings/{market.negotiable}/order"
    response = post(market.buyer, form, {"deal_mode": "technical_service", "note": "两年技术服务"}, token_from=form)
    return order_id_of(response)


def quote(market: Market, order_id: int, amount: str, note: str = "") -> TestResponse:
    path = f"/workspace/orders/{order_id}"
    return post(market.seller, f"{path}/quote", {"quote-amount": amount, "quote-note": note}, token_from=path,
                csrf_field="quote-csrf_token")


# --- placing and paying ------------------------------------------------------------------------------------------


def test_fixed_price_product_ordered_through_the_form_and_paid_by_bank_transfer(market: Market) -> None:
    form = page(market.buyer, f"/hall/listings/{market.product}/order")
    assert "Place the order" in form and "Quantity" in form
    order_id = buy_product_through_form(market, quantity=2)
    row = order_row(market.app, order_id)
    assert row["status"] == "accepted" and row["amount"] == 2 * market.unit_price
    shown = page(market.buyer, f"/workspace/orders/{order_id}")
    assert 'ord-state-accepted"' in shown and "24,000,000.00" in shown
    assert any("accepted at" in message for message in flashes(shown, "success"))

    path = f"/workspace/orders/{order_id}"
    response = post(market.buyer, f"{path}/pay", {"pay-method": "bank_transfer"}, token_from=path,
                    csrf_field="pay-csrf_token")
    assert response.status_code == 200, text(response)[:2000]
    instructions = text(response)
    assert row["reference"] in instructions and "Remittance reference" in instructions
    assert order_row(market.app, order_id)["status"] == "awaiting_payment"

    as_admin(market, lambda admin: payments.record_bank_transfer(
        admin, order_id, amount=2 * market.unit_price, currency="CNY", value_date=utcnow().date(),
        bank_reference="BANK-REF-1"))
    paid = page(market.buyer, path)
    assert order_row(market.app, order_id)["status"] == "paid"
    assert 'ord-state-paid"' in paid and 'ord-state-awaiting_payment"' not in paid
    assert "Pay by bank transfer" not in paid and "Dispute the order" in paid

    listed = page(market.buyer, "/workspace/orders?role=buyer")
    assert row["reference"] in listed and "24,000,000.00" in listed
    assert row["reference"] in page(market.seller, "/workspace/orders?role=seller")
    assert row["reference"] not in page(market.buyer, "/workspace/orders?role=buyer&status=cancelled")
    # by listing (the title links to its orders) and by the day the order was placed
    listed = page(market.buyer, "/workspace/orders?role=buyer")
    assert f"/workspace/orders?role=buyer&amp;listing_id={market.product}" in listed
    assert row["reference"] in page(market.buyer, f"/workspace/orders?role=buyer&listing_id={market.product}")
    assert row["reference"] not in page(market.buyer, f"/workspace/orders?role=buyer&listing_id={market.licence}")
    today = date.today()
    assert row["reference"] in page(market.buyer, f"/workspace/orders?created_from={today - timedelta(days=1)}")
    assert row["reference"] not in page(market.buyer, f"/workspace/orders?created_from={today + timedelta(days=2)}")
    assert row["reference"] not in page(market.buyer, f"/workspace/orders?created_to={today - timedelta(days=2)}")
    assert row["reference"] in page(market.buyer, "/workspace/orders?created_from=not-a-date")  # ignored, not a 500


def test_card_payment_through_the_fake_gateways_local_page(market: Market) -> None:
    order_id = buy_product_through_form(market)
    path = f"/workspace/orders/{order_id}"
    response = post(market.buyer, f"{path}/pay", {"pay-method": "stripe"}, token_from=path,
                    csrf_field="pay-csrf_token")
    assert response.status_code == 302 and response.headers["Location"] == f"{path}/pay/card"
    page(market.seller, f"{path}/pay/card", status=404)  # the buyer's page: the seller has nothing to pay
    confirm = page(market.buyer, f"{path}/pay/card")
    assert "Confirm the test card payment" in confirm
    done = market.buyer.client.post(f"{path}/pay/card", data={"csrf_token": hidden_value(confirm, "csrf_token")},
                                    headers=HTML)
    assert done.status_code == 302, text(done)[:2000]
    shown = page(market.buyer, path)
    assert order_row(market.app, order_id)["status"] == "paid"
    assert "The card payment went through" in " ".join(flashes(shown, "success"))
    assert "charge</td>" in shown.lower()  # the order's transaction record


def test_order_form_errors_beside_fields_and_conflicts_on_top(market: Market) -> None:
    form = f"/hall/listings/{market.product}/order"
    response = post(market.buyer, form, {"deal_mode": "purchase", "quantity": "1"}, token_from=form)
    assert response.status_code == 422
    assert field_errors(text(response), "end_user_declared")  # first-of-kind products go to end users only
    response = post(market.buyer, form, {"deal_mode": "purchase", "quantity": str(market.stock + 1),
                                         "end_user_declared": "y"}, token_from=form)
    assert response.status_code in (409, 422)
    assert flashes(text(response), "error")
    licence = f"/hall/listings/{market.licence}/order"
    assert "Scope of the licence" in page(market.buyer, licence)
    response = post(market.buyer, licence, {"deal_mode": "exclusive_license", "territory": "somewhere"},
                    token_from=licence)
    assert response.status_code == 422 and field_errors(text(response), "territory")


def test_visitor_is_sent_to_sign_in(app: Flask, market: Market) -> None:
    response = app.test_client().get(f"/hall/listings/{market.product}/order", headers=HTML)
    assert response.status_code == 302 and "sign-in" in response.headers["Location"]
    assert "next=" in response.headers["Location"]


# --- negotiation, delivery and the stale accept ------------------------------------------------------------------


def test_negotiated_order_quoted_accepted_delivered_and_confirmed(market: Market) -> None:
    order_id = request_quote(market)
    assert order_row(market.app, order_id)["status"] == "requested"
    path = f"/workspace/orders/{order_id}"
    assert "awaiting the seller" in page(market.buyer, path)
    seller_view = page(market.seller, path)
    assert "Quote a price" in seller_view and "Total price (yuan)" in seller_view

    refused = quote(market, order_id, "12.345")
    assert refused.status_code == 422 and field_errors(text(refused), "quote-amount")
    assert order_row(market.app, order_id)["status"] == "requested"

    assert quote(market, order_id, "80000.00", "两年").status_code == 302
    row = order_row(market.app, order_id)
    assert row["status"] == "quoted" and row["amount"] == 8_000_000
    buyer_view = page(market.buyer, path)
    assert "Accept this quote" in buyer_view and "80,000.00" in buyer_view
    assert hidden_value(buyer_view, "accept-quote_number") == "1"
    accepted = market.buyer.client.post(f"{path}/accept", data={
        "accept-csrf_token": hidden_value(buyer_view, "accept-csrf_token"), "accept-quote_number": "1"},
        headers=HTML)
    assert accepted.status_code == 302, text(accepted)[:2000]
    assert order_row(market.app, order_id)["status"] == "accepted"

    history = page(market.seller, path)
    assert "by your side" in history and "by the other side" in history

    pay_by_card(market, order_id)
    assert "by the platform" in page(market.buyer, path)
    delivered = post(market.seller, f"{path}/deliver", {"deliver-note": "报告已交付"}, token_from=path,
                     csrf_field="deliver-csrf_token")
    assert delivered.status_code == 302
    assert order_row(market.app, order_id)["status"] == "delivered"
    confirmed = post(market.buyer, f"{path}/confirm", {}, token_from=path, csrf_field="confirm-csrf_token")
    assert confirmed.status_code == 302
    assert order_row(market.app, order_id)["status"] == "completed"


def test_stale_accept_after_a_requote_is_refused(market: Market) -> None:
    order_id = request_quote(market)
    path = f"/workspace/orders/{order_id}"
    assert quote(market, order_id, "80000").status_code == 302
    read_by_buyer = page(market.buyer, path)  # the buyer reads quote 1 …
    assert quote(market, order_id, "90000").status_code == 302  # … the seller quotes again meanwhile
    response = market.buyer.client.post(f"{path}/accept", data={
        "accept-csrf_token": hidden_value(read_by_buyer, "accept-csrf_token"),
        "accept-quote_number": hidden_value(read_by_buyer, "accept-quote_number")}, headers=HTML)
    assert response.status_code == 409
    assert any("changed the quote" in message for message in flashes(text(response), "error"))
    assert order_row(market.app, order_id)["status"] == "quoted"
    assert "90,000.00" in text(response)


def test_cancel_with_a_reason(market: Market) -> None:
    order_id = buy_product_through_form(market)
    path = f"/workspace/orders/{order_id}"
    refused = post(market.seller, f"{path}/cancel", {"cancel-reason": ""}, token_from=path,
                   csrf_field="cancel-csrf_token")
    assert refused.status_code == 422 and field_errors(text(refused), "cancel-reason")
    done = post(market.seller, f"{path}/cancel", {"cancel-reason": "缺货"}, token_from=path,
                csrf_field="cancel-csrf_token")
    assert done.status_code == 302
    assert order_row(market.app, order_id)["status"] == "cancelled"
    # the history says which side cancelled (either side may), to each side in its own terms
    assert "one of the parties" not in page(market.buyer, path)
    cancelled_row = re.compile(r"<li>(?:(?!</li>).)*缺货(?:(?!</li>).)*</li>", re.S)
    assert "the other side" in cancelled_row.search(page(market.buyer, path)).group()  # type: ignore[union-attr]
    assert "your side" in cancelled_row.search(page(market.seller, path)).group()  # type: ignore[union-attr]


# --- authorization and CSRF --------------------------------------------------------------------------------------


def test_another_institutions_order_is_404(market: Market) -> None:
    order_id = buy_product_through_form(market)
    path = f"/workspace/orders/{order_id}"
    page(market.outsider, path, status=404)
    token = hidden_value(page(market.outsider, "/workspace/orders"), "csrf_token")  # the language form's
    for action, data in (("cancel", {"cancel-reason": "x"}), ("pay", {"pay-method": "bank_transfer"}),
                         ("quote", {"quote-amount": "1.00"})):
        response = market.outsider.client.post(f"{path}/{action}", data={f"{action}-csrf_token": token, **data},
                                               headers=HTML)
        assert response.status_code == 404, action
    page(market.outsider, f"{path}/pay/card", status=404)
    assert market.outsider.client.get("/workspace/transactions/export?format=csv").get_data().count(b"\n") == 1
    assert order_row(market.app, order_id)["status"] == "accepted"


def test_an_unverified_institution_is_told_on_top(market: Market) -> None:
    with market.app.app_context():
        db.session.execute(update(Institution).where(Institution.id == market.parties.buyer_org)
                           .values(verification_status="pending"))
        db.session.commit()
        db.session.remove()
    form = f"/hall/listings/{market.product}/order"
    response = post(market.buyer, form, {"deal_mode": "purchase", "quantity": "1", "end_user_declared": "y"},
                    token_from=form)
    assert response.status_code == 403
    assert any("verified" in message for message in flashes(text(response), "error"))


def test_real_gateway_renders_the_payment_element_page(market: Market) -> None:
    order_id = buy_product_through_form(market)
    path = f"/workspace/orders/{order_id}"
    gateway = fake_gateway(market.app)
    gateway.name = "stripe"  # as the real gateway answers: no local confirm page
    try:
        response = post(market.buyer, f"{path}/pay", {"pay-method": "stripe"}, token_from=path,
                        csrf_field="pay-csrf_token")
        assert response.status_code == 200, text(response)[:2000]
        shown = text(response)
        assert 'data-publishable-key="pk_test_fake"' in shown and "_secret_" in shown
        assert '<script src="https://js.stripe.com/v3/"></script>' in shown and "stripe-payment.js" in shown
        policy = response.headers["Content-Security-Policy"]  # Stripe.js and its frames on this page only
        assert "script-src 'self' https://js.stripe.com" in policy and "frame-src https://js.stripe.com" in policy
        assert "js.stripe.com" not in page(market.buyer, path)  # no other page loads it
        assert market.buyer.client.get(path).headers["Content-Security-Policy"].count("stripe") == 0
        page(market.buyer, f"{path}/pay/card", status=404)
    finally:
        del gateway.name
    assert order_row(market.app, order_id)["status"] == "awaiting_payment"


def test_posts_without_the_csrf_token_are_refused(market: Market) -> None:
    form = f"/hall/listings/{market.product}/order"
    response = post(market.buyer, form, {"deal_mode": "purchase", "quantity": "1", "end_user_declared": "y"})
    assert response.status_code == 400
    order_id = buy_product_through_form(market)
    response = post(market.buyer, f"/workspace/orders/{order_id}/pay", {"pay-method": "bank_transfer"})
    assert response.status_code == 400
    assert order_row(market.app, order_id)["status"] == "accepted"


# --- transaction records -----------------------------------------------------------------------------------------


def test_transaction_records_list_the_charge_and_download_as_csv(market: Market) -> None:
    order_id = buy_product_through_form(market)
    pay_by_card(market, order_id)
    records = page(market.buyer, "/workspace/transactions")
    assert "charge</td>" in records.lower() and "12,000,000.00" in records and "Paid as buyer" in records
    assert f'>{order_row(market.app, order_id)["reference"]}</a>' in records  # the order as people know it
    assert "Download CSV" in records
    # the fee is between the platform and the seller: only the seller's records show it
    assert "platform fee</td>" not in records.lower() and "platform_fee</td>" not in records
    seller_all = page(market.seller, "/workspace/transactions").lower()
    assert "platform fee</td>" in seller_all or "platform_fee</td>" in seller_all
    seller_records = page(market.seller, "/workspace/transactions?side=seller&kind=charge")
    assert "12,000,000.00" in seller_records
    csv = market.buyer.client.get("/workspace/transactions/export?format=csv&side=buyer")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    body = csv.get_data().decode("utf-8-sig")
    assert "charge" in body and "12000000.00" in body
    xlsx = market.buyer.client.get("/workspace/transactions/export?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.get_data()[:2] == b"PK"
    assert "Orders" in page(market.buyer, "/workspace")  # the navigation names the orders


def test_pages_render_in_chinese_too(market: Market) -> None:
    order_id = request_quote(market)
    with market.app.app_context():
        db.session.execute(update(User).values(locale="zh_CN"))
        db.session.commit()
        db.session.remove()
    path_of_order = f"/workspace/orders/{order_id}"
    for party, path in ((market.buyer, path_of_order), (market.seller, path_of_order),
                        (market.buyer, "/workspace/orders"), (market.buyer, "/workspace/transactions"),
                        (market.buyer, f"/hall/listings/{market.licence}/order")):
        assert 'lang="zh-CN"' in page(party, path)


def test_a_licence_scope_in_the_past_is_refused_beside_its_field(market: Market) -> None:
    licence = f"/hall/listings/{market.licence}/order"
    response = post(market.buyer, licence, {"deal_mode": "non_exclusive_license", "territory": "440000",
                                            "term_start": "2020-01-01", "term_end": "2021-12-31"}, token_from=licence)
    assert response.status_code == 422 and field_errors(text(response), "term_end")
    placed = post(market.buyer, licence, {"deal_mode": "non_exclusive_license", "territory": "440000",
                                          "field_of_use": "", "term_start": "", "term_end": ""}, token_from=licence)
    order_id = order_id_of(placed)
    shown = page(market.buyer, f"/workspace/orders/{order_id}")
    assert "Every field" in shown and "500,000.00" in shown


def test_the_listing_page_leads_a_member_to_the_order_form_and_a_visitor_to_sign_in(app: Flask,
                                                                                   market: Market) -> None:
    listing_page = f"/hall/listings/{market.product}"
    assert f'href="/hall/listings/{market.product}/order"' in page(market.buyer, listing_page)
    assert "/order\"" not in page(market.seller, listing_page)  # the seller does not buy its own listing
    visitor = text(app.test_client().get(listing_page, headers=HTML))
    assert f'href="/sign-in?next=/hall/listings/{market.product}"' in visitor
