"""The parts of the workspace's listing form: the rows of intellectual property, the professional evaluation, the
first-of-kind recognition with its insurance policy, and the small conversions between what a browser sends and
what the API's schema reads (text, dates, whole numbers, amounts typed in the currency's main unit)."""
from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    Form,
    FormField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget

from blueprints.admin.order_forms import AMOUNT_INPUT, MoneyField
from blueprints.web.workspace_choices import (
    COMPENSATION_LABELS,
    STOCK_UNIT_LABELS,
    blank,
    coded,
    labelled,
    numbers,
)
from hall.models.listings import PRODUCT_KINDS, RECOGNITION_LEVELS
from hall.money import to_major_text
from schemas.listings import IP_LEGAL_STATUSES, IP_TYPES

_SEPARATORS = re.compile(r"[\n\r,，、;；]+")


def split_list(text: str | None) -> list[str]:
    """Items typed one per line or separated by commas (Chinese punctuation too), trimmed, empty ones dropped."""
    return [item.strip() for item in _SEPARATORS.split(text or "") if item.strip()]


def text_or_none(value: str | None) -> str | None:
    """An empty text field is absent (None), as an API client would leave it out."""
    value = (value or "").strip()
    return value or None


def iso_date(value: date | None) -> str | None:
    """A date as ISO text for the schema (None stays None)."""
    return value.isoformat() if value else None


def as_date(value: Any) -> date | None:
    """An ISO date stored in a JSON column as a date for a DateField (None when it is not one)."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def present(values: dict[str, Any]) -> dict[str, Any]:
    """The entries that hold something (nested objects keep only what was filled in)."""
    return {key: value for key, value in values.items() if value is not None}


def major_text(amount: Any, currency: str) -> str:
    """Minor units as the text a money field offers to edit ('' when there is no amount)."""
    return to_major_text(amount, currency) if isinstance(amount, int) and not isinstance(amount, bool) else ""


class MultiCheckboxField(SelectMultipleField):
    """Several choices as checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def date_field(label: Any) -> DateField:
    """An optional date (a browser date picker)."""
    return DateField(label, validators=[Optional()])


def whole_field(label: Any) -> IntegerField:
    """An optional whole number."""
    return IntegerField(label, validators=[Optional()], render_kw={"inputmode": "numeric"})


def money_field(label: Any) -> MoneyField:
    """An optional amount typed in the main unit of the listing's currency, its label naming the unit."""
    return MoneyField(lambda unit: _("%(label)s (%(unit)s)", label=label, unit=unit), render_kw=AMOUNT_INPUT)


class IpAssetForm(Form):
    """One patent, copyright or other right (a row; a row left empty is ignored)."""

    ip_type = SelectField(_l("Type"), default="", choices=blank(coded(IP_TYPES)))
    number = StringField(_l("Number"), render_kw={"placeholder": "CN202310123456.7", "autocomplete": "off"})
    title = StringField(_l("Title"))
    legal_status = SelectField(_l("Legal status"), default="", choices=blank(coded(IP_LEGAL_STATUSES)))
    expiry_date = date_field(_l("Expiry date"))
    co_owners = StringField(_l("Co-owners (separated by commas)"))

    def content(self) -> dict[str, Any] | None:
        """The row as ``IpAssetIn`` reads it, or None when nothing was filled in."""
        values = {"ip_type": self.ip_type.data or None, "number": text_or_none(self.number.data),
                  "title": text_or_none(self.title.data), "legal_status": self.legal_status.data or None,
                  "expiry_date": iso_date(self.expiry_date.data)}
        owners = split_list(self.co_owners.data)
        if not any(values.values()) and not owners and not "".join(self.expiry_date.raw_data or []).strip():
            return None
        return {**present(values), **({"co_owners": owners} if owners else {})}


