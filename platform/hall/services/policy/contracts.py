"""Technical-contract registration records of completed orders (技术合同认定登记).

Every order that completes gets one ``ContractRecord`` in the same transaction: trading announces
``order.completed`` (it may not import policy) and this module, subscribed when it is imported (the API and web
blueprints import it, so the app, the CLI and tests all have it), makes the record with snapshots of the parties,
the listing's title, field and IP. Orders completed before this feature get theirs from
``flask hall backfill-contract-records`` or lazily when an institution lists its contracts.

A product purchase is a sales contract (category ``sales``, no contract type): it is kept for the record, but it is
not a technology contract and neither the registration export nor the annual report counts it.

The seller may set the technology-transaction amount (技术交易额) lower than the contract amount net of refunds, with
a reason, and enters the registry's number and date after filing; both are audited. The buyer reads the record.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from hall.extensions import db
from hall.models import Order, User
from hall.models.contracts import ContractRecord
from hall.models.orders import CONTRACT_TYPES
from hall.models.types import utcnow
from hall.money import MAX_MINOR
from hall.services.core import announcements
from hall.services.core.access import require_admin, require_member, scope_for
from hall.services.core.audit import record_event
from hall.services.core.errors import Conflict, Forbidden, InvalidInput, NotFound

SIDES = ("seller", "buyer")
TYPE_FILTERS = (*CONTRACT_TYPES, "sales")  # a contract type, or the sales contracts of products
MAX_PERIOD_DAYS = 5 * 366  # an export or a list covers at most about five years
REGISTRATION_NUMBER = re.compile(r"^[0-9A-Za-z\u3400-\u9fff（）()\-_/ ]{1,60}$")


def local_day(moment: datetime) -> date:
    """The calendar day of ``moment`` where the platform keeps its books (Asia/Shanghai)."""
    return moment.astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


def today() -> date:
    """Today in the platform's calendar."""
    return local_day(utcnow())


# --- Making records ----------------------------------------------------------------------------------------------


def _ip_types(assets: list[dict[str, Any]] | None) -> list[str]:
    found: list[str] = []
    for asset in assets or []:
        kind = asset.get("ip_type") if isinstance(asset, dict) else None
        if isinstance(kind, str) and kind not in found:
            found.append(kind)
    return found


def _snapshot(order: Order) -> ContractRecord:
    """A new record of ``order`` (completed) with today's names and codes of the parties and the listing's data."""
    assert order.completed_at is not None
    version, seller, buyer = order.listing_version, order.seller, order.buyer
    technology = order.contract_type is not None
    completed = local_day(order.completed_at)
    paid = local_day(order.paid_at) if order.paid_at else completed
    signed = local_day(order.accepted_at) if order.accepted_at else paid
    if order.term_start is not None or order.term_end is not None:
        start, end = order.term_start or paid, order.term_end
    else:
        start, end = paid, completed
    if end is not None and start > end:
        start = end
    return ContractRecord(
        order_id=order.id, listing_id=order.listing_id, listing_version_id=order.listing_version_id,
        category="technology" if technology else "sales", contract_type=order.contract_type,
        deal_mode=order.deal_mode, contract_number=f"{'JS' if technology else 'XS'}{signed.year}-{order.reference}",
        name_zh=version.title_zh, name_en=version.title_en,
        seller_institution_id=seller.id, seller_name_zh=seller.name_zh, seller_name_en=seller.name_en,
        seller_credit_code=seller.credit_code,
        buyer_institution_id=buyer.id, buyer_name_zh=buyer.name_zh, buyer_name_en=buyer.name_en,
        buyer_credit_code=buyer.credit_code,
        amount=order.amount or 0, currency=order.currency, signed_on=signed, performance_start=start,
        performance_end=end, completed_on=completed, direction_code=version.direction_code,
        field_code=version.field_code, ip_types=_ip_types(version.ip_assets), state_funded=bool(version.state_funded))


def record_of_order(order_id: int) -> ContractRecord | None:
    """The record of an order, if it has one."""
    return db.session.scalar(select(ContractRecord).where(ContractRecord.order_id == order_id))


def ensure_record(order: Order) -> ContractRecord | None:
    """The record of a completed order, made now if it has none (idempotent); None for an order never completed."""
    if order.completed_at is None:
        return None
    existing = record_of_order(order.id)
    if existing is not None:
        return existing
    record = _snapshot(order)
    try:
        with db.session.begin_nested():
            db.session.add(record)
            db.session.flush()
    except IntegrityError:  # another transaction made it first
        return record_of_order(order.id)
    record_event("contract.recorded", "contract_record", record.id,
                 details={"order": order.id, "number": record.contract_number, "category": record.category})
    return record


