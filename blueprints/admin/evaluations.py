"""Console pages of evaluation engagements and reports by professional institutions: every engagement (by state)
and one engagement, read-only, with its report and audit history. Admins oversee; the evaluator institutions
decide (no decision is taken here)."""
from __future__ import annotations

from flask import render_template, request

from blueprints.actor import actor
from blueprints.admin import admin
from blueprints.admin.pages import paginate
from hall.models.evaluations import ENGAGEMENT_STATUSES
from hall.services.console import admin_queries
from hall.services.policy import evaluations


@admin.get("/evaluations")
def evaluation_list() -> str:
    """Every evaluation engagement, newest first; ?status= keeps one state."""
    status = request.args.get("status") or None
    status = status if status in ENGAGEMENT_STATUSES else None
    page = paginate(evaluations.admin_engagements_query(actor(), status))
    return render_template("admin/evaluations/list.html", page=page, status=status, statuses=ENGAGEMENT_STATUSES)


@admin.get("/evaluations/<int:engagement_id>")
def evaluation_detail(engagement_id: int) -> str:
    """One engagement: the parties, the scope, the report and every step with who took it, when and why."""
    engagement = evaluations.admin_engagement(actor(), engagement_id)
    history = admin_queries.object_history(actor(), "evaluation", engagement.id)
    return render_template("admin/evaluations/detail.html", engagement=engagement, history=history)
