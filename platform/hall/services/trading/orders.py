"""Orders through their lifecycle: request, quote, accept, pay, deliver, complete; cancel, expire, dispute.

One transition table; each step is a compare-and-set on the order's status with an audit event, in the caller's
transaction (services flush, the request commits).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from hall.extensions import db
from hall.labels import state_word
from hall.models import Listing, Order, User
from hall.models.orders import OPEN_STATUSES
from hall.models.types import utcnow
from hall.services.core import announcements
from hall.services.core.access import forbid_own_institution, require_admin, require_member
from hall.services.core.audit import lock_row, record_event
from hall.services.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from hall.services.core.state import Machine, transition
from hall.services.core.transactions import end_transaction
from hall.services.trading import inventory, order_notices, provider_calls
from hall.services.trading.exhibitions_attribution import check_lead
from hall.services.trading.order_rules import (
    check_quote_amount,
    check_terms,
    fee_rate_bp,
    fixed_price,
    new_reference,
    platform_fee,
    terms_key,
)

# action -> (states it may start from, state it leads to)
ORDER_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "quote": (frozenset({"requested", "quoted"}), "quoted"),
    "accept": (frozenset({"quoted"}), "accepted"),
    "start_payment": (frozenset({"accepted"}), "awaiting_payment"),
    "pay": (frozenset({"accepted", "awaiting_payment"}), "paid"),
    "deliver": (frozenset({"paid"}), "delivered"),
    "complete": (frozenset({"delivered"}), "completed"),
    "cancel": (frozenset(OPEN_STATUSES), "cancelled"),
    "expire": (frozenset({"accepted", "awaiting_payment"}), "expired"),
    "dispute": (frozenset({"paid", "delivered", "completed"}), "disputed"),
    "resolve": (frozenset({"disputed"}), "completed"),
    "refund": (frozenset({"paid", "delivered", "completed", "disputed"}), "refunded"),
    # The provider reported failed a refund that had closed the order: the money is held again.
    "refund_reversed": (frozenset({"refunded"}), "paid"),
}
ORDER_MACHINE = Machine("order", ORDER_TRANSITIONS, reason_column="status_reason")
HOLDING_STATUSES = frozenset({"accepted", "awaiting_payment"})
# Refusals of an action the order's table does not allow from its state (``_check_allowed``).
_NOT_ALLOWED = {"cancel": _l("The order is “%(state)s”; it can no longer be cancelled.")}


def transition_order(order: Order, action: str, actor: User | None, *, reason: str | None = None,
                     details: dict[str, Any] | None = None, conditions: tuple[Any, ...] = (), **values: Any) -> None:
    """Apply one step of the order's lifecycle (compare-and-set on status) and audit it."""
    transition(ORDER_MACHINE, order, action, actor=actor, reason=reason, details=details, conditions=conditions,
               **values)
    if ORDER_TRANSITIONS[action][1] == "completed":  # every completion passes here (confirm, clock, resolve)
        announcements.announce("order.completed", order=order)  # policy: the contract's registration record


def _reservation_deadline(now: datetime) -> datetime:
    return now + timedelta(hours=current_app.config["ORDER_RESERVATION_HOURS"])


def _notice_deadline(order: Order, now: datetime) -> datetime | None:
    """When a negotiated price of a state-funded achievement may be paid: after PUBLIC_NOTICE_DAYS of public
    notice (公示, Art. 18 of the Law on Promoting the Transformation of S&T Achievements); None otherwise."""
    days = current_app.config["PUBLIC_NOTICE_DAYS"]
    if order.kind != "achievement" or not order.listing_version.state_funded or days <= 0:
        return None
    return now + timedelta(days=days)


def check_notice_over(order: Order) -> None:
    """Refuse payment while the order's price is still under public notice."""
    if order.notice_until is not None and order.notice_until > utcnow():
        raise Conflict(_("The negotiated price is under public notice (公示) until %(until)s UTC; it can be paid "
                         "after that.", until=f"{order.notice_until:%Y-%m-%d %H:%M}"))


def _buyer_institution(actor: User) -> int:
    return require_member(actor, verified=True,
                          unverified_message=_("Your institution must be verified by the platform before it can "
                                               "buy.")).id


def _open_duplicate(buyer_id: int, listing_id: int, key: str) -> Order | None:
    return db.session.scalar(select(Order).where(Order.buyer_institution_id == buyer_id,
                                                 Order.listing_id == listing_id, Order.terms_key == key,
                                                 Order.status.in_(OPEN_STATUSES)))


