"""The API of technical-contract registration records of completed orders (技术合同认定登记) and of the annual
transformation report (促进科技成果转化法 Art. 21)."""
from __future__ import annotations

from typing import Any

from flask import Response, current_app
from flask_login import login_required

from blueprints.actor import actor, per_person
from blueprints.api.base import BINARY, PAGINATION_HEADER, XLSX, ApiBlueprint, paginated, spreadsheet_download
from hall.extensions import limiter
from hall.services.policy import contracts, contracts_annual, contracts_export
from hall.services.policy.contracts import ContractFilter
from schemas.common import ErrorSchema
from schemas.contracts import (
    AnnualQueryIn,
    AnnualReportOut,
    ContractEtagSchema,
    ContractExportIn,
    ContractOut,
    ContractPatchIn,
    ContractQueryIn,
    present_annual,
    present_contract,
)

blp = ApiBlueprint("contracts", __name__, description="Technical-contract registration records of completed orders "
                   "(技术合同认定登记) and the annual transformation report")


def _filter(args: dict[str, Any]) -> ContractFilter:
    return ContractFilter(start=args.get("start"), end=args.get("end"), side=args.get("side"),
                          contract_type=args.get("type"))


def _present(record: Any) -> dict[str, Any]:
    blp.set_etag(record, ContractEtagSchema)
    return present_contract(record, contracts.side_of(actor(), record))


def _download(body: bytes, file_format: str, name: str) -> Response:
    mimetype = XLSX if file_format == "xlsx" else "text/csv"
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{name}.{file_format}"'})


@blp.route("/contracts", methods=["GET"])
@login_required
@blp.arguments(ContractQueryIn, location="query")
@blp.response(200, ContractOut(many=True), headers=PAGINATION_HEADER)
def list_contracts(args: dict[str, Any]) -> Any:
    """Your institution's contract records (as seller, buyer or both), newest completion first, by period of
    completion (from/to, inclusive), side and type; totals in X-Pagination."""
    items, total = contracts.list_own_contracts(actor(), _filter(args), args["page"], args["page_size"])
    me = actor()
    return paginated([present_contract(r, contracts.side_of(me, r)) for r in items], total, args["page"],
                     args["page_size"])


@blp.route("/contracts/export", methods=["GET"])
@login_required
@limiter.limit(lambda: current_app.config["DIRECTORY_LIMIT"], key_func=per_person)
@blp.arguments(ContractExportIn, location="query")
@spreadsheet_download(blp)
def export_contracts(args: dict[str, Any]) -> Response:
    """Your technology contracts in the registration form's columns (headers in your language), CSV (UTF-8 with
    BOM) or XLSX; a side column says whether your institution sold or bought. Product sales are left out."""
    body = contracts_export.institution_export(actor(), _filter(args), args["format"],
                                               current_app.config["EXPORT_MAX_ROWS"])
    return _download(body, args["format"], "contracts")


@blp.route("/contracts/<int:contract_id>", methods=["GET"])
@login_required
@blp.etag
@blp.response(200, ContractOut)
@blp.alt_response(404, schema=ErrorSchema, description="No contract record of your institution with this id.")
def read_contract(contract_id: int) -> Any:
    """One record of your institution's orders; the ETag guards the seller's edits."""
    return _present(contracts.own_contract(actor(), contract_id))


@blp.route("/contracts/<int:contract_id>", methods=["PATCH"])
@login_required
@blp.etag
@blp.arguments(ContractPatchIn)
@blp.response(200, ContractOut)
@blp.alt_response(403, schema=ErrorSchema, description="Only the seller edits the record.")
@blp.alt_response(404, schema=ErrorSchema, description="No contract record of your institution with this id.")
@blp.alt_response(409, schema=ErrorSchema, description="A sales contract, or a stale edit.")
def edit_contract(changes: dict[str, Any], contract_id: int) -> Any:
    """Seller: the technology-transaction amount (lower than the amount net of refunds needs a reason) and the
    registry's number and date. Send If-Match with the ETag you read (428 without, 412 when stale)."""
    record = contracts.own_contract(actor(), contract_id)
    blp.check_etag(record, ContractEtagSchema)
    return _present(contracts.edit_contract(actor(), contract_id, changes, record.lock_version))


@blp.route("/reports/annual", methods=["GET"])
@login_required
@limiter.limit(lambda: current_app.config["DIRECTORY_LIMIT"], key_func=per_person)
@blp.arguments(AnnualQueryIn, location="query")
@blp.response(200, AnnualReportOut)
@blp.alt_response(200, success=True, content_type="text/csv", schema=BINARY)
@blp.alt_response(200, success=True, content_type=XLSX, schema=BINARY)
@blp.alt_response(403, schema=ErrorSchema, description="You belong to no institution.")
@blp.alt_response(404, schema=ErrorSchema, description="Another institution (members), or no such one (admins).")
def annual_report(args: dict[str, Any]) -> Any:
    """Your institution's annual transformation report for a year (2000 to this year): transfers, licences by
    kind, equity investments and other deals as seller, counts and amounts per way and currency, and the detail
    rows. format=json (default), csv (the details) or xlsx (a summary sheet and a details sheet). Admins may ask
    for any institution's report with ``institution``."""
    report = contracts_annual.annual_report(actor(), args["year"], args.get("institution"))
    if args["format"] == "xlsx":
        return _download(contracts_annual.report_xlsx(report), "xlsx", f"annual-report-{report.year}")
    if args["format"] == "csv":
        return _download(contracts_annual.report_csv(report), "csv", f"annual-report-{report.year}")
    return present_annual(report)
