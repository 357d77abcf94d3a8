"""Demo orders: one completed deal paid by bank transfer, one product order awaiting a transfer, one quote request.

Made through the same services a request would use, so their history, ledger and audit trail are real.
"""
from __future__ import annotations

from sqlalchemy import func, select

from hall.extensions import db
from hall.models import ListingVersion, Order, User
from hall.models.types import utcnow
from hall.services.accounts.accounts import find_user_by_email
from hall.services.trading import orders, payments


def _listing_id(title_zh_prefix: str) -> int | None:
    return db.session.scalar(select(ListingVersion.listing_id).where(
        ListingVersion.title_zh.startswith(title_zh_prefix), ListingVersion.review_status == "approved").limit(1))


def seed_demo_orders(admin: User) -> int:
    """Add the demo orders when there are no orders yet; returns how many were made."""
    if db.session.scalar(select(func.count()).select_from(Order)):
        return 0
    enterprise, agency = find_user_by_email("owner@ssb.demo"), find_user_by_email("owner@ttc.demo")
    seller = find_user_by_email("owner@univ.demo")
    licence_id, product_id = _listing_id("城域量子密钥"), _listing_id("兆瓦级")
    negotiable_id = _listing_id("合成生物")
    if enterprise is None or agency is None or seller is None or licence_id is None:
        return 0
    made = 0
    licence, _ = orders.create_order(enterprise, licence_id, {"deal_mode": "non_exclusive_license",
                                                              "territory": "440000", "note": "用于储能电站通信"})
    payments.start_payment(enterprise, licence.id, "bank_transfer")
    assert licence.amount is not None  # the licence is sold at a fixed price (start_payment needs one)
    payments.record_bank_transfer(admin, licence.id, amount=licence.amount, currency=licence.currency,
                                  value_date=utcnow().date(), bank_reference="ICBC-DEMO-0001")
    orders.deliver_order(seller, licence.id, "许可合同已签署，技术资料包已交付。")
    orders.confirm_delivery(enterprise, licence.id)
    made += 1
    if product_id is not None:
        product, _ = orders.create_order(agency, product_id, {"deal_mode": "purchase", "quantity": 1,
                                                              "end_user_declared": True})
        payments.start_payment(agency, product.id, "bank_transfer")
        made += 1
    if negotiable_id is not None:
        orders.create_order(agency, negotiable_id, {"deal_mode": "joint_development", "note": "希望联合开发菌株"})
        made += 1
    return made
