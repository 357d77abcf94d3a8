"""The institution's demands (技术需求) in the workspace: the list by status, the form that creates and edits them
(field-level errors, amounts typed in yuan, a stale edit shown as "someone else changed this"), one demand's page
(status, the platform's reasons, history, the public version beside a pending revision, submit / withdraw / close)
and its matches: the listings that fit, with their reasons, starred or dismissed by the owner. The listing page's
"demands this listing could answer" comes from ``listing_demand_matches`` (a template global).

Every page calls the demands and matching services with the signed-in person (``own_demand`` answers 404 for
another institution's demand, AUTHZ-01); a refusal rolls back and is shown beside the fields it names."""
from __future__ import annotations

from math import ceil
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import ValidationError

from blueprints.actor import actor
from blueprints.display import VERB_WORDS, field_words
from blueprints.web import web
from blueprints.web.site import nav_item
from blueprints.web.workspace import Page, member_page, run
from blueprints.web.workspace_demand_forms import (
    DemandActionForm,
    DemandForm,
    VerdictForm,
    changed,
    demand_form,
    initial_data,
)
from hall.library_messages import translate_library_message
from hall.models import Demand, Listing
from hall.models.demands import DEMAND_STATUSES
from hall.services.core.errors import InvalidInput
from hall.services.docking import demand_hall, demands, listing_matches, matching
from hall.services.docking.demands import DRAFT_STATUSES
from hall.services.publishing import listings
from hall.services.publishing.hall import public_rows
from schemas.demands import DemandStatusQuery

PER_PAGE = 20
MATCHES = 20
STALE = _l("Someone else changed this demand since you opened it. The form now shows the current values: apply "
           "your changes again.")

nav_item("web.workspace_demands", _l("Your demands"), "members", position=35)


def can_edit(demand: Demand) -> bool:
    """Whether the content can be changed now (the service decides; this only offers the buttons)."""
    return demand.status in DRAFT_STATUSES or (demand.status == "published" and demand.revision_status != "submitted")


def can_submit(demand: Demand) -> bool:
    """A draft, a demand returned for changes, or a pending revision of a published demand not yet submitted."""
    if demand.status == "published":
        return demand.has_pending_revision and demand.revision_status != "submitted"
    return demand.status in DRAFT_STATUSES


# --- list --------------------------------------------------------------------------------------------------------

@web.get("/workspace/demands")
@member_page
def workspace_demands() -> Page:
    """The institution's demands, newest first, by status, a page at a time."""
    given = {name: request.args[name] for name in ("status", "page") if request.args.get(name)}
    try:
        query = dict(DemandStatusQuery().load(given))
    except ValidationError as error:
        refused = error.messages if isinstance(error.messages, dict) else {}
        query = dict(DemandStatusQuery().load({k: v for k, v in given.items() if k not in refused}))
    person = actor()
    items, total = demands.list_own_demands(person, query.get("status"), page=query["page"], per_page=PER_PAGE)
    return render_template("web/demands/list.html", items=items, total=total, page=query["page"],
                           pages=max(ceil(total / PER_PAGE), 1), status=query.get("status"),
                           statuses=DEMAND_STATUSES, counts=demands.count_own_demands(person), editable=can_edit,
                           org=person.institution)


# --- create and edit ---------------------------------------------------------------------------------------------

def _form_page(form: DemandForm, status: int, demand: Demand | None = None) -> tuple[str, int]:
    if status == 422 or (status >= 400 and any(item.errors for item in form)):
        flash(_("Nothing was saved: correct the fields marked below."), "error")
    action = url_for("web.workspace_edit_demand", demand_id=demand.id) if demand is not None \
        else url_for("web.workspace_new_demand")
    return render_template("web/demands/form.html", form=form, demand=demand, action=action,
                           org=actor().institution), status


@web.route("/workspace/demands/new", methods=["GET", "POST"])
@member_page
def workspace_new_demand() -> Page:
    """Start a draft (an institution that is not verified yet may prepare one; submitting waits)."""
    posted = request.method == "POST"
    form = demand_form(data=None if posted else {"currency": "CNY"})
    if not form.validate_on_submit():
        return _form_page(form, 422 if posted else 200)
    outcome = run(form, lambda: demands.create_demand(actor(), form.content()))
    if outcome.refused or outcome.value is None:
        return _form_page(form, outcome.status or 500)
    flash(_("The draft is saved. Submit it for review when it is complete."), "success")
    return redirect(url_for("web.workspace_demand", demand_id=outcome.value.id))


def _lock_version(value: str | None) -> int:
    return int(value) if value and value.isdigit() and len(value) < 10 else 0


