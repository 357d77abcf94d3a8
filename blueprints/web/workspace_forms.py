"""The workspace's listing forms (Flask-WTF: each carries a CSRF token).

WTForms only reads what a browser sends (a date, a whole number, an amount typed in yuan through ``hall.money``);
the content then goes through the API's own schema (``ListingContentIn``) and the listings service, whose messages
are put beside the fields they name. Nested names (``first_of_kind.insurance.period_end``, ``ip_assets.0.number``)
are resolved to the sub-form's field, so ``admin.actions.form_action`` places them like any other."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from marshmallow import ValidationError
from wtforms import (
    BooleanField,
    Field,
    FieldList,
    FormField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)

from blueprints.admin.order_forms import MoneyField
from blueprints.web.workspace_choices import ATTACHMENT_ROLE_LABELS, blank, coded, configure_choices, numbers
from blueprints.web.workspace_sections import (
    EvaluationForm,
    FirstOfKindForm,
    IpAssetForm,
    MultiCheckboxField,
    as_date,
    major_text,
    money_field,
    split_list,
    text_or_none,
)
from hall.library_messages import translate_library_message
from hall.models.listings import ATTACHMENT_ROLES, LANGUAGES, PRICE_MODES, TEXT_FIELDS
from hall.money import CURRENCIES
from hall.services.core.errors import InvalidInput
from schemas.listings import ListingContentIn

TEXT_NAMES = tuple(f"{name}_{lang}" for name in TEXT_FIELDS for lang in LANGUAGES)
MAX_IP_ROWS = 50  # as ListingContentIn.ip_assets
_CONTAINERS = (FormField, FieldList)


def plain_fields(form: Any) -> Iterator[Field]:
    """Every field of ``form`` that shows messages, those of sub-forms and rows included."""
    for item in form:
        if isinstance(item, FormField):
            yield from plain_fields(item.form)
        elif isinstance(item, FieldList):
            for entry in item.entries:
                yield from plain_fields(entry.form)
        else:
            yield item


def translate_errors(form: Any) -> None:
    """Show the schemas' and services' messages (written in English) in the page's language."""
    for item in plain_fields(form):
        item.errors = [translate_library_message(str(message)) for message in item.errors]