def _on_order_completed(order: Order, **_values: Any) -> None:
    """Trading announced a completion (buyer's confirmation, the clock, a resolved dispute): record the contract."""
    ensure_record(order)


announcements.subscribe("order.completed", _on_order_completed)


def backfill_records(institution_id: int | None = None, limit: int | None = None) -> list[int]:
    """Records for completed orders that have none (completed before this feature), of one institution's orders or
    all; returns the ids of the orders recorded."""
    query = (select(Order).where(Order.completed_at.is_not(None),
                                 ~exists().where(ContractRecord.order_id == Order.id)).order_by(Order.id))
    if institution_id is not None:
        query = query.where((Order.seller_institution_id == institution_id) |
                            (Order.buyer_institution_id == institution_id))
    if limit is not None:
        query = query.limit(limit)
    done = []
    for order in db.session.scalars(query).all():
        if ensure_record(order) is not None:
            done.append(order.id)
    return done


# --- Reading -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContractFilter:
    """What a list or an export shows: completed between ``start`` and ``end`` (both inclusive), one side of the
    institution, one contract type (or ``sales``), technology contracts only."""

    start: date | None = None
    end: date | None = None
    side: str | None = None
    contract_type: str | None = None
    technology_only: bool = False


def period_problem(start: date | None, end: date | None) -> dict[str, str] | None:
    """What is wrong with a period (field → message), or None: the end not before the start, at most about five
    years, no year before 2000."""
    if start is not None and start.year < 2000:
        return {"from": _("the period starts in 2000 at the earliest")}
    if end is not None and end.year < 2000:
        return {"to": _("the period ends in 2000 at the earliest")}
    if start is not None and end is not None:
        if end < start:
            return {"to": _("the end of the period must not be before its start")}
        if (end - start).days > MAX_PERIOD_DAYS:
            return {"to": _("a period covers at most %(years)s years", years=5)}
    return None


def check_filter(f: ContractFilter) -> ContractFilter:
    """Refuse a bad period, side or type (422 naming the field)."""
    problem = period_problem(f.start, f.end)
    if problem:
        name, message = next(iter(problem.items()))
        raise InvalidInput.field(name, message)
    if f.side is not None and f.side not in SIDES:
        raise InvalidInput.field("side", _("choose seller or buyer"))
    if f.contract_type is not None and f.contract_type not in TYPE_FILTERS:
        raise InvalidInput.field("type", _("not a contract type"))
    return f


def _filtered(query: Select[Any], f: ContractFilter) -> Select[Any]:
    if f.start is not None:
        query = query.where(ContractRecord.completed_on >= f.start)
    if f.end is not None:
        query = query.where(ContractRecord.completed_on <= f.end)
    if f.contract_type == "sales":
        query = query.where(ContractRecord.category == "sales")
    elif f.contract_type is not None:
        query = query.where(ContractRecord.contract_type == f.contract_type)
    if f.technology_only:
        query = query.where(ContractRecord.category == "technology")
    return query.order_by(ContractRecord.completed_on.desc(), ContractRecord.id.desc())


def own_query(actor: User, f: ContractFilter) -> Select[Any]:
    """The actor's institution's records (as seller, buyer or both) matching ``f``."""
    scope = scope_for(actor)
    if f.side == "seller":
        owned = scope.owns(ContractRecord.seller_institution_id)
    elif f.side == "buyer":
        owned = scope.owns(ContractRecord.buyer_institution_id)
    else:
        owned = scope.either(ContractRecord.seller_institution_id, ContractRecord.buyer_institution_id)
    return _filtered(select(ContractRecord).where(owned), f).options(selectinload(ContractRecord.order))


def _page(query: Select[Any], page: int, per_page: int) -> tuple[list[ContractRecord], int]:
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    items = list(db.session.scalars(query.offset((page - 1) * per_page).limit(per_page)))
    return items, total


def list_own_contracts(actor: User, f: ContractFilter, page: int = 1,
                       per_page: int = 20) -> tuple[list[ContractRecord], int]:
    """One page of the actor's institution's records, newest completion first; completed orders without a record
    (from before this feature) get theirs first."""
    org = require_member(actor)
    check_filter(f)
    backfill_records(org.id)
    return _page(own_query(actor, f), page, per_page)


def own_contract(actor: User, record_id: int) -> ContractRecord:
    """A record of one of the actor's institution's orders (either side); anything else is 404."""
    require_member(actor)
    record = db.session.scalar(select(ContractRecord).where(
        ContractRecord.id == record_id,
        scope_for(actor).either(ContractRecord.seller_institution_id, ContractRecord.buyer_institution_id)))
    if record is None:
        raise NotFound(_("No contract record of your institution with this id."))
    return record