@web.route("/workspace/demands/<int:demand_id>/edit", methods=["GET", "POST"])
@member_page
def workspace_edit_demand(demand_id: int) -> Page:
    """Edit the content, guarded by the lock version the form was opened with. Editing a published demand makes a
    revision; the public keeps the published content until the platform approves it."""
    demand = demands.own_demand(actor(), demand_id)
    if not can_edit(demand):
        flash(_("This demand cannot be edited while it is %(status)s.", status=_(demand.status)), "error")
        return redirect(url_for("web.workspace_demand", demand_id=demand.id))
    current = demands.pending_content(demand)
    if request.method == "GET":
        form = demand_form(data=initial_data(current), lock_version=demand.lock_version)
        return _form_page(form, 200, demand)
    form = demand_form(current_region=current.get("region_code"))
    if not form.validate_on_submit():
        return _form_page(form, 422, demand)
    expected = _lock_version(form.lock_version.data)
    stale = expected != demand.lock_version

    def save() -> Demand | None:
        changes = changed(form.content(), current)
        if not changes and not stale:
            return None
        return demands.edit_demand(actor(), demand_id, changes, expected)

    outcome = run(form, save, conflict_message=str(STALE) if stale else None)
    if outcome.conflict:
        fresh = demands.own_demand(actor(), demand_id)
        if not can_edit(fresh):
            return redirect(url_for("web.workspace_demand", demand_id=demand_id))
        form = demand_form(formdata=None, data=initial_data(demands.pending_content(fresh)),
                           lock_version=fresh.lock_version)
        return _form_page(form, 409, fresh)
    if outcome.refused:
        return _form_page(form, outcome.status or 500, demand)
    if outcome.value is None:
        flash(_("Nothing changed."), "success")
    elif outcome.value.status == "published":
        flash(_("Saved as a revision. The public keeps seeing the published demand until the platform approves the "
                "revision: submit it when it is ready."), "success")
    else:
        flash(_("Your changes are saved."), "success")
    return redirect(url_for("web.workspace_demand", demand_id=demand_id))


# --- one demand --------------------------------------------------------------------------------------------------

def _history(demand: Demand) -> list[dict[str, Any]]:
    steps = []
    for entry in demands.demand_history(actor(), demand.id):
        verb = entry["action"].rsplit(".", 1)[-1]
        words = str(VERB_WORDS.get(verb, verb.replace("_", " ")))
        steps.append({**entry, "words": words[:1].upper() + words[1:]})
    return steps


def _missing(errors: dict[str, list[str]]) -> list[tuple[str, list[str]]]:
    """What a refused submission lacks: each message with the form's labels of the fields it concerns."""
    form = demand_form(formdata=None)
    grouped: dict[str, list[str]] = {}
    for name, messages in errors.items():
        label = str(form[name].label.text) if name in form else field_words(name)
        for message in messages:
            grouped.setdefault(translate_library_message(str(message)), []).append(label)
    return list(grouped.items())


def _dismissed_listings(demand: Demand) -> list[tuple[int, Any]]:
    """The listings the institution dismissed for this demand (still public), with their versions."""
    verdicts = matching.institution_feedback(demand.institution_id, "demand").exact
    ids = [(listing_id, None) for (demand_id, listing_id), verdict in verdicts.items()
           if demand_id == demand.id and verdict == "dismiss"]
    return [(entry.listing_id, version) for entry, version, _score in public_rows(ids)] if ids else []


def _page(demand: Demand, *, missing: list[tuple[str, list[str]]] | None = None,
          status: int = 200) -> tuple[str, int]:
    person = actor()
    return render_template(
        "web/demands/workspace_demand.html", demand=demand, org=person.institution, history=_history(demand),
        content=demands.pending_content(demand), missing=missing or [], can_edit=can_edit(demand),
        can_submit=can_submit(demand), public=demand_hall.demand_is_public(demand),
        matches=matching.listings_for_demand(person, demand.id, limit=MATCHES),
        dismissed=_dismissed_listings(demand)), status


@web.get("/workspace/demands/<int:demand_id>")
@member_page
def workspace_demand(demand_id: int) -> Page:
    """One of the institution's demands as its members manage it, with the listings that fit it."""
    return _page(demands.own_demand(actor(), demand_id))


