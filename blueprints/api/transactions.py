"""Transaction records of your institution: list with filters, balances, CSV and XLSX exports."""
from __future__ import annotations

from typing import Any

from flask import Response, current_app
from flask_login import login_required

from blueprints.actor import actor, per_person
from blueprints.api.base import PAGINATION_HEADER, XLSX, ApiBlueprint, paginated, spreadsheet_download
from hall.extensions import limiter
from hall.services.trading import ledger
from schemas.orders import BalanceOut, LedgerEntryOut, TransactionExportIn, TransactionQueryIn

blp = ApiBlueprint("transactions", __name__, url_prefix="/transactions",
                   description="Your institution's transaction records (charges, refunds, fees, settlements)")


def _filter(args: dict[str, Any]) -> ledger.EntryFilter:
    return ledger.EntryFilter(side=args.get("side"), kind=args.get("kind"), order_id=args.get("order_id"),
                              currency=args.get("currency"), since=args.get("since"), until=args.get("until"))


@blp.route("", methods=["GET"])
@login_required
@blp.arguments(TransactionQueryIn, location="query")
@blp.response(200, LedgerEntryOut(many=True), headers=PAGINATION_HEADER)
def list_transactions(args: dict[str, Any]) -> Any:
    """Records of orders your institution bought or sold, newest first (side, kind, order, currency, dates)."""
    items, total = ledger.entries_page(actor(), _filter(args), args["page"], args["page_size"])
    return paginated(items, total, args["page"], args["page_size"])


@blp.route("/balances", methods=["GET"])
@login_required
@blp.response(200, BalanceOut(many=True))
def balances() -> Any:
    """Per currency: paid as buyer (net of refunds), received as seller, fees, settled, still due to you."""
    return ledger.institution_balances(actor())


@blp.route("/export", methods=["GET"])
@login_required
@limiter.limit(lambda: current_app.config["DIRECTORY_LIMIT"], key_func=per_person)
@blp.arguments(TransactionExportIn, location="query")
@spreadsheet_download(blp)
def export_transactions(args: dict[str, Any]) -> Response:
    """The same records as CSV (UTF-8 with BOM) or XLSX, at most EXPORT_MAX_ROWS rows."""
    limit = current_app.config["EXPORT_MAX_ROWS"]
    if args["format"] == "xlsx":
        body, mimetype = ledger.export_xlsx(actor(), _filter(args), limit), XLSX
    else:
        body, mimetype = ledger.export_csv(actor(), _filter(args), limit), "text/csv"  # Werkzeug adds the charset
    filename = f"transactions.{args['format']}"
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
