"""What an order holds of a listing: units of stock, or a claim within a scope (TXN-01, PAY-14).

Stock is taken with a conditional UPDATE whose row count says whether enough was left; it works the same on both
databases. Every scoped deal (a transfer or a licence of any kind, non-exclusive ones included) records a claim:
the order first locks the listing row (SELECT … FOR UPDATE on PostgreSQL; on SQLite the write transaction already
holds the database's write lock from BEGIN IMMEDIATE), then reads the listing's active claims, asks the
compatibility matrix (hall.services.trading.scope) whether it may coexist with each one whose scope overlaps its
own, then
inserts its own claim — so concurrent buyers of overlapping scopes are serialised and exactly a compatible set wins.
"""
from __future__ import annotations

from typing import Any, cast

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import CursorResult, select, update

from hall.extensions import db
from hall.models import ExclusiveClaim, Listing, Order
from hall.models.types import utcnow
from hall.services.core.errors import Conflict
from hall.services.trading.scope import Deal, Scope, first_conflict, modes_that_may_conflict


def take_stock(order: Order) -> None:
    """Take ``order.quantity`` units from the listing's stock, or raise Conflict when fewer are left."""
    result = cast(CursorResult[Any], db.session.execute(  # an UPDATE's result has a rowcount
        update(Listing)
        .where(Listing.id == order.listing_id, Listing.stock.is_not(None), Listing.stock >= order.quantity)
        .values(stock=Listing.stock - order.quantity)
        .execution_options(synchronize_session=False)
    ))
    if result.rowcount != 1:
        left = db.session.scalar(select(Listing.stock).where(Listing.id == order.listing_id))
        raise Conflict(_("Not enough stock: %(asked)s asked, %(left)s left.", asked=order.quantity, left=left or 0))
    order.stock_taken = order.quantity


def release_stock(order: Order) -> None:
    """Give an unpaid order's units back to the listing."""
    if not order.stock_taken:
        return
    db.session.execute(
        update(Listing).where(Listing.id == order.listing_id, Listing.stock.is_not(None))
        .values(stock=Listing.stock + order.stock_taken).execution_options(synchronize_session=False)
    )
    order.stock_taken = 0


def _deal(order: Order) -> Deal:
    return Deal(order.deal_mode, order.buyer_institution_id,
                Scope(order.field_of_use, order.territory, order.term_start, order.term_end), order.id)


def _held_deals(order: Order) -> list[Deal]:
    """The listing's active claims other than the order's own that the matrix may set against it, as deals."""
    rows = db.session.execute(
        select(ExclusiveClaim.order_id, ExclusiveClaim.deal_mode, Order.buyer_institution_id,
               ExclusiveClaim.field_of_use, ExclusiveClaim.territory, ExclusiveClaim.term_start,
               ExclusiveClaim.term_end)
        .join(Order, Order.id == ExclusiveClaim.order_id)
        .where(ExclusiveClaim.listing_id == order.listing_id, ExclusiveClaim.released_at.is_(None),
               ExclusiveClaim.order_id != order.id,
               ExclusiveClaim.deal_mode.in_(modes_that_may_conflict(order.deal_mode)))
        .order_by(ExclusiveClaim.id))
    return [Deal(mode, holder, Scope(field, territory, start, end), order_id)
            for order_id, mode, holder, field, territory, start, end in rows]


_HELD = {"transfer": _l("transferred"), "exclusive_license": _l("licensed exclusively"),
         "sole_license": _l("licensed on a sole basis")}  # a non-exclusive licence held has its own sentence
_WANTED = {"transfer": _l("a transfer"), "exclusive_license": _l("an exclusive licence"),
           "sole_license": _l("a sole licence"), "non_exclusive_license": _l("a non-exclusive licence")}


def _refusal(wanted: Deal, held: Deal) -> Conflict:
    if held.deal_mode == "non_exclusive_license":
        return Conflict(_("This listing is already licensed non-exclusively in an overlapping field of use, "
                          "territory and term; %(wanted)s cannot be granted over it.",
                          wanted=str(_WANTED[wanted.deal_mode])))
    return Conflict(_("This listing is already reserved or sold exclusively (%(held)s) in an overlapping field of "
                      "use, territory and term; %(wanted)s cannot coexist with it.",
                      held=str(_HELD[held.deal_mode]), wanted=str(_WANTED[wanted.deal_mode])))


def check_scope_free(order: Order) -> None:
    """Raise Conflict when the order's scope clashes with an active claim (the matrix in hall.services.trading.scope).

    Without a lock this only answers early (a quote request for a scope that is taken); ``claim_scope`` decides."""
    if not order.is_scoped:
        return
    wanted = _deal(order)
    clash = first_conflict(wanted, _held_deals(order), utcnow().date())
    if clash is not None:
        raise _refusal(wanted, clash)


def claim_scope(order: Order) -> None:
    """Reserve the order's scope on the listing, or raise Conflict when it may not coexist with an active claim.

    The listing row is locked first, so that claims on one listing are decided one at a time. An order whose
    claim was released (a refund the provider later reversed) gets it back if nothing took the scope meanwhile."""
    db.session.execute(select(Listing.id).where(Listing.id == order.listing_id).with_for_update())
    own = db.session.scalar(select(ExclusiveClaim).where(ExclusiveClaim.order_id == order.id)
                            .execution_options(populate_existing=True))
    if own is not None and own.released_at is None:
        return
    check_scope_free(order)
    if own is not None:
        own.released_at = None
    else:
        db.session.add(ExclusiveClaim(listing_id=order.listing_id, order_id=order.id, deal_mode=order.deal_mode,
                                      field_of_use=order.field_of_use, territory=order.territory,
                                      term_start=order.term_start, term_end=order.term_end))
    db.session.flush()


def release_claim(order: Order) -> None:
    """End the order's claim (an unpaid order ended, or it was fully refunded)."""
    db.session.execute(
        update(ExclusiveClaim).where(ExclusiveClaim.order_id == order.id, ExclusiveClaim.released_at.is_(None))
        .values(released_at=utcnow()).execution_options(synchronize_session=False)
    )


def takes_stock(order: Order) -> bool:
    """Whether the order holds units of stock (a product purchase) rather than a scope."""
    return order.kind == "first_of_kind" and order.deal_mode == "purchase"


def reserve(order: Order) -> None:
    """Take what the order needs: stock for a product purchase, a scope claim for a transfer or licence."""
    if takes_stock(order):
        take_stock(order)
    elif order.is_scoped:
        claim_scope(order)


def release(order: Order) -> None:
    """Give back whatever the order holds."""
    release_stock(order)
    if order.is_scoped:
        release_claim(order)
