"""Web pages of the annual transformation report (促进科技成果转化法 Art. 21): the institution's year (a year picker,
the summary by way of transformation, the detail rows) and its downloads (XLSX with a summary and a details sheet,
CSV of the details)."""
from __future__ import annotations

from flask import flash, render_template, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from blueprints.actor import actor
from blueprints.api.base import XLSX
from blueprints.web import web
from blueprints.web.workspace import Page, member_page
from hall.services.core.errors import InvalidInput
from hall.services.policy import contracts, contracts_annual, contracts_export


def requested_year() -> int | None:
    """The year asked for (this year when none); None when it is not a whole number."""
    text = (request.args.get("year") or "").strip()
    if not text:
        return contracts.today().year
    return int(text) if text.isdigit() and len(text) <= 4 else None


def _years() -> list[int]:
    return list(range(contracts.today().year, contracts_annual.FIRST_YEAR - 1, -1))


def _page(report: contracts_annual.AnnualReport | None, year: int | None, status: int = 200) -> Page:
    return render_template("web/contracts/annual.html", report=report, year=year, years=_years(),
                           way_name=contracts_annual.way_name, way_of=contracts_annual.way_of,
                           export=contracts_export, technology_amount=contracts.technology_amount,
                           refunded_amount=contracts.refunded_amount), status


@web.get("/workspace/reports/annual")
@member_page
def annual_report() -> Page:
    """The institution's annual transformation report for a year: counts and amounts by way of transformation
    (transfer, licence by kind, equity, other), the technology-transaction total and the contracts."""
    year = requested_year()
    try:
        report = contracts_annual.annual_report(actor(), year)
    except InvalidInput as error:
        flash(error.message, "error")
        return _page(None, year, 422)
    return _page(report, report.year)


@web.get("/workspace/reports/annual/download")
@member_page
def annual_report_download() -> Page:
    """The report as a file the institution can file: XLSX (summary and details sheets) or CSV (the details);
    a bad year or format answers the report's page with the refusal (422)."""
    file_format, year = request.args.get("format") or "xlsx", requested_year()
    if file_format not in ("xlsx", "csv"):
        flash(_("Choose XLSX or CSV."), "error")
        return _page(None, year, 422)
    try:
        report = contracts_annual.annual_report(actor(), year)
    except InvalidInput as error:
        flash(error.message, "error")
        return _page(None, year, 422)
    if file_format == "csv":
        body, mimetype = contracts_annual.report_csv(report), "text/csv"
    else:
        body, mimetype = contracts_annual.report_xlsx(report), XLSX
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="annual-report-{report.year}.{file_format}"'})
