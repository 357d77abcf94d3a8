"""Orders in the workspace, for both sides: the institution's orders as buyer or seller, placing an order from a
listing, one order with its terms, history and the buttons allowed now (quote, accept, pay, deliver, confirm,
dispute, cancel), the card payment's page, and the transaction records with their downloads. Each view parses a
form, calls one trading service with the signed-in person (``order_for_party`` answers 404 for another
institution's order, AUTHZ-01) and renders or redirects; a refusal is shown beside its field or on top."""
from __future__ import annotations

from math import ceil
from typing import Any

from flask import abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from blueprints.actor import actor
from blueprints.api.base import XLSX
from blueprints.web import web
from blueprints.web.site import nav_item
from blueprints.web.workspace import Page, member_page, run
from blueprints.web.workspace_order_forms import ButtonForm, OrderForm, action_form
from hall.i18n import money
from hall.models import Order
from hall.models.ledger import LEDGER_KINDS
from hall.models.orders import ORDER_STATUSES
from hall.payments import EXTENSION_KEY, gateway
from hall.services.publishing.hall import published_listing
from hall.services.trading import disputes, ledger, order_queries, orders, payments, stripe_events
from hall.services.trading.order_queries import OrderDetail
from hall.services.trading.orders import ORDER_MACHINE
from hall.services.trading.payments import PAYABLE_ORDER_STATUSES
from schemas.orders import OrderQueryIn, TransactionExportIn, TransactionQueryIn

PER_PAGE = 20
ENTRIES_PER_PAGE = 50

nav_item("web.my_orders", _l("Orders"), "members", position=35)
nav_item("web.my_transactions", _l("Transaction records"), "members", position=36)

# Which side takes each step of an order (the history names the platform, "your side" or "the other side").
STEP_SIDES = {"order.create": "buyer", "order.quote": "seller", "order.accept": "buyer",
              "order.start_payment": "buyer", "order.deliver": "seller", "order.complete": "buyer",
              "order.dispute": "buyer", "payment.start": "buyer"}
# The buttons each side is offered, by the order machine's action they take (the services decide).
SELLER_ACTIONS = ("quote", "deliver", "cancel")
BUYER_ACTIONS = ("accept", "complete", "dispute", "cancel")