def _locked_listing(listing_id: int) -> Listing | None:
    """The listing with its published version and institution, its row locked, in one statement: the listing is
    the first row a new order locks (lock order: hall.services.core.audit), so one buyer at a time decides."""
    db.session.flush()
    return db.session.scalar(
        select(Listing).where(Listing.id == listing_id)
        .options(joinedload(Listing.published_version), joinedload(Listing.institution))
        .with_for_update(of=Listing).execution_options(populate_existing=True))


def create_order(actor: User, listing_id: int, values: dict[str, Any]) -> tuple[Order, bool]:
    """Order from a published listing at the platform's price; returns (order, created).

    A fixed price starts the order accepted with what it needs reserved; a negotiable one starts as a request
    for a quote. The same buyer asking again for the same terms while an order is open gets that order back
    (created False) instead of a second one.
    """
    buyer_id = _buyer_institution(actor)
    listing = _locked_listing(listing_id)
    if listing is None or listing.status != "published" or listing.published_version is None:
        raise NotFound(_("No such listing in the hall."))
    if listing.institution_id == buyer_id:
        raise InvalidInput.field("listing_id", _("your institution publishes this listing; it cannot buy it"))
    if not listing.institution.is_verified:
        raise NotFound(_("No such listing in the hall."))
    version = listing.published_version
    terms = check_terms(listing, version, values)
    scope = {name: terms[name] for name in ("field_of_use", "territory", "term_start", "term_end")}
    key = terms_key(terms["deal_mode"], terms["quantity"], scope)
    exhibition_id = check_lead(values.get("exhibition_id"), listing_id=listing.id)  # a lead of an exhibition
    existing = _open_duplicate(buyer_id, listing.id, key)
    if existing is not None:
        return existing, False
    amount = fixed_price(version, terms["deal_mode"], terms["quantity"])
    now = utcnow()
    rate = fee_rate_bp()
    order = Order(
        reference=new_reference(), buyer_institution_id=buyer_id, seller_institution_id=listing.institution_id,
        listing_id=listing.id, listing_version_id=version.id, created_by_id=actor.id, kind=listing.kind,
        # the loaded rows themselves, so that the answer and the notices read them instead of loading them again
        listing=listing, listing_version=version, seller=listing.institution, buyer=actor.institution,
        terms_key=key, buyer_note=values.get("note"), currency=version.currency, fee_rate_bp=rate, **terms,
        price_mode="fixed" if amount is not None else "negotiated",
        unit_price=version.price_amount if amount is not None else None, amount=amount,
        fee_amount=platform_fee(amount, rate) if amount is not None else None,
        status="accepted" if amount is not None else "requested",
        accepted_at=now if amount is not None else None, exhibition_id=exhibition_id,
        reserved_until=_reservation_deadline(now) if amount is not None else None,
    )
    if order.status == "requested":
        inventory.check_scope_free(order)  # a quote for a scope that is taken: refused now (reserve decides later)
    stock_first = order.status == "accepted" and inventory.takes_stock(order)
    try:
        with db.session.begin_nested():
            if stock_first:  # taken before the INSERT, which then writes stock_taken (undone with the savepoint)
                inventory.take_stock(order)
            db.session.add(order)
            db.session.flush()
    except IntegrityError:
        # Another request of this buyer created the same order a moment ago (the partial unique index).
        existing = _open_duplicate(buyer_id, listing.id, key)
        if existing is None:
            raise
        return existing, False
    if order.status == "accepted" and not stock_first:
        inventory.reserve(order)
    record_event("order.create", "order", order.id, actor=actor, to_state=order.status, created=True,
                 details={"listing_id": listing.id, "deal_mode": order.deal_mode, "quantity": order.quantity,
                          "amount": order.amount, "currency": order.currency})
    order_notices.tell(order, "order.created" if amount is not None else "order.requested", "seller",
                       note=order.buyer_note)
    return order, True


def order_for_party(actor: User, order_id: int, side: str | None = None) -> Order:
    """An order the actor's institution buys or sells (``side`` buyer|seller restricts it); otherwise 404."""
    order = db.session.get(Order, order_id)
    org_id = actor.institution_id
    if order is None or org_id is None:
        raise NotFound(_("No such order."))
    sides = {"buyer": order.buyer_institution_id == org_id, "seller": order.seller_institution_id == org_id}
    if not (sides[side] if side else any(sides.values())):
        if any(sides.values()):
            raise Forbidden(_("Only the buyer does this.") if side == "buyer" else _("Only the seller does this."))
        raise NotFound(_("No such order."))
    return order


