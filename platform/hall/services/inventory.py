"""What an order holds of a listing: units of stock, or an exclusive claim within a scope (TXN-01, PAY-14).

Stock is taken with a conditional UPDATE whose row count says whether enough was left; it works the same on both
databases. An exclusive claim first locks the listing row (SELECT … FOR UPDATE on PostgreSQL; on SQLite the
write transaction already holds the database's write lock from BEGIN IMMEDIATE), then checks for an overlapping
active claim, then inserts its own — so two buyers of the same exclusive licence are serialised and one loses.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import and_, or_, select, true, update

from hall.extensions import db
from hall.models import ExclusiveClaim, Listing, Order
from hall.models.types import utcnow
from hall.services.errors import Conflict


def take_stock(order: Order) -> None:
    """Take ``order.quantity`` units from the listing's stock, or raise Conflict when fewer are left."""
    result = db.session.execute(
        update(Listing)
        .where(Listing.id == order.listing_id, Listing.stock.is_not(None), Listing.stock >= order.quantity)
        .values(stock=Listing.stock - order.quantity)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        left = db.session.scalar(select(Listing.stock).where(Listing.id == order.listing_id))
        raise Conflict(f"Not enough stock: {order.quantity} asked, {left or 0} left.")
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


def _same_or_unscoped(column, value: str | None):  # noqa: ANN001, ANN202 - a SQL expression helper
    return or_(column.is_(None), column == value) if value is not None else true()


def _terms_overlap(start: date | None, end: date | None):  # noqa: ANN202
    conditions = []
    if start is not None:
        conditions.append(or_(ExclusiveClaim.term_end.is_(None), ExclusiveClaim.term_end >= start))
    if end is not None:
        conditions.append(or_(ExclusiveClaim.term_start.is_(None), ExclusiveClaim.term_start <= end))
    return and_(true(), *conditions)


def _normalised(value: str | None) -> str | None:
    return " ".join(value.split()).casefold() if value and value.strip() else None


def claim_exclusive(order: Order) -> None:
    """Reserve the listing for an exclusive deal in the order's scope, or raise Conflict when it overlaps a claim.

    Two scopes overlap when their fields of use are equal or either is unrestricted, likewise their territories,
    and their terms intersect (an open end is unbounded).
    """
    db.session.execute(select(Listing.id).where(Listing.id == order.listing_id).with_for_update())
    field, territory = _normalised(order.field_of_use), _normalised(order.territory)
    clash = db.session.scalar(
        select(ExclusiveClaim.order_id).where(
            ExclusiveClaim.listing_id == order.listing_id,
            ExclusiveClaim.released_at.is_(None),
            _same_or_unscoped(ExclusiveClaim.field_of_use, field),
            _same_or_unscoped(ExclusiveClaim.territory, territory),
            _terms_overlap(order.term_start, order.term_end),
        ).limit(1)
    )
    if clash is not None:
        raise Conflict("This listing is already reserved or sold exclusively in an overlapping field of use, "
                       "territory and term.")
    db.session.add(ExclusiveClaim(listing_id=order.listing_id, order_id=order.id, field_of_use=field,
                                  territory=territory, term_start=order.term_start, term_end=order.term_end))
    db.session.flush()


def release_exclusive(order: Order) -> None:
    """End the order's exclusive claim (an unpaid order ended, or it was fully refunded)."""
    db.session.execute(
        update(ExclusiveClaim).where(ExclusiveClaim.order_id == order.id, ExclusiveClaim.released_at.is_(None))
        .values(released_at=utcnow()).execution_options(synchronize_session=False)
    )


def reserve(order: Order) -> None:
    """Take what the order needs: stock for a product purchase, a claim for an exclusive deal."""
    if order.kind == "first_of_kind" and order.deal_mode == "purchase":
        take_stock(order)
    elif order.is_exclusive:
        claim_exclusive(order)


def release(order: Order) -> None:
    """Give back whatever the order holds."""
    release_stock(order)
    if order.is_exclusive:
        release_exclusive(order)


def exclusive_blocks_nonexclusive(order: Order) -> bool:
    """True when an active exclusive claim (transfer or exclusive licence) covers the order's scope."""
    field, territory = _normalised(order.field_of_use), _normalised(order.territory)
    clash = db.session.scalar(
        select(ExclusiveClaim.order_id).join(Order, Order.id == ExclusiveClaim.order_id).where(
            ExclusiveClaim.listing_id == order.listing_id, ExclusiveClaim.released_at.is_(None),
            Order.deal_mode.in_(("transfer", "exclusive_license")),
            _same_or_unscoped(ExclusiveClaim.field_of_use, field),
            _same_or_unscoped(ExclusiveClaim.territory, territory),
            _terms_overlap(order.term_start, order.term_end),
        ).limit(1)
    )
    return clash is not None