def _query(schema: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """The filters from the address, checked by the API's schema; a value it refuses is left out."""
    given = {name: request.args[name] for name in names if request.args.get(name)}
    try:
        return dict(schema.load(given))
    except ValidationError as error:
        refused = error.messages if isinstance(error.messages, dict) else {}
        return dict(schema.load({k: v for k, v in given.items() if k not in refused}))


# --- The list ----------------------------------------------------------------------------------------------------


@web.get("/workspace/orders")
@member_page
def my_orders() -> Page:
    """The institution's orders as buyer (default) or seller, newest first, by status, listing and the day they
    were placed, a page at a time."""
    query = _query(OrderQueryIn(), ("role", "status", "listing_id", "created_from", "created_to", "page"))
    items, total = order_queries.list_orders(
        actor(), query["role"], status=query.get("status"), listing_id=query.get("listing_id"),
        created_from=query.get("created_from"), created_to=query.get("created_to"), page=query["page"],
        per_page=PER_PAGE)
    return render_template("web/orders/list.html", items=items, total=total, page=query["page"],
                           pages=max(ceil(total / PER_PAGE), 1), role=query["role"], status=query.get("status"),
                           statuses=ORDER_STATUSES, query=query)


# --- Placing an order --------------------------------------------------------------------------------------------


def _order_form_page(form: OrderForm, listing: Any, version: Any, status: int = 200) -> tuple[str, int]:
    return render_template("web/orders/new.html", form=form, listing=listing, version=version,
                           licence_modes=[m for m in version.deal_modes if m.endswith("_license")]), status


@web.route("/hall/listings/<int:listing_id>/order", methods=["GET", "POST"])
@member_page
def order_listing(listing_id: int) -> Page:
    """Order from a published listing: a fixed price is accepted at once (stock or scope reserved), a negotiable
    one asks the seller for a quote. Field errors show beside the fields, a conflict (scope taken, stock gone)
    on top."""
    listing, version = published_listing(listing_id)
    form = OrderForm()
    form.deal_mode.choices = [(mode, _(mode)) for mode in version.deal_modes]
    if request.method == "GET" or not form.validate_on_submit():
        if request.method == "POST":
            flash(_("Nothing was ordered: correct the fields marked below."), "error")
        return _order_form_page(form, listing, version, 422 if request.method == "POST" else 200)
    body = form.checked(listing_id, listing.kind)
    if body is None:
        flash(_("Nothing was ordered: correct the fields marked below."), "error")
        return _order_form_page(form, listing, version, 422)
    body.pop("listing_id")
    outcome = run(form, lambda: orders.create_order(actor(), listing_id, body))
    if outcome.refused or outcome.value is None:
        return _order_form_page(form, listing, version, outcome.status or 500)
    order, created = outcome.value
    if not created:
        flash(_("You already have this order open: here it is."), "success")
    elif order.status == "accepted":
        flash(_("Your order is accepted at %(amount)s. Pay it before %(deadline)s.",
                amount=money(order.amount, order.currency), deadline=f"{order.reserved_until:%Y-%m-%d %H:%M} UTC"),
              "success")
    else:
        flash(_("Your request for a quote is sent to the seller."), "success")
    return redirect(url_for("web.workspace_order", order_id=order.id))


# --- One order ---------------------------------------------------------------------------------------------------


def _side(detail: OrderDetail) -> str:
    return "seller" if actor().institution_id == detail.seller_institution_id else "buyer"


def _history(detail: OrderDetail, side: str) -> list[dict[str, Any]]:
    """The order's steps with who acted in words: the platform, your side, the other side."""
    steps = []
    for step in detail.history:
        acting = STEP_SIDES.get(step["action"]) or step.get("side")
        if step["by_platform"]:
            who = _("the platform")
        elif acting is None:
            who = _("one of the parties")
        else:
            who = _("your side") if acting == side else _("the other side")
        steps.append({**step, "who": who})
    return steps


def _allowed(detail: OrderDetail, side: str) -> list[str]:
    """The buttons to offer now (the order machine's table; the services decide when pressed)."""
    offered = SELLER_ACTIONS if side == "seller" else BUYER_ACTIONS
    actions = [action for action in offered if ORDER_MACHINE.can(action, detail.status)]
    if side == "buyer" and detail.status in PAYABLE_ORDER_STATUSES:
        actions.append("pay")
    return actions


def _order_page(order_id: int, status: int = 200, forms: dict[str, FlaskForm] | None = None,
                **extra: Any) -> tuple[str, int]:
    detail = order_queries.party_order_detail(actor(), order_id)
    side = _side(detail)
    given = forms or {}
    built = {name: given.get(name) or action_form(name, detail.currency)
             for name in ("quote", "accept", "deliver", "cancel", "dispute", "pay", "confirm")}
    return render_template("web/orders/order.html", order=detail, side=side, history=_history(detail, side),
                           allowed=_allowed(detail, side), forms=built, card=gateway().name != "none",
                           **extra), status


@web.get("/workspace/orders/<int:order_id>")
@member_page
def workspace_order(order_id: int) -> Page:
    """One order of the institution, as buyer or seller (404 for anyone else)."""
    return _order_page(order_id)


def _act(order_id: int, name: str, call: Any, done: str, *, valid: bool = True) -> Page:
    """Run one step from the order page: redirect with ``done`` when it is taken, else the page with the refusal."""
    order_queries.party_order_detail(actor(), order_id)  # 404 for another institution's order
    form = action_form(name, _currency(order_id), posted=True)
    if not (valid and form.validate()):
        flash(_("Nothing was changed: correct the fields marked below."), "error")
        return _order_page(order_id, 422, {name: form})
    outcome = run(form, lambda: call(form))
    if outcome.refused:
        return _order_page(order_id, outcome.status or 500, {name: form})
    flash(done, "success")
    return redirect(url_for("web.workspace_order", order_id=order_id))


def _currency(order_id: int) -> str:
    return str(orders.order_for_party(actor(), order_id).currency)


@web.post("/workspace/orders/<int:order_id>/quote")
@member_page
def order_quote(order_id: int) -> Page:
    """Seller: name (or revise) the total price of a requested order, in the order's currency."""
    return _act(order_id, "quote", lambda f: orders.quote_order(actor(), order_id, f.amount.minor, f.note.data or None),
                _("Your quote is sent to the buyer."))


@web.post("/workspace/orders/<int:order_id>/accept")
@member_page
def order_accept(order_id: int) -> Page:
    """Buyer: accept the quote read on the page (its number); a re-quote in between is refused."""
    def accept(form: Any) -> Order:
        number = form.quote_number.data or ""
        return orders.accept_quote(actor(), order_id, int(number) if number.isdigit() and len(number) < 6 else 0)
    return _act(order_id, "accept", accept, _("You accepted the quote. Pay the order to close the deal."))


@web.post("/workspace/orders/<int:order_id>/deliver")
@member_page
def order_deliver(order_id: int) -> Page:
    """Seller: record what was delivered for a paid order."""
    return _act(order_id, "deliver", lambda f: orders.deliver_order(actor(), order_id, f.note.data or ""),
                _("The delivery is recorded; the buyer is asked to confirm it."))


@web.post("/workspace/orders/<int:order_id>/confirm")
@member_page
def order_confirm(order_id: int) -> Page:
    """Buyer: confirm the delivery; the order completes."""
    return _act(order_id, "confirm", lambda f: orders.confirm_delivery(actor(), order_id),
                _("You confirmed the delivery; the order is completed."))


@web.post("/workspace/orders/<int:order_id>/cancel")
@member_page
def order_cancel(order_id: int) -> Page:
    """Either side: end an unpaid order, saying why."""
    return _act(order_id, "cancel", lambda f: orders.cancel_order(actor(), order_id, f.checked() or ""),
                _("The order is cancelled."))


@web.post("/workspace/orders/<int:order_id>/dispute")
@member_page
def order_dispute(order_id: int) -> Page:
    """Buyer: dispute a paid order, saying why; the platform resolves it."""
    return _act(order_id, "dispute", lambda f: disputes.open_dispute(actor(), order_id, f.checked() or ""),
                _("Your dispute is recorded; the platform will resolve it."))


# --- Paying ------------------------------------------------------------------------------------------------------


# The site's policy plus what Stripe.js needs (https://docs.stripe.com/security/guide#content-security-policy).
STRIPE_PAGE_CSP = ("default-src 'self'; img-src 'self' data: https://*.stripe.com; style-src 'self'; "
                   "script-src 'self' https://js.stripe.com; frame-src https://js.stripe.com https://hooks.stripe.com; "
                   "connect-src 'self' https://api.stripe.com; form-action 'self'; frame-ancestors 'none'; "
                   "base-uri 'none'; object-src 'none'")


@web.post("/workspace/orders/<int:order_id>/pay")
@member_page
def order_pay(order_id: int) -> Page:
    """Buyer: pay by bank transfer (the platform's account and the order's remittance reference) or by card (a
    payment intent: confirmed on the local page with the fake gateway, with Stripe's Payment Element otherwise)."""
    order_queries.party_order_detail(actor(), order_id)
    form = action_form("pay", _currency(order_id), posted=True)
    method = "stripe" if form.method.data == "stripe" else "bank_transfer"
    outcome = run(form, lambda: payments.start_payment(actor(), order_id, method))
    if outcome.refused or outcome.value is None:
        return _order_page(order_id, outcome.status or 500, {"pay": form})
    payment, extra = outcome.value
    if method == "bank_transfer":
        return _order_page(order_id, transfer=extra["bank_transfer"], payment=payment)
    if gateway().name == "fake":
        return redirect(url_for("web.order_card", order_id=order_id))
    page = make_response(render_template(
        "web/orders/card.html", order=order_queries.party_order_detail(actor(), order_id), payment=payment,
        client_secret=extra["client_secret"], publishable_key=extra["publishable_key"], fake=False,
        form=ButtonForm()))
    page.headers["Content-Security-Policy"] = STRIPE_PAGE_CSP  # this page alone loads Stripe.js and its frames
    return page


def _fake_only() -> None:
    if gateway().name != "fake":
        abort(404)


@web.get("/workspace/orders/<int:order_id>/pay/card")
@member_page
def order_card(order_id: int) -> Page:
    """The fake gateway's stand-in for Stripe's card page: one button confirms the card (offline and in tests)."""
    _fake_only()
    detail = order_queries.party_order_detail(actor(), order_id)
    if "pay" not in _allowed(detail, _side(detail)):  # the buyer's page, while the order can be paid
        abort(404)
    return render_template("web/orders/card.html", order=detail, fake=True, form=ButtonForm())


@web.post("/workspace/orders/<int:order_id>/pay/card")
@member_page
def order_card_confirm(order_id: int) -> Page:
    """The fake card goes through: the fake gateway succeeds the order's open intent and the event Stripe would
    send (``payment_intent.succeeded``) is applied as the webhook applies it."""
    _fake_only()
    order_queries.party_order_detail(actor(), order_id)
    form = ButtonForm()
    outcome = run(form, lambda: payments.start_payment(actor(), order_id, "stripe"))
    if outcome.refused or outcome.value is None:
        return _order_page(order_id, outcome.status or 500)
    payment, _extra = outcome.value
    intent = current_app.extensions[EXTENSION_KEY].succeed(payment.provider_reference)
    event = {"id": f"evt_local_{intent.id}", "object": "event", "type": "payment_intent.succeeded",
             "livemode": False, "data": {"object": {
                 "id": intent.id, "object": "payment_intent", "amount": intent.amount,
                 "amount_received": intent.amount, "currency": intent.currency.lower(), "status": "succeeded",
                 "latest_charge": intent.latest_charge, "metadata": dict(intent.metadata)}}}
    result = stripe_events.apply_event(event)
    if result == "applied":
        flash(_("The card payment went through; the order is paid."), "success")
    else:
        flash(_("The card payment was not applied (%(outcome)s).", outcome=result), "error")
    return redirect(url_for("web.workspace_order", order_id=order_id))


# --- Transaction records -----------------------------------------------------------------------------------------

FILTERS = ("side", "kind", "order_id", "currency", "since", "until")


def _entry_filter(args: dict[str, Any]) -> ledger.EntryFilter:
    return ledger.EntryFilter(**{name: args.get(name) for name in FILTERS})


@web.get("/workspace/transactions")
@member_page
def my_transactions() -> Page:
    """The institution's transaction records with filters, balances per currency and downloads."""
    query = _query(TransactionQueryIn(), (*FILTERS, "page"))
    items, total = ledger.entries_page(actor(), _entry_filter(query), query["page"], ENTRIES_PER_PAGE)
    given = {name: request.args[name] for name in FILTERS if request.args.get(name)}
    return render_template("web/orders/transactions.html", items=items, total=total, page=query["page"],
                           pages=max(ceil(total / ENTRIES_PER_PAGE), 1), query=query, given=given,
                           balances=ledger.institution_balances(actor()), kinds=LEDGER_KINDS,
                           org_id=actor().institution_id)


@web.get("/workspace/transactions/export")
@member_page
def transactions_export() -> Page:
    """The same records as CSV (UTF-8 with BOM) or XLSX."""
    query = _query(TransactionExportIn(), (*FILTERS, "format"))
    limit = current_app.config["EXPORT_MAX_ROWS"]
    if query["format"] == "xlsx":
        body, mimetype = ledger.export_xlsx(actor(), _entry_filter(query), limit), XLSX
    else:
        body, mimetype = ledger.export_csv(actor(), _entry_filter(query), limit), "text/csv"
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="transactions.{query["format"]}"'})
