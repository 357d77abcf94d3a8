"""Web pages of technical-contract registration records of completed orders (技术合同认定登记): the institution's
records with a period filter and the registration export, one record with the seller's edit form (technology-
transaction amount, registration number and date). The annual transformation report's pages live in
``contracts_report_pages``. Each view parses, calls one policy service and renders or redirects."""
from __future__ import annotations

from math import ceil
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from marshmallow import ValidationError
from werkzeug.wrappers import Response
from wtforms import DateField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from blueprints.actor import actor
from blueprints.admin.order_forms import AMOUNT_INPUT, MoneyField
from blueprints.api.base import XLSX
from blueprints.web import web
from blueprints.web.site import nav_item
from blueprints.web.workspace import Page, member_page, run
from hall.models.contracts import ContractRecord
from hall.money import to_major_text
from hall.services.policy import contracts, contracts_export
from hall.services.policy.contracts import ContractFilter
from schemas.contracts import ContractExportIn, ContractQueryIn

PER_PAGE = 20
FILTERS = ("from", "to", "side", "type")

nav_item("web.workspace_contracts", _l("Contracts"), "members", position=38)


class ContractEditForm(FlaskForm):
    """The seller's edits of a record; the page's lock version refuses an edit made on a stale page."""

    technology_amount = MoneyField(lambda unit: _("Technology-transaction amount (%(unit)s)", unit=unit),
                                   validators=[Optional()], render_kw=AMOUNT_INPUT)
    technology_amount_reason = TextAreaField(_l("Why it is below the contract amount"),
                                             validators=[Optional(), Length(max=2000)])
    registration_number = StringField(_l("Registration number"), validators=[Optional(), Length(max=60)],
                                      render_kw={"autocomplete": "off"})
    registered_on = DateField(_l("Registered on"), validators=[Optional()])
    lock_version = IntegerField(validators=[DataRequired()])

    def changes(self) -> dict[str, Any]:
        """What the form asks to change, as the service reads it (a blank amount resets it to the default)."""
        return {"technology_amount": self.technology_amount.minor,
                "technology_amount_reason": (self.technology_amount_reason.data or "").strip() or None,
                "registration_number": (self.registration_number.data or "").strip() or None,
                "registered_on": self.registered_on.data}


def parse_filters(schema: Any) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The filters from the address, checked by the API's schema: (values, errors by field)."""
    names = (*FILTERS, *(name for name in ("page", "format") if name in schema.fields))
    given = {name: request.args[name] for name in names if request.args.get(name)}
    try:
        return dict(schema.load(given)), {}
    except ValidationError as error:
        messages = error.messages if isinstance(error.messages, dict) else {"_": [str(error.messages)]}
        return {}, {str(name): [str(m) for m in (msgs if isinstance(msgs, list) else [msgs])]
                    for name, msgs in messages.items()}


def contract_filter(query: dict[str, Any]) -> ContractFilter:
    """The service's filter from checked query values."""
    return ContractFilter(start=query.get("start"), end=query.get("end"), side=query.get("side"),
                          contract_type=query.get("type"))


def _given() -> dict[str, str]:
    return {name: request.args[name] for name in FILTERS if request.args.get(name)}


@web.get("/workspace/contracts")
@member_page
def workspace_contracts() -> Page:
    """The institution's contract records (as seller and buyer), newest completion first, by period of completion,
    side and type, with the registration export's downloads."""
    query, errors = parse_filters(ContractQueryIn())
    items: list[ContractRecord] = []
    total, page = 0, 1
    if errors:
        flash(_("Nothing is shown: correct the filters marked below."), "error")
    else:
        page = query["page"]
        items, total = contracts.list_own_contracts(actor(), contract_filter(query), page, PER_PAGE)
    return render_template("web/contracts/list.html", items=items, total=total, page=page,
                           pages=max(ceil(total / PER_PAGE), 1), given=_given(), errors=errors,
                           types=contracts.TYPE_FILTERS, org_id=actor().institution_id,
                           technology_amount=contracts.technology_amount,
                           type_name=contracts_export.type_name), 422 if errors else 200


@web.get("/workspace/contracts/export")
@member_page
def workspace_contracts_export() -> Page:
    """The technology contracts in the registration form's columns, CSV (UTF-8 with BOM) or XLSX; a bad period
    answers the list page with the filters marked (422)."""
    query, errors = parse_filters(ContractExportIn())
    if errors:
        return workspace_contracts()
    body = contracts_export.institution_export(actor(), contract_filter(query), query["format"],
                                               current_app.config["EXPORT_MAX_ROWS"])
    mimetype = XLSX if query["format"] == "xlsx" else "text/csv"
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="contracts.{query["format"]}"'})


def _form_for(record: ContractRecord) -> ContractEditForm:
    form = ContractEditForm(formdata=None, obj=None)
    form.technology_amount.use_currency(record.currency)
    if record.technology_amount is not None:
        form.technology_amount.data = to_major_text(record.technology_amount, record.currency)
    form.technology_amount_reason.data = record.technology_amount_reason
    form.registration_number.data = record.registration_number
    form.registered_on.data = record.registered_on
    form.lock_version.data = record.lock_version
    return form


def _contract_page(record: ContractRecord, form: ContractEditForm | None = None, status: int = 200) -> Page:
    side = contracts.side_of(actor(), record)
    editable = side == "seller" and record.category == "technology"
    return render_template("web/contracts/contract.html", record=record, side=side, editable=editable,
                           form=form or _form_for(record), net=contracts.net_amount(record),
                           refunded=contracts.refunded_amount(record),
                           technology_amount=contracts.technology_amount(record),
                           type_name=contracts_export.type_name(record), field_name=contracts_export.field_name(record),
                           ip_names=contracts_export.ip_names(record)), status


@web.get("/workspace/contracts/<int:contract_id>")
@member_page
def workspace_contract(contract_id: int) -> Page:
    """One record of the institution's orders (404 for anyone else's); the seller's edit form."""
    return _contract_page(contracts.own_contract(actor(), contract_id))


@web.post("/workspace/contracts/<int:contract_id>")
@member_page
def workspace_contract_edit(contract_id: int) -> Page:
    """Seller: the technology-transaction amount (with the reason it is lower) and the registration number and
    date; refused beside the fields, or on top when the page was stale."""
    record = contracts.own_contract(actor(), contract_id)
    form = ContractEditForm()
    form.technology_amount.use_currency(record.currency)
    if not form.validate_on_submit():
        flash(_("Nothing was changed: correct the fields marked below."), "error")
        return _contract_page(record, form, 422)
    outcome = run(form, lambda: contracts.edit_contract(actor(), contract_id, form.changes(),
                                                        form.lock_version.data))
    if outcome.refused:
        return _contract_page(contracts.own_contract(actor(), contract_id), form, outcome.status or 500)
    flash(_("The contract record is saved."), "success")
    return redirect(url_for("web.workspace_contract", contract_id=contract_id))


@web.app_template_global("contract_record_of")
def contract_record_of(order_id: int) -> ContractRecord | None:
    """For the order pages (workspace and console): the record of the order the page shows, if it completed."""
    return contracts.record_for_shown_order(order_id)


from blueprints.web import contracts_report_pages  # noqa: E402,F401  (the annual report's pages)
