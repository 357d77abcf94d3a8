"""The workspace's order forms (Flask-WTF: each carries a CSRF token). What a buyer asks for goes through the API's
``OrderCreateIn``; a seller's quote is typed in the main unit of the order's currency (``MoneyField``) and kept in
minor units. Each action form has its own prefix so that several share the order page."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from marshmallow import ValidationError
from wtforms import BooleanField, DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from blueprints.admin.order_forms import AMOUNT_INPUT, MoneyField
from hall.library_messages import translate_library_message
from schemas.orders import OrderCreateIn
from schemas.orders import ReasonIn as ReasonSchema

LICENCE_MODES = ("exclusive_license", "sole_license", "non_exclusive_license")


class OrderForm(FlaskForm):
    """What the buyer asks for; the price is never typed: the platform computes it or the seller quotes it."""

    deal_mode = SelectField(_l("Deal mode"), validators=[DataRequired()])
    quantity = IntegerField(_l("Quantity"), default=1, validators=[Optional(), NumberRange(min=1)])
    field_of_use = StringField(_l("Field of use (a taxonomy code; empty for every field)"),
                               validators=[Optional(), Length(max=60)])
    territory = StringField(_l("Territory (CN, a region code such as 440000, or empty for worldwide)"),
                            validators=[Optional(), Length(max=20)])
    term_start = DateField(_l("Term starts"), validators=[Optional()])
    term_end = DateField(_l("Term ends (empty: open)"), validators=[Optional()])
    end_user_declared = BooleanField(_l("We are the direct end user of this product"))
    note = TextAreaField(_l("Note to the seller"), validators=[Optional(), Length(max=2000)])
    exhibition_id = StringField()  # hidden: the exhibition page the buyer came from (a lead of it)

    def body(self, listing_id: int, kind: str) -> dict[str, Any]:
        """The API's request body from the form (only what the listing's kind takes)."""
        body: dict[str, Any] = {"listing_id": listing_id, "deal_mode": self.deal_mode.data}
        if kind == "first_of_kind":
            body.update(quantity=self.quantity.data or 1, end_user_declared=bool(self.end_user_declared.data))
        if self.deal_mode.data in LICENCE_MODES:
            body.update(field_of_use=(self.field_of_use.data or "").strip() or None,
                        territory=(self.territory.data or "").strip() or None,
                        term_start=self.term_start.data.isoformat() if self.term_start.data else None,
                        term_end=self.term_end.data.isoformat() if self.term_end.data else None)
        if (self.note.data or "").strip():
            body["note"] = self.note.data.strip()
        exhibition = (self.exhibition_id.data or "").strip()
        if exhibition:
            body["exhibition_id"] = int(exhibition) if exhibition.isdigit() else exhibition
        return body

    def checked(self, listing_id: int, kind: str) -> dict[str, Any] | None:
        """The body as ``OrderCreateIn`` loads it; None with the schema's messages beside the fields."""
        try:
            return dict(OrderCreateIn().load(self.body(listing_id, kind)))
        except ValidationError as error:
            messages = error.messages if isinstance(error.messages, dict) else {}
            for name, problems in messages.items():
                target = self[name] if name in self else self.deal_mode
                listed = problems if isinstance(problems, list) else [problems]
                target.errors = [translate_library_message(str(p)) for p in listed]
            return None


class QuoteForm(FlaskForm):
    """The seller's total price and terms (quote again to revise)."""

    amount = MoneyField(lambda unit: _("Total price (%(unit)s)", unit=unit), validators=[DataRequired()],
                        render_kw=AMOUNT_INPUT)
    note = TextAreaField(_l("Terms and notes"), validators=[Optional(), Length(max=4000)])


class AcceptForm(FlaskForm):
    """The buyer accepts the quote it read: its number travels with the button."""

    quote_number = HiddenField(validators=[DataRequired()])


class DeliverForm(FlaskForm):
    """What the seller delivered."""

    note = TextAreaField(_l("What was delivered (documents, shipment, handover)"),
                         validators=[DataRequired(), Length(max=4000)])


class ReasonForm(FlaskForm):
    """Why the order is cancelled or disputed."""

    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])

    def checked(self) -> str | None:
        """The reason as the API's ``ReasonIn`` takes it."""
        try:
            return str(ReasonSchema().load({"reason": self.reason.data or ""})["reason"])
        except ValidationError as error:
            messages = error.messages if isinstance(error.messages, dict) else {}
            self.reason.errors = [translate_library_message(str(p)) for p in messages.get("reason", [])]
            return None


class PayForm(FlaskForm):
    """How the buyer pays: by card or by bank transfer."""

    method = HiddenField(validators=[DataRequired()])


class ButtonForm(FlaskForm):
    """A button that only carries the CSRF token (confirm delivery, confirm a local card payment)."""


FORM_PREFIXES = {"quote": "quote", "accept": "accept", "deliver": "deliver", "cancel": "cancel",
                 "dispute": "dispute", "pay": "pay", "confirm": "confirm"}
FORM_CLASSES: dict[str, type[FlaskForm]] = {"quote": QuoteForm, "accept": AcceptForm, "deliver": DeliverForm,
                                            "cancel": ReasonForm, "dispute": ReasonForm, "pay": PayForm,
                                            "confirm": ButtonForm}


def action_form(action: str, currency: str, posted: bool = False, **defaults: Any) -> FlaskForm:
    """The form for ``action`` under its prefix, read from the request when ``posted``, amounts in ``currency``."""
    options: dict[str, Any] = {} if posted else {"formdata": None}
    form = FORM_CLASSES[action](prefix=FORM_PREFIXES[action], **options, **defaults)
    for item in form:
        if isinstance(item, MoneyField):
            item.use_currency(currency)
    return form
