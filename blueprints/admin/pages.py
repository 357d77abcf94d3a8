"""The dashboard and the audit log."""
from __future__ import annotations

from datetime import datetime, time, timezone
from typing import Any

from flask import render_template, request

from blueprints.actor import actor
from blueprints.admin import admin
from blueprints.admin.order_forms import QUEUE_LABELS
from hall.extensions import db
from hall.services.console import admin_orders, admin_queries
from hall.services.core.audit import verify_chain

PER_PAGE = 25
MAX_PAGE = 10_000


def paginate(query: Any, *, count: bool = True) -> Any:
    """One page of ``query``; the page number comes from ?page=, kept between 1 and MAX_PAGE."""
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)
    return db.paginate(query, page=page, per_page=PER_PAGE, error_out=False, count=count)


def _date(name: str, end: bool = False) -> datetime | None:
    value = request.args.get(name, "").strip()
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date() if value else None
    except ValueError:
        return None
    if day is None:
        return None
    return datetime.combine(day, time.max if end else time.min, tzinfo=timezone.utc)


@admin.get("/")
def dashboard() -> str:
    """What waits for a decision, and for how long."""
    summary = admin_queries.dashboard(actor())
    return render_template("admin/dashboard.html", summary=summary,
                           waiting_hours=admin_queries.waiting_since(summary.oldest_waiting),
                           order_counts=admin_orders.order_counts(actor()), queue_labels=QUEUE_LABELS)


@admin.get("/audit")
def audit_log() -> str:
    """The audit trail filtered by object, actor and date, with the hash chain's verdict."""
    args = request.args
    query = admin_queries.audit_query(actor(), args.get("object_type") or None, args.get("object_id") or None,
                                      args.get("actor") or None, _date("date_from"), _date("date_to", end=True))
    page = paginate(query)
    verdict = verify_chain() if args.get("verify") else None  # walks the whole chain: only when asked
    return render_template("admin/audit.html", page=page, emails=admin_queries.actor_emails(page.items),
                           verdict=verdict, args=args)
