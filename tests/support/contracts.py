"""Test helpers of technical-contract registration records of completed orders."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hall.extensions import db
from hall.models.contracts import ContractRecord
from tests.support.orders import Market, Party, deliver_and_confirm, pay_by_card, read
from tests.support.trading import publish_achievement

CONTRACTS = "/api/v1/contracts"


def complete_licence(market: Market, deal_mode: str = "non_exclusive_license", *, listing_id: int | None = None,
                     buyer: Party | None = None, **values: Any) -> int:
    """The buyer orders the fixed-price achievement (the market's licence unless ``listing_id``), pays by card, the
    seller delivers and the buyer confirms; the order's id."""
    party = buyer or market.buyer
    response = party.order(listing_id or market.licence, deal_mode, **values)
    assert response.status_code == 201, response.get_json()
    order_id = response.get_json()["id"]
    pay_by_card(market, order_id, party=party)
    deliver_and_confirm(market, order_id, buyer=party)
    return int(order_id)


def new_achievement(market: Market, **overrides: Any) -> int:
    """Another published fixed-price achievement of the market's seller (500,000.00 yuan unless overridden)."""
    def publish() -> int:
        return publish_achievement(market.parties, **overrides)
    return int(read(market.app, publish))


def record_of(market: Market, order_id: int) -> dict[str, Any] | None:
    """The committed record of an order, as a dict of its columns, or None."""
    def load() -> dict[str, Any] | None:
        record = db.session.scalar(select(ContractRecord).where(ContractRecord.order_id == order_id))
        if record is None:
            return None
        return {column.key: getattr(record, column.key) for column in ContractRecord.__table__.columns}
    return read(market.app, load)


def workspace_ids(market: Market) -> dict[str, int]:
    """The ids the web route inventory needs for this feature's workspace rules, made in ``market`` (the seller's
    institution owns them; see tests/support/web_routes.py): a completed licence's contract record."""
    order_id = complete_licence(market)
    record = record_of(market, order_id)
    assert record is not None
    return {"contract_id": int(record["id"])}
