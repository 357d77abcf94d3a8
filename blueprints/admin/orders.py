"""Trading in the console: the order list, one order's page, and the forms that move money (a bank transfer
received, a refund, a settlement to the seller) or close a dispute. Each form is one service call; a refused form
answers 4xx (so the request's transaction is rolled back) with the messages beside the fields."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_timezone, to_user_timezone
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from blueprints.actor import actor
from blueprints.admin import admin
from blueprints.admin.actions import form_action
from blueprints.admin.order_forms import QUEUE_LABELS, order_form
from blueprints.admin.pages import paginate
from hall.i18n import money
from hall.models.orders import ORDER_STATUSES
from hall.models.types import utcnow
from hall.money import to_major_text
from hall.services.console import admin_orders
from hall.services.trading import disputes, payments, refunds, settlements
from hall.services.trading.order_queries import admin_order

FILTER_TEXT_MAX = 200


def _day(name: str) -> date | None:
    try:
        return datetime.strptime(request.args.get(name, "").strip(), "%Y-%m-%d").date()
    except ValueError:
        return None


def _local_midnight(day: date | None) -> datetime | None:
    """Days in the filters are the console's days (its time zone), like the times it shows.

    The zone is a ``ZoneInfo``: Flask-Babel's pytz zone passed as ``tzinfo`` would give the zone's first offset
    (Asia/Shanghai's local mean time, +08:06), and an order placed in a day's last six minutes fell into the next."""
    return None if day is None else datetime.combine(day, time.min, tzinfo=ZoneInfo(str(get_timezone())))


def _filters() -> admin_orders.OrderFilters:
    args = request.args
    status, queue, side = args.get("status") or None, args.get("queue") or None, args.get("side") or None
    created_to = _day("created_to")
    return admin_orders.OrderFilters(
        status=status if status in ORDER_STATUSES else None,
        queue=queue if queue in admin_orders.ORDER_QUEUES else None,
        institution=args.get("institution", "")[:FILTER_TEXT_MAX] or None,
        side=side if side in ("buyer", "seller") else None,
        reference=args.get("reference", "")[:FILTER_TEXT_MAX] or None,
        created_from=_local_midnight(_day("created_from")),
        created_before=_local_midnight(created_to + timedelta(days=1) if created_to else None))


@admin.get("/orders")
def order_list() -> str:
    """Orders newest first, filtered by status or queue, institution (buyer, seller or either), reference and the
    day they were created."""
    page = paginate(admin_orders.orders_query(actor(), _filters()))
    return render_template("admin/orders.html", page=page, args=request.args, statuses=ORDER_STATUSES,
                           queues=admin_orders.ORDER_QUEUES, queue_labels=QUEUE_LABELS)


def _render(order_id: int, status: int = 200, posted: tuple[str, FlaskForm] | None = None) -> tuple[str, int]:
    """The order page; ``posted`` is the (action, form) just refused, shown with its messages."""
    view = admin_orders.order_page(actor(), order_id)
    currency, today = view.order.currency, to_user_timezone(utcnow()).date()
    defaults: dict[str, dict[str, Any]] = {
        "bank_transfer": {"currency": currency, "value_date": today},
        "refund": {},
        "settlement": {"amount": to_major_text(max(view.detail.balance["seller_due"], 0), currency),
                       "value_date": today},
        "resolve_dispute": {},
    }
    forms = {action: order_form(action, currency, formdata=None, **values) for action, values in defaults.items()}
    shown = set(view.actions)
    if posted is not None:
        forms[posted[0]] = posted[1]
        if any(field.errors for field in posted[1]):
            shown.add(posted[0])  # messages beside fields are never hidden with their form
    return render_template("admin/order.html", view=view, order=view.order, detail=view.detail, forms=forms,
                           shown=shown), status


@admin.get("/orders/<int:order_id>")
def order_page(order_id: int) -> tuple[str, int]:
    """Everything about one order: parties, listing, terms, amounts, history, payments, ledger, balance, and the
    forms that apply to it now."""
    return _render(order_id)


def _carry_out(order_id: int, action: str, call: Callable[[FlaskForm], Any],
               done: Callable[[FlaskForm, Any], str]) -> Response | tuple[str, int]:
    """Validate the posted form, make its one service call, flash ``done(form, order)`` and go back to the order
    page; a refusal re-renders the page (4xx, nothing kept) with the messages beside the fields or, when they are
    about the order as a whole, on top. Amounts are read in the order's currency."""
    form = order_form(action, admin_order(actor(), order_id).currency)
    if not form.validate_on_submit():
        return _render(order_id, 422, (action, form))
    outcome = form_action(form, lambda: call(form))
    if outcome.status is not None:
        return _render(order_id, outcome.status, (action, form))
    flash(done(form, outcome.value), "success")
    return redirect(url_for("admin.order_page", order_id=order_id))


@admin.post("/orders/<int:order_id>/bank-transfer")
def order_bank_transfer(order_id: int) -> Response | tuple[str, int]:
    """Record a transfer received for the order: it pays the order when amount and currency match exactly."""
    return _carry_out(order_id, "bank_transfer", lambda form: payments.record_bank_transfer(
        actor(), order_id, amount=form.amount.minor, currency=form.currency.data, value_date=form.value_date.data,
        bank_reference=form.bank_reference.data),
        lambda form, order: _("Bank transfer of %(amount)s recorded; the order is paid.",
                              amount=money(form.amount.minor, order.currency)))


@admin.post("/orders/<int:order_id>/refund")
def order_refund(order_id: int) -> Response | tuple[str, int]:
    """Refund part or all of what remains paid: through the card gateway, or recorded as a bank transfer back."""
    return _carry_out(order_id, "refund", lambda form: refunds.refund_order(
        actor(), order_id, form.amount.minor, form.reason.data, form.bank_reference.data or None),
        lambda form, order: _("Refund of %(amount)s recorded.", amount=money(form.amount.minor, order.currency)))


@admin.post("/orders/<int:order_id>/settlement")
def order_settlement(order_id: int) -> Response | tuple[str, int]:
    """Record the transfer paid to the seller of a completed order (never more than is due)."""
    return _carry_out(order_id, "settlement", lambda form: settlements.record_settlement(
        actor(), order_id, amount=form.amount.minor, bank_reference=form.bank_reference.data,
        value_date=form.value_date.data),
        lambda form, order: _("Settlement of %(amount)s to the seller recorded.",
                              amount=money(form.amount.minor, order.currency)))


@admin.post("/orders/<int:order_id>/resolve-dispute")
def order_resolve_dispute(order_id: int) -> Response | tuple[str, int]:
    """Close the dispute in the seller's favour: the order completes."""
    return _carry_out(order_id, "resolve_dispute",
                      lambda form: disputes.resolve_dispute(actor(), order_id, form.reason.data),
                      lambda form, order: _("Dispute resolved; the order is completed."))