@web.post("/workspace/demands/<int:demand_id>/submit")
@member_page
def workspace_submit_demand(demand_id: int) -> Page:
    """Send the demand (or its revision) for review; an incomplete one is refused with what it lacks."""
    demand = demands.own_demand(actor(), demand_id)
    revision = demand.status == "published"
    lacking: dict[str, list[str]] = {}

    def submit() -> Demand:
        try:
            return demands.submit_demand(actor(), demand_id)
        except InvalidInput as error:
            lacking.update(error.errors)
            raise InvalidInput(_("The demand is not complete yet: fill in what the list below names, then submit "
                                 "it again."), error.errors) from None

    outcome = run(DemandActionForm(), submit)
    if outcome.refused:
        return _page(demands.own_demand(actor(), demand_id), missing=_missing(lacking), status=outcome.status or 500)
    flash(_("The revision is sent for review; the public keeps seeing the published demand meanwhile.") if revision
          else _("The demand is sent for review; the platform will tell you its decision."), "success")
    return redirect(url_for("web.workspace_demand", demand_id=demand_id))


def _act(demand_id: int, call: Any, done: str) -> Page:
    demands.own_demand(actor(), demand_id)
    outcome = run(DemandActionForm(), lambda: call(actor(), demand_id))
    if outcome.refused:
        return _page(demands.own_demand(actor(), demand_id), status=outcome.status or 500)
    flash(done, "success")
    return redirect(url_for("web.workspace_demand", demand_id=demand_id))


@web.post("/workspace/demands/<int:demand_id>/withdraw")
@member_page
def workspace_withdraw_demand(demand_id: int) -> Page:
    """Withdraw a draft for good, or discard the pending revision of a published demand."""
    revision = demands.own_demand(actor(), demand_id).status == "published"
    return _act(demand_id, demands.withdraw_demand,
                _("The revision is discarded; the published demand stays.") if revision
                else _("The demand is withdrawn."))


@web.post("/workspace/demands/<int:demand_id>/close")
@member_page
def workspace_close_demand(demand_id: int) -> Page:
    """Close a published demand: it leaves the demand hall."""
    return _act(demand_id, demands.close_demand, _("The demand is closed and has left the demand hall."))


# --- verdicts on matches -----------------------------------------------------------------------------------------

VERDICT_DONE = {"star": _l("The match is starred: it comes first, and similar ones rise."),
                "dismiss": _l("The match is dismissed: it is not proposed again, and similar ones sink."),
                "undo": _l("Your verdict is taken back.")}


def _verdict(demand_id: int, listing_id: int, side: str, back: str) -> Page:
    form = VerdictForm()
    if not form.validate_on_submit():
        flash(_("That button did not work; reload the page and try again."), "error")
        return redirect(back)
    verdict = None if form.verdict.data == "undo" else form.verdict.data
    outcome = run(form, lambda: matching.record_feedback(actor(), demand_id, listing_id, side, verdict))
    if not outcome.refused:
        flash(str(VERDICT_DONE[form.verdict.data]), "success")
    return redirect(back)


@web.post("/workspace/demands/<int:demand_id>/matches/<int:listing_id>")
@member_page
def workspace_demand_match(demand_id: int, listing_id: int) -> Page:
    """Star, dismiss or take back the verdict on a listing proposed for one of the institution's demands."""
    demands.own_demand(actor(), demand_id)
    return _verdict(demand_id, listing_id, "demand", url_for("web.workspace_demand", demand_id=demand_id) + "#matches")


@web.post("/workspace/listings/<int:listing_id>/demand-matches/<int:demand_id>")
@member_page
def workspace_listing_match(listing_id: int, demand_id: int) -> Page:
    """Star, dismiss or take back the verdict on a demand proposed for one of the institution's listings."""
    listings.own_listing(actor(), listing_id)
    back = url_for("web.workspace_listing", listing_id=listing_id) + "#demand-matches"
    return _verdict(demand_id, listing_id, "listing", back)


@web.app_context_processor
def demand_match_globals() -> dict[str, Any]:
    """``listing_demand_matches(listing)`` for the workspace listing page: (matches, dismissed demands)."""
    def listing_demand_matches(listing: Listing) -> tuple[list[Any], list[Demand]]:
        if not current_user.is_authenticated or listing.status != "published":
            return [], []
        person = actor()
        found = listing_matches.demands_for_listing(person, listing.id, limit=MATCHES)
        verdicts = matching.institution_feedback(listing.institution_id, "listing").exact
        ids = [(demand_id, None) for (demand_id, listing_id), verdict in verdicts.items()
               if listing_id == listing.id and verdict == "dismiss"]
        dismissed = [demand for demand, _score in demand_hall.public_demand_rows(ids)] if ids else []
        return found, dismissed

    return {"listing_demand_matches": listing_demand_matches}