class ListingForm(FlaskForm):
    """A listing's content, as the API's ``ListingContentIn`` takes it; made by ``listing_form`` for one kind."""

    lock_version = HiddenField()
    title_zh = StringField(_l("Title (Chinese)"))
    title_en = StringField(_l("Title (English)"))
    summary_zh = TextAreaField(_l("Non-confidential summary (Chinese)"))
    summary_en = TextAreaField(_l("Non-confidential summary (English)"))
    description_zh = TextAreaField(_l("Description (Chinese)"))
    description_en = TextAreaField(_l("Description (English)"))
    benefit_zh = TextAreaField(_l("Problem solved and benefit over what exists (Chinese)"))
    benefit_en = TextAreaField(_l("Problem solved and benefit over what exists (English)"))
    scenarios_zh = TextAreaField(_l("Application scenarios (Chinese)"))
    scenarios_en = TextAreaField(_l("Application scenarios (English)"))
    keywords = StringField(_l("Keywords (separated by commas)"))
    direction_code = SelectField(_l("Direction"), default="")
    field_code = SelectField(_l("Field"), default="")
    region_code = SelectField(_l("Region"), default="")
    trl = SelectField(_l("Technology readiness level (TRL)"), default="", choices=blank(numbers(9)))
    evaluation = FormField(EvaluationForm, label=_l("Professional evaluation"))
    ip_assets = FieldList(FormField(IpAssetForm), label=_l("Intellectual property"), min_entries=1,
                          max_entries=MAX_IP_ROWS)
    inventors = TextAreaField(_l("Inventors (one per line)"))
    deal_modes = MultiCheckboxField(_l("Deal modes offered"))
    price_mode = SelectField(_l("Price"), default="", choices=blank(coded(PRICE_MODES)))
    currency = SelectField(_l("Currency"), choices=[SelectChoice(code, code) for code in CURRENCIES],
                           default="CNY")
    price_amount = money_field(_l("Amount"))
    state_funded = BooleanField(_l("State-funded achievement (its negotiated price is publicly posted first)"))
    funding_source = StringField(_l("Funding source"))
    first_of_kind = FormField(FirstOfKindForm, label=_l("First-of-kind recognition and product"))

    kind: str = "achievement"
    _ip_rows: list[int]

    # --- nested names: "first_of_kind.insurance.period_end", "ip_assets.0.number" ---------------------------

    def __contains__(self, name: object) -> bool:
        """Whether ``name`` (dotted for nested fields) leads to a field that can show a message."""
        return isinstance(name, str) and self.find(name) is not None

    def __getitem__(self, name: str) -> Field:
        """The field ``name`` names (dotted for nested fields)."""
        found = self.find(name)
        if found is None:
            raise KeyError(name)
        return found

    def find(self, path: str) -> Field | None:
        """The field a message about ``path`` belongs beside: a nested name leads into sub-forms and rows; a name
        below a plain field (``keywords.0``) stays with that field; a sub-form itself shows no message."""
        node: Any = self._fields.get(path.split(".", 1)[0])
        for part in path.split(".")[1:]:
            if isinstance(node, FieldList):
                node = node.entries[int(part)] if part.isdigit() and int(part) < len(node.entries) else None
            elif isinstance(node, FormField):
                node = node.form._fields.get(part)
            else:
                break
            if node is None:
                return None
        return None if node is None or isinstance(node, _CONTAINERS) else node

    def has_errors(self) -> bool:
        """Whether any field (nested ones included) shows a message."""
        return any(item.errors for item in plain_fields(self))

    # --- what the form says, as the API takes it ----------------------------------------------------------------

    def payload(self) -> dict[str, Any]:
        """The body ``ListingContentIn`` checks (the same shape as PATCH /api/v1/listings/<id>)."""
        data: dict[str, Any] = {name: text_or_none(self[name].data) for name in TEXT_NAMES}
        ip_rows = [(index, entry.form.content()) for index, entry in enumerate(self.ip_assets.entries)]
        self._ip_rows = [index for index, row in ip_rows if row is not None]
        data.update(
            keywords=split_list(self.keywords.data), direction_code=self.direction_code.data or None,
            field_code=self.field_code.data or None, region_code=self.region_code.data or None,
            trl=int(self.trl.data) if self.trl.data else None,
            ip_assets=[row for _index, row in ip_rows if row is not None], inventors=split_list(self.inventors.data),
            deal_modes=list(self.deal_modes.data or []), price_mode=self.price_mode.data or None,
            price_amount=self.price_amount.minor, currency=self.currency.data,
            state_funded=bool(self.state_funded.data) if "state_funded" in self._fields else None,
            funding_source=text_or_none(self.funding_source.data))
        if "evaluation" in self._fields:
            data["evaluation"] = self.evaluation.form.content()
        if "first_of_kind" in self._fields:
            data["first_of_kind"] = self.first_of_kind.form.content()
        return {name: value for name, value in data.items() if name in self._fields}

    def content(self) -> dict[str, Any]:
        """The payload checked by the API's schema; its refusals are ``InvalidInput`` with dotted field names
        (the rows of ``ip_assets`` numbered as on the form)."""
        try:
            loaded: dict[str, Any] = ListingContentIn().load(self.payload())
        except ValidationError as error:
            messages = error.messages if isinstance(error.messages, Mapping) else {"_schema": error.messages}
            raise InvalidInput(_("Fix the fields named in errors."), self._dotted(messages)) from None
        return loaded

    def _dotted(self, errors: Mapping[Any, Any], prefix: str = "") -> dict[str, list[str]]:
        flat: dict[str, list[str]] = {}
        for key, value in errors.items():
            name = f"{prefix}{key}"
            if prefix == "ip_assets." and str(key).isdigit() and int(key) < len(self._ip_rows):
                name = f"ip_assets.{self._ip_rows[int(key)]}"
            if isinstance(value, Mapping):
                flat.update(self._dotted(value, name + "."))
            else:
                items = value if isinstance(value, (list, tuple)) else [value]
                flat.setdefault(name, []).extend(str(item) for item in items)
        return flat

    def add_ip_row(self) -> None:
        """One more empty IP row (the no-JS "add another" button)."""
        if len(self.ip_assets.entries) < MAX_IP_ROWS:
            self.ip_assets.append_entry()


