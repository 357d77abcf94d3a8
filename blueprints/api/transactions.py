"""Transaction records of your institution: list with filters, balances, CSV and XLSX exports."""
from __future__ import annotations

import json
from typing import Any

from flask import Response, current_app
from flask_login import current_user, login_required
from sqlalchemy import func, select

from blueprints.api.base import ApiBlueprint
from hall.extensions import db, limiter
from hall.money import to_major_text
from hall.services import ledger
from hall.services.order_queries import day_start
from hall.services.spreadsheets import to_csv, to_xlsx
from schemas.orders import BalanceOut, LedgerEntryOut, TransactionExportIn, TransactionQueryIn

blp = ApiBlueprint("transactions", __name__, url_prefix="/transactions",
                   description="Your institution's transaction records (charges, refunds, fees, settlements)")
COLUMNS = (("id", "记录号 Entry"), ("occurred_at", "时间(UTC) Time"), ("order_id", "订单 Order"),
           ("side", "我方 Side"), ("kind", "类型 Kind"), ("amount", "金额 Amount"), ("currency", "币种 Currency"),
           ("rail", "渠道 Rail"), ("provider_reference", "参考号 Reference"), ("value_date", "起息日 Value date"))


def _query(args: dict[str, Any]) -> Any:
    org_id = current_user.institution_id or 0
    since, until = args.get("since"), args.get("until")
    return ledger.entries_query(org_id, side=args.get("side"), kind=args.get("kind"), order_id=args.get("order_id"),
                                currency=args.get("currency"), since=day_start(since) if since else None,
                                until=day_start(until) if until else None)


@blp.route("", methods=["GET"])
@login_required
@blp.arguments(TransactionQueryIn, location="query")
@blp.response(200, LedgerEntryOut(many=True), headers={"X-Pagination": {"description": "total, page, page_size",
                                                                        "schema": {"type": "string"}}})
def list_transactions(args: dict[str, Any]) -> Any:
    """Records of orders your institution bought or sold, newest first (side, kind, order, currency, dates)."""
    query = _query(args)
    page, size = args["page"], args["page_size"]
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = db.session.scalars(query.offset((page - 1) * size).limit(size)).all()
    header = json.dumps({"total": total, "total_pages": -(-total // size), "page": page, "page_size": size})
    return items, {"X-Pagination": header}


@blp.route("/balances", methods=["GET"])
@login_required
@blp.response(200, BalanceOut(many=True))
def balances() -> Any:
    """Per currency: paid as buyer (net of refunds), received as seller, fees, settled, still due to you."""
    return ledger.institution_balances(current_user.institution_id or 0)


@blp.route("/export", methods=["GET"])
@login_required
@limiter.limit(lambda: current_app.config["DIRECTORY_LIMIT"], key_func=lambda: f"person:{current_user.get_id()}")
@blp.arguments(TransactionExportIn, location="query")
@blp.response(200, {"format": "binary", "type": "string"}, content_type="text/csv")
def export_transactions(args: dict[str, Any]) -> Response:
    """The same records as CSV (UTF-8 with BOM) or XLSX, at most EXPORT_MAX_ROWS rows."""
    org_id = current_user.institution_id
    limit = current_app.config["EXPORT_MAX_ROWS"]
    rows = ({"id": e.id, "occurred_at": e.occurred_at.strftime("%Y-%m-%d %H:%M:%S"), "order_id": e.order_id,
             "side": "buyer" if e.buyer_institution_id == org_id else "seller", "kind": e.kind,
             "amount": to_major_text(e.amount, e.currency), "currency": e.currency, "rail": e.rail,
             "provider_reference": e.provider_reference, "value_date": e.value_date.isoformat() if e.value_date
             else ""} for e in db.session.scalars(_query(args).limit(limit)))
    if args["format"] == "xlsx":
        body, mimetype = to_xlsx("交易记录 Transactions", COLUMNS, rows), \
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body, mimetype = to_csv(COLUMNS, rows), "text/csv; charset=utf-8"
    filename = f"transactions.{args['format']}"
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


