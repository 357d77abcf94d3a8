"""Console pages of technical-contract registration records of completed orders: every institution's records with
a period filter and the platform's registration export (CSV/XLSX), and the annual transformation figures of every
selling institution for a year."""
from __future__ import annotations

from flask import current_app, flash, render_template, request
from flask_babel import gettext as _
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from blueprints.actor import actor
from blueprints.admin import admin
from blueprints.admin.pages import paginate
from blueprints.api.base import XLSX
from hall.services.core.errors import InvalidInput
from hall.services.policy import contracts, contracts_annual, contracts_export
from hall.services.policy.contracts import ContractFilter
from schemas.contracts import ContractExportIn

FILTERS = ("from", "to", "type")


def _filters(with_format: bool = False) -> tuple[ContractFilter, dict[str, str], dict[str, list[str]], str]:
    """The period and type from the address (checked by the API's schema): filter, given, errors, format."""
    given = {name: request.args[name] for name in FILTERS if request.args.get(name)}
    asked = {**given, **({"format": request.args["format"]} if with_format and request.args.get("format") else {})}
    try:
        query = ContractExportIn().load(asked)
    except ValidationError as error:
        messages = error.messages if isinstance(error.messages, dict) else {}
        return ContractFilter(), given, {str(k): [str(m) for m in v] for k, v in messages.items()}, "csv"
    return (ContractFilter(start=query.get("start"), end=query.get("end"), contract_type=query.get("type")),
            given, {}, query["format"])


def _list_page(f: ContractFilter, given: dict[str, str], errors: dict[str, list[str]]) -> tuple[str, int]:
    if errors:
        flash(_("Nothing is shown: correct the filters marked below."), "error")
        return render_template("admin/contracts/list.html", page=None, given=given, errors=errors,
                               types=contracts.TYPE_FILTERS, export=contracts_export,
                               technology_amount=contracts.technology_amount), 422
    page = paginate(contracts.admin_query(actor(), f))
    return render_template("admin/contracts/list.html", page=page, given=given, errors=errors,
                           types=contracts.TYPE_FILTERS, export=contracts_export,
                           technology_amount=contracts.technology_amount), 200


@admin.get("/contracts")
def contract_list() -> tuple[str, int]:
    """Every institution's contract records, newest completion first, by period of completion and type."""
    f, given, errors, _format = _filters()
    return _list_page(f, given, errors)


@admin.get("/contracts/export")
def contract_export() -> Response | tuple[str, int]:
    """The platform's registration list (every institution's technology contracts) as CSV or XLSX; a bad period
    answers the list page with the filters marked (422)."""
    f, given, errors, file_format = _filters(with_format=True)
    if errors:
        return _list_page(f, given, errors)
    body = contracts_export.platform_export(actor(), f, file_format, current_app.config["EXPORT_MAX_ROWS"])
    return Response(body, mimetype=XLSX if file_format == "xlsx" else "text/csv",
                    headers={"Content-Disposition": f'attachment; filename="platform-contracts.{file_format}"'})


@admin.get("/contracts/annual")
def contract_annual() -> tuple[str, int]:
    """Each selling institution's transfers, licences, equity investments and other deals in a year."""
    text = (request.args.get("year") or "").strip()
    year = contracts.today().year if not text else (int(text) if text.isdigit() and len(text) <= 4 else None)
    years = list(range(contracts.today().year, contracts_annual.FIRST_YEAR - 1, -1))
    try:
        figures = contracts_annual.platform_figures(actor(), year)
    except InvalidInput as error:
        flash(error.message, "error")
        return render_template("admin/contracts/annual.html", figures=None, year=year, years=years,
                               way_name=contracts_annual.way_name), 422
    return render_template("admin/contracts/annual.html", figures=figures, year=year, years=years,
                           way_name=contracts_annual.way_name), 200


@admin.get("/contracts/annual/<int:org_id>/download")
def contract_annual_download(org_id: int) -> Response | tuple[str, int]:
    """One institution's annual report as the institution files it: XLSX (summary and details) or CSV (details);
    a bad year or format answers the figures page with the refusal (422)."""
    text, file_format = (request.args.get("year") or "").strip(), request.args.get("format") or "xlsx"
    year = contracts.today().year if not text else (int(text) if text.isdigit() and len(text) <= 4 else None)
    try:
        if file_format not in ("xlsx", "csv"):
            raise InvalidInput.field("format", _("Choose XLSX or CSV."))
        report = contracts_annual.annual_report(actor(), year, org_id)
    except InvalidInput as error:
        flash(error.message, "error")
        return render_template("admin/contracts/annual.html", figures=None, year=year,
                               years=list(range(contracts.today().year, contracts_annual.FIRST_YEAR - 1, -1)),
                               way_name=contracts_annual.way_name), 422
    body = contracts_annual.report_xlsx(report) if file_format == "xlsx" else contracts_annual.report_csv(report)
    return Response(body, mimetype=XLSX if file_format == "xlsx" else "text/csv", headers={
        "Content-Disposition": f'attachment; filename="annual-report-{org_id}-{report.year}.{file_format}"'})