def listing_form(kind: str, *, current_region: str | None = None, **kwargs: Any) -> ListingForm:
    """The form for a listing of ``kind`` (its sections only), its choices in the page's language, its amounts
    read in the posted (or given) currency. ``kwargs`` go to the form (``formdata``, ``data``)."""
    form = ListingForm(**kwargs)
    form.kind = kind
    if kind == "first_of_kind":
        del form.evaluation
        del form.state_funded  # the public-notice rule is about state-funded achievements
    else:
        del form.first_of_kind
    configure_choices(form, kind, current_region or form.region_code.data)
    currency = form.currency.data if form.currency.data in CURRENCIES else "CNY"
    for item in plain_fields(form):
        if isinstance(item, MoneyField):
            item.use_currency(currency)
    return form


def initial_data(kind: str, version: Any) -> dict[str, Any]:
    """What the form shows for ``version`` (a listing's working version), as WTForms' ``data``."""
    currency = version.currency or "CNY"
    data: dict[str, Any] = {name: getattr(version, name) or "" for name in TEXT_NAMES}
    data.update(
        keywords=", ".join(version.keywords or []), direction_code=version.direction_code or "",
        field_code=version.field_code or "", region_code=version.region_code or "",
        trl=str(version.trl) if version.trl else "", inventors="\n".join(version.inventors or []),
        deal_modes=list(version.deal_modes or []), price_mode=version.price_mode or "", currency=currency,
        price_amount=major_text(version.price_amount, currency), state_funded=bool(version.state_funded),
        funding_source=version.funding_source or "",
        ip_assets=[{**row, "expiry_date": as_date(row.get("expiry_date")),
                    "co_owners": ", ".join(row.get("co_owners") or [])} for row in version.ip_assets or []] or [{}])
    evaluation = dict(version.evaluation or {})
    data["evaluation"] = {**{key: str(value) for key, value in evaluation.items() if key.endswith("_level")},
                          "evaluator": evaluation.get("evaluator") or "",
                          "report_number": evaluation.get("report_number") or "",
                          "report_date": as_date(evaluation.get("report_date"))}
    if kind == "first_of_kind":
        details = dict(version.first_of_kind or {})
        insurance = dict(details.pop("insurance", None) or {})
        for name in ("announcement_date", "valid_from", "valid_until"):
            details[name] = as_date(details.get(name))
        for name in ("insured_amount", "premium"):
            insurance[name] = major_text(insurance.get(name), currency)
        for name in ("period_start", "period_end"):
            insurance[name] = as_date(insurance.get(name))
        data["first_of_kind"] = {**details, "insurance": insurance}
    return data


def new_listing_data(kind: str) -> dict[str, Any]:
    """What an empty form for a new listing of ``kind`` shows."""
    return {"currency": "CNY", "deal_modes": ["purchase"] if kind == "first_of_kind" else [], "ip_assets": [{}]}


class UploadForm(FlaskForm):
    """A PDF or image for the version being edited; ``cover`` makes an image the listing's cover."""

    file = FileField(_l("File (PDF, PNG, JPEG or WebP)"), validators=[FileRequired(_l("Choose a file."))])
    role = SelectField(_l("Use"), choices=[SelectChoice(role, ATTACHMENT_ROLE_LABELS[role])
                                           for role in ATTACHMENT_ROLES], default="attachment")


class ActionForm(FlaskForm):
    """A button that changes the listing (submit, withdraw, remove a file): only the CSRF token."""
