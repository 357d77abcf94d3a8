"""Demand review (技术需求): the queue (and every demand by status), the review page with a revision's differences
from the published content, the decisions."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response
from wtforms import IntegerField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from blueprints.actor import actor
from blueprints.admin import admin
from blueprints.admin.actions import form_action
from blueprints.admin.pages import paginate
from hall.extensions import db
from hall.models import Demand
from hall.models.demands import DEMAND_CONTENT_FIELDS, DEMAND_STATUSES
from hall.services.console import admin_queries
from hall.services.core.errors import Conflict
from hall.services.docking import demand_review
from hall.services.docking.demand_rules import content_of

DEMAND_ACTIONS = ("approve", "request_changes", "reject", "suspend", "reinstate")


class DemandDecisionForm(FlaskForm):
    """A decision on a demand; the lock version of the page refuses decisions taken on stale pages."""

    action = StringField(validators=[DataRequired(), AnyOf(DEMAND_ACTIONS)])
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)])
    lock_version = IntegerField(validators=[DataRequired()])


@admin.get("/demands")
def demand_queue() -> str:
    """Demands and revisions awaiting review, oldest first; or, with ?status=, every demand in that status."""
    status = request.args.get("status") or None
    status = status if status in DEMAND_STATUSES else None
    q = request.args.get("q", "")
    page = paginate(demand_review.demands_query(actor(), status, q or None))
    return render_template("admin/demands.html", page=page, status=status, statuses=DEMAND_STATUSES, q=q)


def _demand(demand_id: int) -> Demand:
    demand = db.session.get(Demand, demand_id)
    if demand is None:
        raise NotFound()
    return demand


def _history(demand: Demand) -> list[Any]:
    events = admin_queries.object_history(actor(), "demand", demand.id) + \
        admin_queries.object_history(actor(), "demand_revision", demand.id)
    return sorted(events, key=lambda pair: pair[0].id)


def revision_diff(demand: Demand) -> list[tuple[str, Any, Any]]:
    """(field, published value, revised value) for every field the pending revision changes."""
    if demand.revision is None:
        return []
    published = content_of(demand)
    return [(name, published.get(name), demand.revision.get(name)) for name in DEMAND_CONTENT_FIELDS
            if name in demand.revision and demand.revision.get(name) != published.get(name)]


def _render(demand: Demand, form: DemandDecisionForm, status: int = 200) -> tuple[str, int]:
    waiting = None
    try:
        waiting = demand_review.pending_submission(demand)
    except Conflict:
        pass
    diff = revision_diff(demand) if waiting == "revision" else []
    return render_template("admin/demand.html", demand=demand, form=form, waiting=waiting, diff=diff,
                           history=_history(demand)), status


@admin.get("/demands/<int:demand_id>")
def demand_review_page(demand_id: int) -> tuple[str, int]:
    """Everything the demand carries; for a revision, its differences from the published content."""
    demand = _demand(demand_id)
    return _render(demand, DemandDecisionForm(lock_version=demand.lock_version))


def _decide(action: str, demand_id: int, reason: str | None, lock_version: int | None) -> None:
    if action == "suspend":
        demand_review.suspend_demand(actor(), demand_id, reason, lock_version)
    elif action == "reinstate":
        demand_review.reinstate_demand(actor(), demand_id, reason, lock_version)
    else:
        demand_review.decide(actor(), demand_id, action, reason, lock_version)


@admin.post("/demands/<int:demand_id>/decision")
def demand_decision(demand_id: int) -> Response | tuple[str, int]:
    """Approve, request changes, reject, suspend or reinstate; refused when the page is stale."""
    demand = _demand(demand_id)
    form = DemandDecisionForm()
    if not form.validate_on_submit():
        return _render(demand, form, 422)
    outcome = form_action(form, lambda: _decide(form.action.data or "", demand_id, form.reason.data,
                                                form.lock_version.data), general_field="reason")
    if outcome.conflict:
        demand = _demand(demand_id)
        return _render(demand, DemandDecisionForm(formdata=None, lock_version=demand.lock_version), 409)
    if outcome.status is not None:
        return _render(_demand(demand_id), form, outcome.status)
    flash(_("Decision recorded; the institution has been told."), "success")
    return redirect(url_for("admin.demand_review_page", demand_id=demand_id))
