"""The order page's forms (Flask-WTF: each carries a CSRF token). Amounts are typed in the main unit of the order's
currency (yuan for CNY, e.g. 12000000.00; dollars for USD) and converted exactly by ``hall.money`` to integer minor
units — never through a float."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from hall.money import CURRENCIES, AmountError, example, minor_unit_exponent, parse_major, unit_name

AMOUNT_INPUT = {"inputmode": "decimal", "autocomplete": "off", "placeholder": "12000000.00"}
REFERENCE_MAX = 100  # the ledger keeps "settlement:" + the bank's reference in 120 characters


class MoneyField(StringField):
    """An amount typed in the main unit of ``currency`` (the order's, set by ``order_form``); after validation
    ``minor`` holds it in integer minor units. The label names the unit: ``label_for(unit_name)``."""

    minor: int | None = None
    render_kw: dict[str, Any] | None  # set by wtforms' Field (untyped: mypy cannot infer it here)

    def __init__(self, label_for: Callable[[str], str], currency: str = "CNY", **kwargs: Any) -> None:
        """A field whose label is ``label_for`` the unit's name, in ``currency`` until ``use_currency``."""
        self.label_for = label_for
        super().__init__(label_for(unit_name(currency)), **kwargs)
        self.use_currency(currency)

    def use_currency(self, currency: str) -> None:
        """Read, label and hint the amount in ``currency``'s main unit (no decimals for a currency without any)."""
        self.currency = currency
        self.label.text = self.label_for(unit_name(currency))
        inputmode = "decimal" if minor_unit_exponent(currency) else "numeric"
        self.render_kw = {**(self.render_kw or {}), "inputmode": inputmode, "placeholder": example(currency)}

    def pre_validate(self, form: Any) -> None:
        """Convert the typed text (an empty field is left to DataRequired)."""
        self.minor = None
        if not (self.data or "").strip():
            return
        try:
            self.minor = parse_major(self.data or "", self.currency)
        except AmountError as error:
            raise ValidationError(str(error)) from error


def _reference(label: Any, required: bool = True) -> StringField:
    return StringField(label, validators=[DataRequired() if required else Optional(), Length(max=REFERENCE_MAX)],
                       render_kw={"autocomplete": "off"})


class BankTransferForm(FlaskForm):
    """A transfer the platform's bank account received for the order."""

    amount = MoneyField(lambda unit: _("Amount received (%(unit)s)", unit=unit), validators=[DataRequired()],
                        render_kw=AMOUNT_INPUT)
    currency = SelectField(_l("Currency"), choices=list(CURRENCIES), validators=[DataRequired()])
    value_date = DateField(_l("Value date"), validators=[DataRequired()])
    bank_reference = _reference(_l("Bank reference of the incoming transfer"))


class RefundForm(FlaskForm):
    """Money returned to the buyer: through the card gateway, or as a bank transfer back (then with its reference)."""

    amount = MoneyField(lambda unit: _("Amount to refund (%(unit)s)", unit=unit), validators=[DataRequired()],
                        render_kw=AMOUNT_INPUT)
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])
    bank_reference = _reference(_l("Bank reference of the return transfer"), required=False)


class SettlementForm(FlaskForm):
    """A transfer the platform made to the seller for a completed order."""

    amount = MoneyField(lambda unit: _("Amount paid to the seller (%(unit)s)", unit=unit), validators=[DataRequired()],
                        render_kw=AMOUNT_INPUT)
    bank_reference = _reference(_l("Bank reference of the transfer to the seller"))
    value_date = DateField(_l("Value date"), validators=[DataRequired()])


class ResolveDisputeForm(FlaskForm):
    """Close a dispute in the seller's favour (to side with the buyer, refund instead)."""

    reason = TextAreaField(_l("How the dispute was resolved"), validators=[DataRequired(), Length(max=2000)])


# The console's names of the order queues (hall.services.console.admin_orders.ORDER_QUEUES), in lists and on the
# dashboard.
QUEUE_LABELS = {
    "payment": _l("Awaiting payment"),
    "delivery": _l("Paid, awaiting delivery"),
    "dispute": _l("Disputed"),
    "settlement": _l("Completed, money due to the seller"),
    "refund": _l("Paid after cancellation or expiry: to refund"),
}

# Each form has its own prefix so that the four can share one page (field names and ids stay unique).
FORM_PREFIXES = {"bank_transfer": "transfer", "refund": "refund", "settlement": "settlement",
                 "resolve_dispute": "dispute"}
FORM_CLASSES: dict[str, type[FlaskForm]] = {"bank_transfer": BankTransferForm, "refund": RefundForm,
                                            "settlement": SettlementForm, "resolve_dispute": ResolveDisputeForm}


def order_form(action: str, currency: str, /, **defaults: Any) -> FlaskForm:
    """The form for ``action`` under its prefix, filled from the request (or from ``defaults`` when not posted),
    with its amounts read in ``currency`` (the order's)."""
    form = FORM_CLASSES[action](prefix=FORM_PREFIXES[action], **defaults)
    for field in form:
        if isinstance(field, MoneyField):
            field.use_currency(currency)
    return form
