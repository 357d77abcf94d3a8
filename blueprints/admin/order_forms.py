"""The order page's forms (Flask-WTF: each carries a CSRF token). Amounts are typed in yuan (the currency's main
unit, e.g. 12000000.00) and converted exactly, with Decimal, to integer fen — never through a float."""
from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from hall.services.order_rules import MAX_AMOUNT
from schemas.listings import CURRENCIES

_YUAN = re.compile(r"(?:[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+)(?:\.[0-9]{1,2})?")
AMOUNT_INPUT = {"inputmode": "decimal", "autocomplete": "off", "placeholder": "12000000.00"}
REFERENCE_MAX = 100  # the ledger keeps "settlement:" + the bank's reference in 120 characters


class AmountError(ValueError):
    """The text is not an amount of money the console accepts; the message says how to write one."""


def yuan_to_fen(text: str) -> int:
    """``"12,000,000.50"`` → ``1200000050``: a positive amount with at most two decimals, exactly in minor units.

    Full-width digits are read as digits; thousands separators are allowed only in their places."""
    value = unicodedata.normalize("NFKC", text or "").strip()
    if not _YUAN.fullmatch(value):
        raise AmountError(_("Enter an amount in yuan with at most two decimals, e.g. 12000000.00."))
    fen = int(Decimal(value.replace(",", "")) * 100)
    if fen <= 0:
        raise AmountError(_("The amount must be more than zero."))
    if fen > MAX_AMOUNT:
        raise AmountError(_("The amount is larger than any order the platform carries."))
    return fen


def fen_to_yuan(fen: int) -> str:
    """Minor units as the plain decimal an admin types (``1200000050`` → ``"12000000.50"``)."""
    return f"{Decimal(fen) / 100:.2f}"


class YuanField(StringField):
    """An amount in yuan; after validation ``fen`` holds it in integer minor units."""

    fen: int | None = None

    def pre_validate(self, form: Any) -> None:
        """Convert the typed text (an empty field is left to DataRequired)."""
        self.fen = None
        if not (self.data or "").strip():
            return
        try:
            self.fen = yuan_to_fen(self.data or "")
        except AmountError as error:
            raise ValidationError(str(error)) from error


def _reference(label: Any, required: bool = True) -> StringField:
    return StringField(label, validators=[DataRequired() if required else Optional(), Length(max=REFERENCE_MAX)],
                       render_kw={"autocomplete": "off"})


class BankTransferForm(FlaskForm):
    """A transfer the platform's bank account received for the order."""

    amount = YuanField(_l("Amount received (yuan)"), validators=[DataRequired()], render_kw=AMOUNT_INPUT)
    currency = SelectField(_l("Currency"), choices=list(CURRENCIES), validators=[DataRequired()])
    value_date = DateField(_l("Value date"), validators=[DataRequired()])
    bank_reference = _reference(_l("Bank reference of the incoming transfer"))


class RefundForm(FlaskForm):
    """Money returned to the buyer: through the card gateway, or as a bank transfer back (then with its reference)."""

    amount = YuanField(_l("Amount to refund (yuan)"), validators=[DataRequired()], render_kw=AMOUNT_INPUT)
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])
    bank_reference = _reference(_l("Bank reference of the return transfer"), required=False)


class SettlementForm(FlaskForm):
    """A transfer the platform made to the seller for a completed order."""

    amount = YuanField(_l("Amount paid to the seller (yuan)"), validators=[DataRequired()], render_kw=AMOUNT_INPUT)
    bank_reference = _reference(_l("Bank reference of the transfer to the seller"))
    value_date = DateField(_l("Value date"), validators=[DataRequired()])


class ResolveDisputeForm(FlaskForm):
    """Close a dispute in the seller's favour (to side with the buyer, refund instead)."""

    reason = TextAreaField(_l("How the dispute was resolved"), validators=[DataRequired(), Length(max=2000)])


# The console's names of the order queues (hall.services.admin_orders.ORDER_QUEUES), in lists and on the dashboard.
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


def order_form(action: str, **defaults: Any) -> FlaskForm:
    """The form for ``action`` under its prefix, filled from the request (or from ``defaults`` when not posted)."""
    return FORM_CLASSES[action](prefix=FORM_PREFIXES[action], **defaults)