def side_of(actor: User, record: ContractRecord) -> str:
    """Whether the actor's institution is the record's seller or buyer."""
    return "seller" if record.seller_institution_id == actor.institution_id else "buyer"


def refunded_amount(record: ContractRecord) -> int:
    """What was refunded of the order (before or after completion), minor units."""
    return record.order.refunded_amount if record.order is not None else 0


def net_amount(record: ContractRecord) -> int:
    """The contract amount net of refunds."""
    return max(record.amount - refunded_amount(record), 0)


def technology_amount(record: ContractRecord) -> int:
    """The technology-transaction amount (技术交易额): the seller's figure when set, never above the amount net of
    refunds (a refund after it was set lowers it); else the amount net of refunds. Zero for a sales contract."""
    if record.category != "technology":
        return 0
    net = net_amount(record)
    return net if record.technology_amount is None else min(record.technology_amount, net)


def admin_query(admin: User, f: ContractFilter) -> Select[Any]:
    """Every institution's records matching ``f`` (the console), newest completion first; completed orders
    without a record (from before this feature) get theirs first."""
    require_admin(admin, _("see every institution's contracts"))
    check_filter(f)
    backfill_records()
    return _filtered(select(ContractRecord), f).options(selectinload(ContractRecord.order))


# --- The seller's edits ------------------------------------------------------------------------------------------


def _registration(changes: dict[str, Any], record: ContractRecord) -> tuple[str | None, date | None]:
    number = changes.get("registration_number", record.registration_number)
    number = number.strip() or None if isinstance(number, str) else None
    on = changes.get("registered_on", record.registered_on)
    if number is not None and not REGISTRATION_NUMBER.match(number):
        raise InvalidInput.field("registration_number", _("letters, digits, hyphens and brackets, at most 60"))
    if on is not None:
        if number is None:
            raise InvalidInput.field("registration_number", _("required with a registration date"))
        if on > today():
            raise InvalidInput.field("registered_on", _("the registration date cannot be in the future"))
        if on < record.signed_on:
            raise InvalidInput.field("registered_on", _("the registration date cannot be before the contract was "
                                                        "signed (%(day)s)", day=record.signed_on.isoformat()))
    return number, on


def _technology(changes: dict[str, Any], record: ContractRecord) -> tuple[int | None, str | None]:
    if "technology_amount" not in changes:
        return record.technology_amount, record.technology_amount_reason
    value, net = changes["technology_amount"], net_amount(record)
    if value is None or value == net:
        return None, None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_MINOR:
        raise InvalidInput.field("technology_amount", _("an amount of money, zero or more"))
    if value > net:
        raise InvalidInput.field("technology_amount", _("cannot exceed the contract amount net of refunds"))
    reason = (changes.get("technology_amount_reason") or "").strip()
    if not reason:
        raise InvalidInput.field("technology_amount_reason",
                                 _("say why the technology-transaction amount is below the contract amount"))
    return value, reason[:2000]


def edit_contract(actor: User, record_id: int, changes: dict[str, Any], lock_version: int | None) -> ContractRecord:
    """The seller sets the technology-transaction amount (with a reason when lower than the amount net of refunds)
    and the registration number and date; each change is audited. The buyer may read, not edit (403); a page or
    ETag read before another edit is refused (409)."""
    record = own_contract(actor, record_id)
    if side_of(actor, record) != "seller":
        raise Forbidden(_("Only the seller's institution registers the contract and edits its record."))
    if record.category != "technology":
        raise Conflict(_("A product sale is a sales contract, not a technology contract: nothing to register."))
    if lock_version is not None and lock_version != record.lock_version:
        raise Conflict(_("This record was changed meanwhile; reload it and try again."))
    amount, reason = _technology(changes, record)
    number, on = _registration(changes, record)
    changed = False
    if (amount, reason) != (record.technology_amount, record.technology_amount_reason):
        record_event("contract.technology_amount", "contract_record", record.id, actor=actor, reason=reason,
                     details={"from": record.technology_amount, "to": amount, "currency": record.currency})
        record.technology_amount, record.technology_amount_reason = amount, reason
        changed = True
    if (number, on) != (record.registration_number, record.registered_on):
        record_event("contract.registration", "contract_record", record.id, actor=actor,
                     details={"number": number, "date": on.isoformat() if on else None})
        record.registration_number, record.registered_on = number, on
        changed = True
    if changed:
        record.lock_version += 1
        db.session.flush()
    return record


def record_for_shown_order(order_id: int) -> ContractRecord | None:
    """The record of an order a page already shows to someone allowed to see it (made now if the order completed
    without one); None when the order never completed."""
    order = db.session.get(Order, order_id)
    return ensure_record(order) if order is not None else None
