"""What the admin console shows of trading: the order list with its filters, the queues of orders that wait for
the platform (payment, delivery, a dispute, a settlement, a refund), the dashboard's counts, and one order's page.

Reading only: every change goes through ``hall.services.trading.payments``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import selectinload

from hall.extensions import db
from hall.models import AuditEvent, Institution, LedgerEntry, Order, Payment, User
from hall.models.ledger import CASH_SIGNS, FEE_SIGNS
from hall.services.console.admin_queries import object_history
from hall.services.core.access import require_admin
from hall.services.trading.order_queries import OrderDetail, admin_order, order_detail
from hall.services.trading.payments import PAYABLE_ORDER_STATUSES

# Queues of orders that wait for the platform or for a party, in the order the dashboard shows them.
ORDER_QUEUES = ("payment", "delivery", "dispute", "settlement", "refund")
CLOSED_UNPAID_STATUSES = ("cancelled", "expired")
MAX_ID = 2**31 - 1


def seller_due_column() -> ColumnElement[Any]:
    """Per order (correlated), what the seller is still owed from the ledger: the kept charge less fees and
    settlements — the same sum as ``OrderBalance.seller_due``."""
    signs = {**CASH_SIGNS, **{kind: -sign for kind, sign in FEE_SIGNS.items()}}
    signed = case(*[(LedgerEntry.kind == kind, sign * LedgerEntry.amount) for kind, sign in signs.items()], else_=0)
    return (select(func.coalesce(func.sum(signed), 0)).where(LedgerEntry.order_id == Order.id)
            .correlate(Order).scalar_subquery())


def queue_condition(queue: str) -> ColumnElement[bool]:
    """The condition that puts an order in one of ``ORDER_QUEUES``.

    payment: accepted and not paid yet; delivery: paid, the seller has not delivered; dispute: disputed;
    settlement: completed with money still due to the seller; refund: paid after it was cancelled or expired, the
    money not (fully) returned."""
    conditions: dict[str, ColumnElement[bool]] = {
        "payment": Order.status.in_(sorted(PAYABLE_ORDER_STATUSES)),
        "delivery": Order.status == "paid",
        "dispute": Order.status == "disputed",
        "settlement": and_(Order.status == "completed", seller_due_column() > 0),
        "refund": and_(Order.status.in_(CLOSED_UNPAID_STATUSES), Order.paid_amount > Order.refunded_amount),
    }
    return conditions[queue]


@dataclass(frozen=True)
class OrderFilters:
    """The console's order filters; None (or empty) leaves a filter out.

    ``institution`` is an institution's id (digits) or part of its Chinese or English name; ``side`` limits it to
    the buyer or the seller (either by default). ``created_from`` is inclusive, ``created_before`` exclusive."""

    status: str | None = None
    queue: str | None = None
    institution: str | None = None
    side: str | None = None
    reference: str | None = None
    created_from: datetime | None = None
    created_before: datetime | None = None


def _institution_condition(text: str, side: str | None) -> ColumnElement[bool]:
    text = text.strip()
    if text.isdigit() and len(text) <= 10 and 0 < int(text) <= MAX_ID:
        ids: Any = [int(text)]
    else:
        ids = select(Institution.id).where(or_(Institution.name_zh.icontains(text, autoescape=True),
                                               Institution.name_en.icontains(text, autoescape=True)))
    sides = {"buyer": Order.buyer_institution_id.in_(ids), "seller": Order.seller_institution_id.in_(ids)}
    return sides[side] if side in sides else or_(*sides.values())


def orders_query(admin: User, filters: OrderFilters) -> Select[Any]:
    """Orders matching ``filters``, newest first, with their parties and listing version loaded (for a page)."""
    require_admin(admin)
    query = select(Order).options(selectinload(Order.buyer), selectinload(Order.seller),
                                  selectinload(Order.listing_version))
    if filters.status:
        query = query.where(Order.status == filters.status)
    if filters.queue in ORDER_QUEUES:
        query = query.where(queue_condition(filters.queue))
    if filters.institution and filters.institution.strip():
        query = query.where(_institution_condition(filters.institution, filters.side))
    if filters.reference and filters.reference.strip():
        query = query.where(Order.reference.icontains(filters.reference.strip().upper(), autoescape=True))
    if filters.created_from is not None:
        query = query.where(Order.created_at >= filters.created_from)
    if filters.created_before is not None:
        query = query.where(Order.created_at < filters.created_before)
    return query.order_by(Order.created_at.desc(), Order.id.desc())


@dataclass(frozen=True)
class OrderCounts:
    """How many orders wait in each queue (see ``queue_condition``)."""

    payment: int
    delivery: int
    dispute: int
    settlement: int
    refund: int

    def items(self) -> list[tuple[str, int]]:
        """(queue, count) in the order of ``ORDER_QUEUES``."""
        return [(queue, getattr(self, queue)) for queue in ORDER_QUEUES]


def order_counts(admin: User) -> OrderCounts:
    """The dashboard's trading line: orders awaiting payment, paid awaiting delivery, disputed, completed with
    money still due to the seller, and paid after being cancelled or expired (to be refunded)."""
    require_admin(admin)
    counts = [select(func.count()).select_from(Order).where(queue_condition(queue)).scalar_subquery()
              for queue in ORDER_QUEUES]
    row = db.session.execute(select(*counts)).one()
    return OrderCounts(*(int(value or 0) for value in row))


@dataclass
class OrderPage:
    """One order as the console shows it: its detail (history, ledger, balance) and what an admin can do now."""

    detail: OrderDetail
    payments: list[Payment]
    actions: frozenset[str]
    refund_by_bank: bool  # the money came by bank transfer: a refund is a transfer back, with its bank reference
    history: list[tuple[AuditEvent, str | None]]  # the order's audit events with who acted (their e-mail)

    @property
    def order(self) -> Order:
        """The order itself."""
        return self.detail.order


def order_actions(order: Order, seller_due: int) -> frozenset[str]:
    """The admin forms that apply to ``order`` now: bank_transfer, refund, settlement, resolve_dispute."""
    actions = set()
    if order.status in PAYABLE_ORDER_STATUSES and order.amount:
        actions.add("bank_transfer")
    if order.admin_refundable_amount > 0:
        actions.add("refund")
    if order.status == "completed" and seller_due > 0:
        actions.add("settlement")
    if order.status == "disputed":
        actions.add("resolve_dispute")
    return frozenset(actions)


def order_page(admin: User, order_id: int) -> OrderPage:
    """Everything the order page shows; NotFound when there is no such order."""
    order = admin_order(admin, order_id)
    detail = order_detail(order)
    payments = list(db.session.scalars(select(Payment).where(Payment.order_id == order.id).order_by(Payment.id)))
    paid_with = [payment.method for payment in payments if payment.status == "succeeded"]
    return OrderPage(detail=detail, payments=payments,
                     actions=order_actions(order, detail.balance["seller_due"]),
                     refund_by_bank=bool(paid_with) and paid_with[-1] == "bank_transfer",
                     history=object_history(admin, "order", order.id))
