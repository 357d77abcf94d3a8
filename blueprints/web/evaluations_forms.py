"""The workspace's evaluation forms (Flask-WTF, each with a CSRF token): the client's request, a reason (decline,
cancel), a bare button (accept, attach, detach) and the evaluator's report with its PDF. WTForms only reads what a
browser sends (amounts typed in yuan through ``MoneyField``, choices, a date); the rules are the service's, whose
messages are put beside the fields they name (the form's names are the API's)."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectChoice, SelectField, StringField, TextAreaField

from blueprints.web.workspace_choices import blank, labelled, numbers
from blueprints.web.workspace_sections import as_date, date_field, money_field
from hall.models import Institution
from hall.money import CURRENCIES
from hall.services.policy.evaluations_words import METHOD_WORDS


class ActionForm(FlaskForm):
    """A button that carries only the CSRF token (accept, attach, detach)."""


class ReasonForm(FlaskForm):
    """Decline or cancel, with the reason both institutions see."""

    reason = TextAreaField(_l("Reason"))


class RequestForm(FlaskForm):
    """The client engages an evaluator on one of its listings."""

    evaluator_institution_id = SelectField(_l("Evaluation institution"), default="")
    note = TextAreaField(_l("Scope of the evaluation (what you want evaluated)"))

    def offer(self, evaluators: list[Institution], english: bool) -> None:
        """The evaluators to choose from, named in the page's language."""
        self.evaluator_institution_id.choices = blank(
            SelectChoice(str(org.id), (org.name_en or org.name_zh) if english else org.name_zh)
            for org in evaluators)

    def chosen(self) -> int:
        """The evaluator's id (0 when none was chosen: the service says what to fix)."""
        value = self.evaluator_institution_id.data or ""
        return int(value) if value.isdigit() and len(value) < 10 else 0


class ReportForm(FlaskForm):
    """The evaluator's report, with its PDF; issued once, never changed after."""

    maturity_grade = SelectField(_l("Technology maturity (TRL 1–9)"), default="",
                                 choices=blank(numbers(9)))
    innovation_grade = SelectField(_l("Innovation grade (1–4)"), default="", choices=blank(numbers(4)))
    advancement_grade = SelectField(_l("Advancement grade (1–7)"), default="", choices=blank(numbers(7)))
    valuation_method = SelectField(_l("Valuation method"), default="", choices=[])
    currency = SelectField(_l("Currency"), choices=[SelectChoice(code, code) for code in CURRENCIES], default="CNY")
    value_low = money_field(_l("Value from"))
    value_high = money_field(_l("Value up to"))
    report_number = StringField(_l("Report number"))
    issued_on = date_field(_l("Issue date"))
    conclusion_zh = TextAreaField(_l("Conclusion (Chinese)"))
    conclusion_en = TextAreaField(_l("Conclusion (English)"))
    file = FileField(_l("Report (PDF)"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """The form, its method choices in words and its amounts read in the chosen currency."""
        super().__init__(*args, **kwargs)
        self.valuation_method.choices = blank(labelled(METHOD_WORDS))
        currency = self.currency.data if self.currency.data in CURRENCIES else "CNY"
        self.value_low.use_currency(currency)
        self.value_high.use_currency(currency)

    def values(self) -> dict[str, Any]:
        """The report as ``check_report`` takes it."""
        def grade(value: str | None) -> int | None:
            return int(value) if value and value.isdigit() else None

        return {"maturity_grade": grade(self.maturity_grade.data),
                "innovation_grade": grade(self.innovation_grade.data),
                "advancement_grade": grade(self.advancement_grade.data),
                "valuation_method": self.valuation_method.data or None, "currency": self.currency.data,
                "value_low": self.value_low.minor, "value_high": self.value_high.minor,
                "report_number": self.report_number.data, "issued_on": as_date(self.issued_on.data),
                "conclusion_zh": self.conclusion_zh.data, "conclusion_en": self.conclusion_en.data}
