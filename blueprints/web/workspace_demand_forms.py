"""The workspace's demand forms (Flask-WTF: each carries a CSRF token).

WTForms only reads what a browser sends (a date, a choice, an amount typed in yuan through ``MoneyField``); the
content then goes through the API's own schema (``DemandContentIn``) and the demands service, whose messages are put
beside the fields they name (the form's names are the API's)."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf

from blueprints.admin.order_forms import MoneyField
from blueprints.web.site import check_with
from blueprints.web.workspace_choices import blank, coded, numbers, region_choices, taxonomy_choices
from blueprints.web.workspace_sections import (
    MultiCheckboxField,
    as_date,
    date_field,
    major_text,
    money_field,
    split_list,
    text_or_none,
)
from hall.models.demands import DEMAND_CONTENT_FIELDS
from hall.models.listings import DEAL_MODES
from hall.money import CURRENCIES
from schemas.demands import DemandContentIn

TEXT_NAMES = ("title_zh", "title_en", "description_zh", "description_en")
MONEY_NAMES = ("budget_min", "budget_max", "bounty_amount")


class DemandForm(FlaskForm):
    """A demand's content, as the API's ``DemandContentIn`` takes it; made by ``demand_form``."""

    lock_version = HiddenField()
    title_zh = StringField(_l("Title (Chinese)"))
    title_en = StringField(_l("Title (English)"))
    description_zh = TextAreaField(_l("Description of the need (Chinese)"))
    description_en = TextAreaField(_l("Description of the need (English)"))
    keywords = StringField(_l("Keywords (separated by commas)"))
    direction_code = SelectField(_l("Direction"), default="")
    field_codes = SelectMultipleField(_l("Fields"), default=[])
    region_code = SelectField(_l("Region"), default="")
    trl_min = SelectField(_l("Lowest TRL wanted"), default="", choices=blank(numbers(9)))
    trl_max = SelectField(_l("Highest TRL wanted"), default="", choices=blank(numbers(9)))
    currency = SelectField(_l("Currency"), choices=[SelectChoice(code, code) for code in CURRENCIES], default="CNY")
    budget_min = money_field(_l("Budget from"))
    budget_max = money_field(_l("Budget up to"))
    budget_negotiable = BooleanField(_l("The budget is negotiable (面议)"))
    deadline = date_field(_l("Closes after"))
    deal_modes = MultiCheckboxField(_l("Deal modes you accept"), choices=coded(DEAL_MODES))
    bounty_amount = money_field(_l("Bounty for the solver"))

    def payload(self) -> dict[str, Any]:
        """The body ``DemandContentIn`` checks (the same shape as PATCH /api/v1/demands/<id>)."""
        data: dict[str, Any] = {name: text_or_none(self[name].data) for name in TEXT_NAMES}
        data.update(
            keywords=split_list(self.keywords.data), direction_code=self.direction_code.data or None,
            field_codes=list(self.field_codes.data or []), region_code=self.region_code.data or None,
            trl_min=int(self.trl_min.data) if self.trl_min.data else None,
            trl_max=int(self.trl_max.data) if self.trl_max.data else None,
            currency=self.currency.data, budget_negotiable=bool(self.budget_negotiable.data),
            deadline=self.deadline.data.isoformat() if self.deadline.data else None,
            deal_modes=list(self.deal_modes.data or []),
            **{name: self[name].minor for name in MONEY_NAMES})
        return data

    def content(self) -> dict[str, Any]:
        """The payload checked by the API's schema; its refusals are ``InvalidInput`` naming the fields."""
        return check_with(DemandContentIn(), self.payload())


def demand_form(*, current_region: str | None = None, **kwargs: Any) -> DemandForm:
    """The demand form, its choices in the page's language, its amounts read in the posted (or given) currency.
    ``kwargs`` go to the form (``formdata``, ``data``)."""
    form = DemandForm(**kwargs)
    form.direction_code.choices, fields = taxonomy_choices()
    form.field_codes.choices = fields[1:]  # no empty choice in a multiple select
    form.region_code.choices = region_choices(current_region or form.region_code.data)
    currency = form.currency.data if form.currency.data in CURRENCIES else "CNY"
    for name in MONEY_NAMES:
        field = form[name]
        assert isinstance(field, MoneyField)
        field.use_currency(currency)
    return form


def initial_data(content: dict[str, Any]) -> dict[str, Any]:
    """What the form shows for a demand's content (``demands.pending_content``), as WTForms' ``data``."""
    currency = content.get("currency") or "CNY"
    data: dict[str, Any] = {name: content.get(name) or "" for name in TEXT_NAMES}
    data.update(
        keywords=", ".join(content.get("keywords") or []), direction_code=content.get("direction_code") or "",
        field_codes=list(content.get("field_codes") or []), region_code=content.get("region_code") or "",
        trl_min=str(content["trl_min"]) if content.get("trl_min") else "",
        trl_max=str(content["trl_max"]) if content.get("trl_max") else "", currency=currency,
        budget_negotiable=bool(content.get("budget_negotiable")), deadline=as_date(content.get("deadline")),
        deal_modes=list(content.get("deal_modes") or []),
        **{name: major_text(content.get(name), currency) for name in MONEY_NAMES})
    return data


def changed(content: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """The checked ``content``, only what differs from the ``current`` content (dates compared as ISO text)."""
    def plain(value: Any) -> Any:
        return value.isoformat() if hasattr(value, "isoformat") else value

    return {name: value for name, value in content.items()
            if name in DEMAND_CONTENT_FIELDS and plain(value) != plain(current.get(name))}


class DemandActionForm(FlaskForm):
    """A button that changes the demand (submit, withdraw, close): only the CSRF token."""


class VerdictForm(FlaskForm):
    """Star, dismiss or take back the verdict on a match."""

    verdict = StringField(validators=[AnyOf(("star", "dismiss", "undo"))])
