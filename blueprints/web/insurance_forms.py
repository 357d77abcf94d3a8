"""The workspace's insurance forms (Flask-WTF: each carries a CSRF token): a policy (amounts typed in yuan), the
policy year of a new application, a document upload, and the buttons that only need the token.

WTForms only reads what a browser sends; the policy then goes through the API's own schema and the service, whose
messages are put beside the fields they name (the form's names are the API's)."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from marshmallow import ValidationError
from wtforms import HiddenField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired

from blueprints.web.workspace_sections import date_field, iso_date, major_text, money_field, text_or_none, whole_field
from hall.models.insurance import DOCUMENT_KINDS, InsurancePolicy
from schemas.insurance import InsurancePolicyEditIn, InsurancePolicyIn

DOCUMENT_LABELS = {"policy": _l("The insurance policy"), "premium_invoice": _l("Premium invoice"),
                   "payment_proof": _l("Proof of premium payment"), "other": _l("Other document")}


class PolicyForm(FlaskForm):
    """A policy of one of the institution's recognised first-of-kind products."""

    lock_version = HiddenField()
    listing_id = SelectField(_l("Insured product"), default="")
    insurer = StringField(_l("Insurer"))
    policy_number = StringField(_l("Policy number"), render_kw={"autocomplete": "off"})
    coverage = TextAreaField(_l("Coverage (the risks insured: quality, liability …)"))
    insured_amount = money_field(_l("Insured amount"))
    premium = money_field(_l("Premium of one policy year"))
    premium_rate_bp = whole_field(_l("Premium rate (basis points, 300 = 3 %)"))
    period_start = date_field(_l("Policy period from"))
    period_end = date_field(_l("Policy period until"))

    def content(self) -> dict[str, Any]:
        """What the fields hold, as the API's schema takes it (an empty field is left out)."""
        values = {
            "listing_id": int(self.listing_id.data) if str(self.listing_id.data or "").isdigit() else None,
            "insurer": text_or_none(self.insurer.data), "policy_number": text_or_none(self.policy_number.data),
            "coverage": text_or_none(self.coverage.data), "insured_amount": self.insured_amount.minor,
            "premium": self.premium.minor, "premium_rate_bp": self.premium_rate_bp.data,
            "period_start": iso_date(self.period_start.data), "period_end": iso_date(self.period_end.data),
        }
        return {key: value for key, value in values.items() if value is not None}

    def checked(self, editing: bool) -> dict[str, Any] | None:
        """The content loaded by the API's schema; None (with the messages beside the fields) when it refuses."""
        data = self.content()
        if editing:
            data.pop("listing_id", None)
        schema = InsurancePolicyEditIn() if editing else InsurancePolicyIn()
        try:
            return dict(schema.load(data))
        except ValidationError as error:
            messages = error.messages if isinstance(error.messages, dict) else {}
            for name, found in messages.items():
                target = name if name in self else "insurer"
                self[target].errors = [str(m) for m in (found if isinstance(found, list) else [found])]
            return None


def policy_data(policy: InsurancePolicy) -> dict[str, Any]:
    """A stored policy as the form's initial values (amounts in yuan)."""
    return {"listing_id": str(policy.listing_id), "insurer": policy.insurer, "policy_number": policy.policy_number,
            "coverage": policy.coverage, "insured_amount": major_text(policy.insured_amount, policy.currency),
            "premium": major_text(policy.premium, policy.currency), "premium_rate_bp": policy.premium_rate_bp,
            "period_start": policy.period_start, "period_end": policy.period_end}


class ApplicationStartForm(FlaskForm):
    """The policy year a new application is for."""

    policy_year = SelectField(_l("Policy year"), validators=[InputRequired()])


class DocumentForm(FlaskForm):
    """A PDF for a draft application."""

    file = FileField(_l("Document (PDF)"), validators=[FileRequired(_l("Choose a file."))])
    kind = SelectField(_l("What it is"), choices=[SelectChoice(kind, DOCUMENT_LABELS[kind]) for kind in DOCUMENT_KINDS],
                       default="policy")


class InsuranceActionForm(FlaskForm):
    """A button that changes an application (file, withdraw): only the CSRF token."""
