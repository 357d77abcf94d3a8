"""The ledger of transaction records: append entries, and read balances per order and per institution (TXN-03).

Entries are only ever added. Each carries a unique provider reference (the Stripe charge or refund id, the bank's
reference, or one derived from them for fees), so the same money arriving twice by replay cannot be counted twice:
``add_entry`` answers the existing entry instead.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import selectinload

from hall.extensions import db
from hall.models import LedgerEntry, Order, User
from hall.models.ledger import CASH_SIGNS, FEE_SIGNS
from hall.models.types import day_start
from hall.money import to_major_text
from hall.services.core.access import scope_for
from hall.services.core.audit import record_event
from hall.services.core.spreadsheets import to_csv, to_xlsx

BUYER_KINDS = ("charge", "refund", "refund_reversal", "dispute_withdrawal", "dispute_reinstatement")


def entry_by_reference(provider_reference: str) -> LedgerEntry | None:
    """The entry recorded under a provider reference, if any."""
    return db.session.scalar(select(LedgerEntry).where(LedgerEntry.provider_reference == provider_reference))


def add_entry(order: Order, kind: str, amount: int, *, rail: str, provider_reference: str,
              actor: User | None = None, value_date: date | None = None, memo: str | None = None) -> LedgerEntry:
    """Append one entry for ``order`` and audit it; an entry with the same provider reference is returned as is."""
    existing = entry_by_reference(provider_reference)
    if existing is not None:
        return existing
    entry = LedgerEntry(order_id=order.id, buyer_institution_id=order.buyer_institution_id,
                        seller_institution_id=order.seller_institution_id, kind=kind, amount=amount,
                        currency=order.currency, rail=rail, provider_reference=provider_reference,
                        value_date=value_date, memo=memo, recorded_by_id=actor.id if actor else None)
    db.session.add(entry)
    db.session.flush()
    record_event(f"ledger.{kind}", "order", order.id, actor=actor,
                 details={"entry": entry.id, "amount": amount, "currency": order.currency, "rail": rail,
                          "reference": provider_reference})
    return entry


@dataclass(frozen=True)
class OrderBalance:
    """Money for one order, from its ledger entries (minor units, the order's currency)."""

    charged: int
    refunded: int  # net of refunds the provider reported failed after they were booked
    disputed: int  # withdrawn by disputes net of reinstatements
    fees: int  # platform fees net of reversals
    settled: int

    @property
    def held(self) -> int:
        """What the platform still holds for the order."""
        return self.charged - self.refunded - self.disputed - self.settled

    @property
    def seller_due(self) -> int:
        """What the seller is still owed: what was kept of the charge, less the fee, less what was settled."""
        return self.charged - self.refunded - self.disputed - self.fees - self.settled


def _sum_kind(kind: str) -> Any:
    return func.coalesce(func.sum(case((LedgerEntry.kind == kind, LedgerEntry.amount), else_=0)), 0)


def order_balance(order_id: int) -> OrderBalance:
    """The order's balance, summed from the ledger."""
    row = db.session.execute(
        select(_sum_kind("charge"), _sum_kind("refund"), _sum_kind("refund_reversal"),
               _sum_kind("dispute_withdrawal"),
               _sum_kind("dispute_reinstatement"), _sum_kind("platform_fee"), _sum_kind("fee_reversal"),
               _sum_kind("settlement")).where(LedgerEntry.order_id == order_id)
    ).one()
    charge, refund, refund_reversed, withdrawn, reinstated, fee, reversal, settled = (int(v) for v in row)
    return OrderBalance(charged=charge, refunded=refund - refund_reversed, disputed=withdrawn - reinstated,
                        fees=fee - reversal, settled=settled)


def institution_balances(actor: User) -> list[dict[str, Any]]:
    """Per currency, what the actor's institution paid and got back as a buyer, and earned and was settled as a
    seller (nothing for a person of no institution)."""
    institution_id = scope_for(actor).institution_id
    cash = case(*[(LedgerEntry.kind == kind, sign * LedgerEntry.amount) for kind, sign in CASH_SIGNS.items()
                  if kind != "settlement"], else_=0)
    fees = case(*[(LedgerEntry.kind == kind, sign * LedgerEntry.amount) for kind, sign in FEE_SIGNS.items()],
                else_=0)
    rows = db.session.execute(
        select(LedgerEntry.currency,
               func.sum(case((LedgerEntry.buyer_institution_id == institution_id, _signed_buyer()), else_=0)),
               func.sum(case((LedgerEntry.seller_institution_id == institution_id, cash), else_=0)),
               func.sum(case((LedgerEntry.seller_institution_id == institution_id, fees), else_=0)),
               func.sum(case((LedgerEntry.seller_institution_id == institution_id,
                              case((LedgerEntry.kind == "settlement", LedgerEntry.amount), else_=0)), else_=0)))
        .where(or_(LedgerEntry.buyer_institution_id == institution_id,
                   LedgerEntry.seller_institution_id == institution_id))
        .group_by(LedgerEntry.currency).order_by(LedgerEntry.currency)
    ).all()
    return [{"currency": currency, "paid_as_buyer": int(paid or 0), "received_as_seller": int(received or 0),
             "fees": int(fee or 0), "settled": int(settled or 0),
             "due_to_seller": int(received or 0) - int(fee or 0) - int(settled or 0)}
            for currency, paid, received, fee, settled in rows]


def _signed_buyer() -> Any:
    """A buyer's net payment: charges less refunds and dispute withdrawals (returned to the buyer's card)."""
    return case((LedgerEntry.kind.in_(("charge", "refund_reversal")), LedgerEntry.amount),
                (LedgerEntry.kind.in_(("refund", "dispute_withdrawal")), -LedgerEntry.amount),
                (LedgerEntry.kind == "dispute_reinstatement", LedgerEntry.amount), else_=0)


@dataclass(frozen=True)
class EntryFilter:
    """Filters of an institution's transaction records (dates are days in UTC, ``until`` exclusive)."""

    side: str | None = None
    kind: str | None = None
    order_id: int | None = None
    currency: str | None = None
    since: date | None = None
    until: date | None = None


def entries_query(actor: User, f: EntryFilter) -> Select[LedgerEntry]:
    """The actor's institution's entries (as buyer, seller or both), newest first, with optional filters."""
    scope = scope_for(actor)
    # Fees and settlements are between the platform and the seller: buyers see only their own money's moves.
    sides = {"buyer": and_(scope.owns(LedgerEntry.buyer_institution_id), LedgerEntry.kind.in_(BUYER_KINDS)),
             "seller": scope.owns(LedgerEntry.seller_institution_id)}
    query = select(LedgerEntry).where(sides[f.side] if f.side else or_(*sides.values()))
    if f.kind:
        query = query.where(LedgerEntry.kind == f.kind)
    if f.order_id:
        query = query.where(LedgerEntry.order_id == f.order_id)
    if f.currency:
        query = query.where(LedgerEntry.currency == f.currency)
    if f.since:
        query = query.where(LedgerEntry.occurred_at >= day_start(f.since))
    if f.until:
        query = query.where(LedgerEntry.occurred_at < day_start(f.until))
    return query.order_by(LedgerEntry.occurred_at.desc(), LedgerEntry.id.desc())


def entries_page(actor: User, f: EntryFilter, page: int, per_page: int) -> tuple[list[LedgerEntry], int]:
    """One page of the actor's institution's entries, and how many there are in all."""
    query = entries_query(actor, f)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = query.options(selectinload(LedgerEntry.order)).offset((page - 1) * per_page).limit(per_page)
    return list(db.session.scalars(rows)), total  # each entry's order loaded with the page (its reference is shown)


EXPORT_COLUMNS = (("id", "记录号 Entry"), ("occurred_at", "时间(UTC) Time"), ("order_id", "订单 Order"),
                  ("side", "我方 Side"), ("kind", "类型 Kind"), ("amount", "金额 Amount"),
                  ("currency", "币种 Currency"), ("rail", "渠道 Rail"), ("provider_reference", "参考号 Reference"),
                  ("value_date", "起息日 Value date"))


def export_rows(actor: User, f: EntryFilter, limit: int) -> Iterator[dict[str, Any]]:
    """The entries for a download, one dict per row (amounts in major units), at most ``limit``."""
    org_id = actor.institution_id
    for e in db.session.scalars(entries_query(actor, f).limit(limit)):
        yield {"id": e.id, "occurred_at": e.occurred_at.strftime("%Y-%m-%d %H:%M:%S"), "order_id": e.order_id,
               "side": "buyer" if e.buyer_institution_id == org_id else "seller", "kind": e.kind,
               "amount": to_major_text(e.amount, e.currency), "currency": e.currency, "rail": e.rail,
               "provider_reference": e.provider_reference,
               "value_date": e.value_date.isoformat() if e.value_date else ""}


def export_csv(actor: User, f: EntryFilter, limit: int) -> bytes:
    """The entries as CSV (UTF-8 with a byte-order mark, for spreadsheet programs)."""
    return to_csv(EXPORT_COLUMNS, export_rows(actor, f, limit))


def export_xlsx(actor: User, f: EntryFilter, limit: int) -> bytes:
    """The entries as an Excel workbook with one sheet."""
    return to_xlsx("交易记录 Transactions", EXPORT_COLUMNS, export_rows(actor, f, limit))


def order_entries(order_id: int) -> list[LedgerEntry]:
    """An order's entries, oldest first."""
    return list(db.session.scalars(select(LedgerEntry).where(LedgerEntry.order_id == order_id)
                                   .order_by(LedgerEntry.id)))