class EvaluationForm(Form):
    """A professional evaluation (GB/T 22900); left empty, the achievement has none."""

    maturity_level = SelectField(_l("Maturity level (1–9)"), default="", choices=blank(numbers(9)))
    innovation_level = SelectField(_l("Innovation level (1–4)"), default="", choices=blank(numbers(4)))
    advancement_level = SelectField(_l("Advancement level (1–7)"), default="", choices=blank(numbers(7)))
    evaluator = StringField(_l("Evaluator"))
    report_number = StringField(_l("Report number"))
    report_date = date_field(_l("Report date"))

    def content(self) -> dict[str, Any] | None:
        """The evaluation as ``EvaluationIn`` reads it, or None when nothing was filled in."""
        values = present({
            "maturity_level": int(self.maturity_level.data) if self.maturity_level.data else None,
            "innovation_level": int(self.innovation_level.data) if self.innovation_level.data else None,
            "advancement_level": int(self.advancement_level.data) if self.advancement_level.data else None,
            "evaluator": text_or_none(self.evaluator.data), "report_number": text_or_none(self.report_number.data),
            "report_date": iso_date(self.report_date.data)})
        return values or None


class InsuranceForm(Form):
    """The first-of-kind insurance compensation policy; left empty, the product has none."""

    insurer = StringField(_l("Insurer"))
    policy_number = StringField(_l("Policy number"))
    insured_amount = money_field(_l("Insured amount"))
    premium = money_field(_l("Premium"))
    premium_rate_bp = whole_field(_l("Premium rate (basis points, 300 = 3 %)"))
    period_start = date_field(_l("Period start"))
    period_end = date_field(_l("Period end"))
    compensation_status = SelectField(_l("Compensation status"), default="",
                                      choices=blank(labelled(COMPENSATION_LABELS)))

    def content(self) -> dict[str, Any] | None:
        """The policy as ``InsuranceIn`` reads it, or None when nothing was filled in."""
        values = present({
            "insurer": text_or_none(self.insurer.data), "policy_number": text_or_none(self.policy_number.data),
            "insured_amount": self.insured_amount.minor, "premium": self.premium.minor,
            "premium_rate_bp": self.premium_rate_bp.data, "period_start": iso_date(self.period_start.data),
            "period_end": iso_date(self.period_end.data), "compensation_status": self.compensation_status.data or None})
        return values or None


class FirstOfKindForm(Form):
    """Recognition and product facts of a first-of-kind product, and its stock."""

    product_kind = SelectField(_l("Product kind"), default="", choices=blank(coded(PRODUCT_KINDS)))
    recognition_level = SelectField(_l("Recognition level"), default="", choices=blank(coded(RECOGNITION_LEVELS)))
    catalogue = StringField(_l("Catalogue"))
    catalogue_edition = StringField(_l("Catalogue edition"), render_kw={"placeholder": "2024"})
    catalogue_item = StringField(_l("Catalogue item"))
    authority = StringField(_l("Recognising authority"))
    announcement_number = StringField(_l("Announcement number"))
    announcement_date = date_field(_l("Announcement date"))
    valid_from = date_field(_l("Recognition valid from"))
    valid_until = date_field(_l("Recognition valid until"))
    certificate_number = StringField(_l("Certificate number"))
    model = StringField(_l("Model"))
    specifications = TextAreaField(_l("Specifications and key indicators"))
    benchmarks = TextAreaField(_l("Against domestic and international benchmarks"))
    stock = whole_field(_l("Stock (units or batches offered in all)"))
    stock_unit = SelectField(_l("Unit of stock"), default="", choices=blank(labelled(STOCK_UNIT_LABELS)))
    lead_time_days = whole_field(_l("Lead time (days)"))
    insurance = FormField(InsuranceForm, label=_l("Insurance compensation"))

    def content(self) -> dict[str, Any]:
        """The details as ``FirstOfKindIn`` reads them (only what was filled in)."""
        texts = ("catalogue", "catalogue_edition", "catalogue_item", "authority", "announcement_number",
                 "certificate_number", "model", "specifications", "benchmarks")
        values: dict[str, Any] = {name: text_or_none(self[name].data) for name in texts}
        values.update(product_kind=self.product_kind.data or None,
                      recognition_level=self.recognition_level.data or None,
                      announcement_date=iso_date(self.announcement_date.data),
                      valid_from=iso_date(self.valid_from.data), valid_until=iso_date(self.valid_until.data),
                      stock=self.stock.data,
                      stock_unit=self.stock_unit.data or None, lead_time_days=self.lead_time_days.data,
                      insurance=self.insurance.form.content())
        return present(values)