def order_for_admin(actor: User, order_id: int) -> Order:
    """An order an admin handles money for (never their own institution's), its row locked first."""
    require_admin(actor)
    lock_row(Order, order_id)  # before any other row (lock order: hall.services.core.audit)
    order = db.session.get(Order, order_id)
    if order is None:
        raise NotFound(_("No such order."))
    forbid_own_institution(actor, order.buyer_institution_id, order.seller_institution_id,
                           doing=_("handle money of their own institution's orders"))
    return order


def quote_order(actor: User, order_id: int, amount: int, note: str | None = None) -> Order:
    """The seller names (or revises) the price and terms of a requested order."""
    order = order_for_party(actor, order_id, "seller")
    amount = check_quote_amount(amount)
    transition_order(order, "quote", actor, details={"amount": amount}, amount=amount, quote_note=note,
                     fee_amount=platform_fee(amount, order.fee_rate_bp), quoted_at=utcnow(),
                     quote_count=Order.quote_count + 1)
    order_notices.tell(order, "order.quoted", "buyer", note=note)
    return order


def accept_quote(actor: User, order_id: int, quote_number: int) -> Order:
    """The buyer accepts the quote it saw (``quote_number``); a re-quote in between answers 409."""
    lock_row(Order, order_id)
    order = order_for_party(actor, order_id, "buyer")
    if order.status == "quoted" and order.quote_count != quote_number:
        raise Conflict(_("The seller changed the quote (now number %(number)s); read it and accept again.",
                         number=order.quote_count))
    now = utcnow()
    notice_until = _notice_deadline(order, now)
    transition_order(order, "accept", actor, conditions=(Order.quote_count == quote_number,), accepted_at=now,
                     notice_until=notice_until, reserved_until=_reservation_deadline(notice_until or now))
    inventory.reserve(order)
    order_notices.tell(order, "order.accepted", "seller")
    return order


def _check_allowed(order: Order, action: str) -> None:
    """Conflict when the order's table does not allow ``action`` from where it stands (before asking a provider)."""
    if not ORDER_MACHINE.can(action, order.status):
        refusal = _NOT_ALLOWED.get(action)
        state = state_word(order.status)
        raise Conflict(str(refusal) % {"state": state} if refusal is not None
                       else _("The order is “%(state)s”; this cannot be done now.", state=state))


def cancel_order(actor: User, order_id: int, reason: str | None) -> Order:
    """Either side ends an unpaid order; whatever it reserved is released and open payments are cancelled
    (card intents at Stripe first, with no transaction open; Conflict if one has gone through)."""
    reason = (reason or "").strip() or None
    if reason is None:
        raise InvalidInput.field("reason", _("say why the order is cancelled"))
    lock_row(Order, order_id)
    order = order_for_party(actor, order_id)
    _check_allowed(order, "cancel")
    intents = provider_calls.open_intents(order.id)
    if intents:
        end_transaction()
        provider_calls.cancel_at_provider(intents)
        lock_row(Order, order_id)
        order = order_for_party(actor, order_id)
    held = order.status in HOLDING_STATUSES
    provider_calls.cancel_recorded(order.id, intents)
    side = "buyer" if actor.institution_id == order.buyer_institution_id else "seller"
    transition_order(order, "cancel", actor, reason=reason, details={"side": side}, closed_at=utcnow())
    if held:
        inventory.release(order)
    order_notices.tell(order, "order.cancelled", "seller" if side == "buyer" else "buyer", note=reason)
    return order


def deliver_order(actor: User, order_id: int, note: str) -> Order:
    """The seller says what was delivered; the buyer confirms, or the order completes after the set period."""
    order = order_for_party(actor, order_id, "seller")
    note = (note or "").strip()
    if not note:
        raise InvalidInput.field("note", _("describe what was delivered (documents, shipment, handover)"))
    now = utcnow()
    transition_order(order, "deliver", actor, delivery_note=note, delivered_at=now,
                     complete_after=now + timedelta(days=current_app.config["ORDER_AUTO_COMPLETE_DAYS"]))
    order_notices.tell(order, "order.delivered", "buyer", note=note)
    return order


def confirm_delivery(actor: User, order_id: int) -> Order:
    """The buyer confirms receipt: the order completes and the seller can be settled."""
    order = order_for_party(actor, order_id, "buyer")
    transition_order(order, "complete", actor, completed_at=utcnow())
    order_notices.tell(order, "order.completed", "seller")
    return order
