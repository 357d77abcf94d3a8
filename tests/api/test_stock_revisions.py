"""Stock is inventory (issue 9.1): approving a revision moves the live counter by what the new version declares
less what orders hold or bought; review never resets it (no oversell after a revision)."""
from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from hall.extensions import db
from hall.models import AuditEvent, User
from hall.services.publishing import listing_review, listings
from tests.support.orders import Market, buy_product, listing_stock, open_market


def _revise_stock(app: Flask, market: Market, stock: int, **changes: Any) -> None:
    """The seller edits the published product's declared stock and resubmits; an admin approves the revision."""
    with app.app_context():
        seller = db.session.get(User, market.parties.seller_id)
        admin = db.session.get(User, market.parties.admin_id)
        listing = listings.own_listing(seller, market.product)
        details = dict(listing.published_version.first_of_kind)
        listings.edit_listing(seller, market.product, {"first_of_kind": {**details, "stock": stock}, **changes},
                              listing.lock_version)
        listings.submit_listing(seller, market.product)
        db.session.commit()
        listing_review.decide(admin, market.product, "approve")
        db.session.commit()
        db.session.remove()


def test_approving_a_revision_does_not_give_back_units_an_order_holds(app: Flask) -> None:
    market = open_market(app, stock=1)
    buy_product(market)
    assert listing_stock(app, market.product) == 0
    _revise_stock(app, market, 1, title_zh="首台套产品(修订)")
    assert listing_stock(app, market.product) == 0
    second = market.buyer_b.order(market.product, "purchase", quantity=1, end_user_declared=True)
    assert second.status_code == 409, second.get_json()


def test_a_revision_moves_stock_by_the_difference_and_never_below_zero(app: Flask) -> None:
    market = open_market(app, stock=5)
    buy_product(market, quantity=2)
    assert listing_stock(app, market.product) == 3
    _revise_stock(app, market, 8)  # three more units declared: 8 - 2 held
    assert listing_stock(app, market.product) == 6
    _revise_stock(app, market, 1)  # fewer than the order holds: nothing left, the order stands
    assert listing_stock(app, market.product) == 0
    with app.app_context():
        restocks = db.session.scalars(select(AuditEvent.details).where(AuditEvent.action == "listing.restock")
                                      .order_by(AuditEvent.id)).all()
        assert '"units_taken_by_orders": 2' in restocks[-1] and '"stock": 0' in restocks[-1]


def test_cancelling_after_a_revision_gives_back_exactly_what_was_held(app: Flask) -> None:
    market = open_market(app, stock=4)
    order = buy_product(market, quantity=3)
    _revise_stock(app, market, 4)
    assert listing_stock(app, market.product) == 1
    cancelled = market.buyer.post(f"/api/v1/orders/{order['id']}/cancel", {"reason": "改期"})
    assert cancelled.status_code == 200
    assert listing_stock(app, market.product) == 4
