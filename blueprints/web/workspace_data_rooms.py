"""NDA data rooms on the web: what a visitor of a public listing may do about its confidential files
(``data_room_access``, used by the listing page's file list), the NDA page where a member accepts the current NDA
for the institution, the owner's data room (the NDA editor, auto-approve, the incoming requests with their
decisions, the download log), the confidential mark of each file, and the institution's own requests.

Every view calls the services the API calls (``hall.services.docking.data_rooms`` and ``data_room_files``) with the
signed-in person: another institution's listing or request answers 404 there; form data is checked with the API's
schemas; a refusal rolls back and shows beside its field or on top."""
from __future__ import annotations

from math import ceil
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import ValidationError

from blueprints.actor import actor
from blueprints.web import web
from blueprints.web.data_room_forms import (
    AcceptNdaForm,
    AutoApproveForm,
    ConfidentialForm,
    DecisionForm,
    NdaTextForm,
    decision_form,
)
from blueprints.web.public_views import lang, org_name
from blueprints.web.site import check_with, nav_item
from blueprints.web.workspace import Page, member_page, run
from hall.models import Listing
from hall.models.data_rooms import ACCESS_STATUSES
from hall.services.docking import data_room_files, data_rooms
from hall.services.publishing import listings
from hall.services.publishing.hall import published_listing
from schemas.data_rooms import AccessIn, DecisionIn, NdaIn, PageIn, RequestQueryIn

PER_PAGE = 20
LOG_PER_PAGE = 50
REQUESTS_SHOWN = 100
# An access request's state in words, as both sides read it.
STATE_WORDS = {"requested": _l("Waiting for the owner's decision"), "approved": _l("Approved"),
               "rejected": _l("Declined"), "revoked": _l("Revoked")}
DONE = {"approve": _l("The request is approved: the institution may now download the confidential files."),
        "reject": _l("The request is declined; the institution is told your reason."),
        "revoke": _l("The access is revoked; the institution is told your reason.")}

nav_item("web.data_room_requests", _l("NDA requests"), "members", position=38)


# --- What a visitor of a public listing may do ---------------------------------------------------------------------

def access_state(listing: Listing) -> dict[str, Any]:
    """The signed-in person's standing towards the listing's confidential files: ``owner`` and ``approved`` open
    them; ``anonymous``, ``no_institution``, ``unverified``, ``no_nda``, ``none`` (may accept the NDA),
    ``requested`` and ``stale`` (the NDA changed since it was accepted) tell what to do. The services decide on
    every download; this only chooses the words and links."""
    if not current_user.is_authenticated:
        return {"state": "anonymous", "open": False}
    person = actor()
    if person.institution_id is not None and person.institution_id == listing.institution_id:
        return {"state": "owner", "open": True}
    org = person.institution
    if org is None:
        return {"state": "no_institution", "open": False}
    if not org.is_verified:
        return {"state": "unverified", "open": False}
    nda = data_rooms.current_nda(listing.id)
    live = data_rooms.live_request(listing.id, org.id)
    if live is None:
        return {"state": "none" if nda is not None else "no_nda", "open": False}
    if nda is not None and live.nda_version != nda.version:
        return {"state": "stale", "open": False, "version": nda.version}
    return {"state": live.status, "open": live.status == "approved"}


@web.app_context_processor
def _data_room_globals() -> dict[str, Any]:
    """``data_room_access(listing)`` for the public listing page's file list."""
    return {"data_room_access": access_state}


# --- The NDA page --------------------------------------------------------------------------------------------------

def _title(version: Any) -> str:
    first, second = (version.title_en, version.title_zh) if lang() == "en" else (version.title_zh, version.title_en)
    return str(first or second or "")


def _nda_page(listing_id: int, form: AcceptNdaForm | None = None, status: int = 200) -> tuple[str, int]:
    listing, version = published_listing(listing_id)
    nda = data_rooms.current_nda(listing.id)
    if form is None:
        form = AcceptNdaForm(formdata=None, data={"nda_version": nda.version if nda else ""})
    elif nda is not None:
        form.nda_version.data = str(nda.version)  # after a refusal: accept what the page shows now
    org = actor().institution
    form.accept.label.text = _("I accept this NDA on behalf of %(institution)s", institution=org_name(org))
    text, other = ((nda.text_en, nda.text_zh) if lang() == "en" else (nda.text_zh, nda.text_en)) if nda \
        else (None, None)
    return render_template("web/data_rooms/nda.html", listing=listing, title=_title(version), nda=nda,
                           text=text or other, translated=not text, access=access_state(listing), form=form,
                           org=org), status


@web.route("/hall/listings/<int:listing_id>/nda", methods=["GET", "POST"])
@member_page
def data_room_nda(listing_id: int) -> Page:
    """The current NDA of a public listing in the page's language with its version, and the form that accepts it
    for the person's institution (the request to open the confidential files). A stale version is refused with
    the service's message and the page shows the current one."""
    if request.method == "GET":
        return _nda_page(listing_id)
    published_listing(listing_id)
    form = AcceptNdaForm()

    def ask() -> Any:
        data = check_with(AccessIn(), {"nda_version": form.nda_version.data or "", "accept": bool(form.accept.data)})
        return data_rooms.request_access(actor(), listing_id, data["nda_version"], data["accept"])

    outcome = run(form, ask)
    if outcome.refused or outcome.value is None:
        if form.nda_version.errors:
            flash(_("The NDA's version was missing from the form; read the NDA below and accept it again."), "error")
        return _nda_page(listing_id, form, outcome.status or 500)
    access, _created = outcome.value
    flash(_("Your institution's access is approved: the confidential files can be downloaded now.")
          if access.status == "approved" else
          _("The NDA is accepted and your request is sent; the owner institution will decide."), "success")
    return redirect(url_for("web.listing", listing_id=listing_id) + "#files-heading")


# --- The owner: confidential marks ---------------------------------------------------------------------------------

@web.post("/workspace/listings/<int:listing_id>/attachments/<int:attachment_id>/confidential")
@member_page
def workspace_mark_confidential(listing_id: int, attachment_id: int) -> Page:
    """Mark a file of the listing confidential (listed, downloadable only under the NDA) or public again."""
    listings.own_listing(actor(), listing_id)
    form = ConfidentialForm()
    confidential = form.confidential.data == "1"
    outcome = run(form, lambda: data_room_files.set_confidential(actor(), listing_id, attachment_id, confidential))
    if outcome.refused:
        for message in form.confidential.errors or [_("Nothing was changed.")]:
            flash(message, "error")
    elif confidential:
        flash(_("The file is confidential: it is listed, and opens only to institutions you approve under the "
                "NDA."), "success")
    else:
        flash(_("The file is public again: anyone who sees the listing can download it."), "success")
    return redirect(url_for("web.workspace_listing", listing_id=listing_id) + "#data-room")


# --- The owner's data room -----------------------------------------------------------------------------------------

def _page_arg() -> int:
    try:
        return int(PageIn().load({"page": request.args.get("page") or "1"})["page"])
    except ValidationError:
        return 1


def _room_page(listing_id: int, status: int = 200, *, nda_form: NdaTextForm | None = None,
               settings_form: AutoApproveForm | None = None,
               decisions: dict[tuple[str, int], DecisionForm] | None = None) -> tuple[str, int]:
    person = actor()
    listing = listings.own_listing(person, listing_id)
    room = data_rooms.room_settings(person, listing.id)
    nda = room["nda"]
    if nda_form is None:
        nda_form = NdaTextForm(formdata=None, data={"text_zh": nda.text_zh if nda else "",
                                                    "text_en": nda.text_en if nda else ""})
    if settings_form is None:
        settings_form = AutoApproveForm(formdata=None, data={"auto_approve": room["auto_approve"]})
    items, total = data_rooms.list_requests(person, "incoming", None, listing.id, page=1, page_size=REQUESTS_SHOWN)
    page = _page_arg()
    log, log_total = data_room_files.download_log(person, listing.id, page=page, page_size=LOG_PER_PAGE)
    given = decisions or {}
    version = listing.working_version
    return render_template(
        "web/data_rooms/room.html", listing=listing, nda=nda, auto_approve=room["auto_approve"], nda_form=nda_form,
        settings_form=settings_form, items=items, total=total, shown=REQUESTS_SHOWN, log=log, log_total=log_total,
        page=page, pages=max(ceil(log_total / LOG_PER_PAGE), 1), state_words=STATE_WORDS,
        decision=lambda action, request_id: given.get((action, request_id)) or decision_form(action, request_id),
        confidential=[a for a in (version.attachments if version else []) if a.confidential]), status


@web.get("/workspace/listings/<int:listing_id>/data-room")
@member_page
def workspace_data_room(listing_id: int) -> Page:
    """The listing's data room: the NDA editor (each save a new version), auto-approve, the access requests with
    their decisions, and who downloaded which confidential file when."""
    return _room_page(listing_id)


@web.post("/workspace/listings/<int:listing_id>/data-room/nda")
@member_page
def data_room_write_nda(listing_id: int) -> Page:
    """Save the NDA as a new version; institutions must accept it again before their next download."""
    listings.own_listing(actor(), listing_id)
    form = NdaTextForm()

    def save() -> Any:
        data = check_with(NdaIn(), {"text_zh": form.text_zh.data or None, "text_en": form.text_en.data or None})
        return data_rooms.write_nda(actor(), listing_id, data.get("text_zh"), data.get("text_en"))

    outcome = run(form, save)
    if outcome.refused or outcome.value is None:
        flash(_("The NDA was not saved: correct the fields marked below."), "error")
        return _room_page(listing_id, outcome.status or 500, nda_form=form)
    flash(_("The NDA is saved as version %(version)s.", version=outcome.value.version), "success")
    return redirect(url_for("web.workspace_data_room", listing_id=listing_id))


@web.post("/workspace/listings/<int:listing_id>/data-room/settings")
@member_page
def data_room_settings(listing_id: int) -> Page:
    """Turn auto-approve on or off (requests already waiting still wait for a decision)."""
    listings.own_listing(actor(), listing_id)
    form = AutoApproveForm()
    outcome = run(form, lambda: data_rooms.set_auto_approve(actor(), listing_id, bool(form.auto_approve.data)))
    if outcome.refused:
        return _room_page(listing_id, outcome.status or 500, settings_form=form)
    flash(_("Auto-approve is on: new requests are approved at once.") if form.auto_approve.data
          else _("Auto-approve is off: you decide each request."), "success")
    return redirect(url_for("web.workspace_data_room", listing_id=listing_id))


def _decide(listing_id: int, request_id: int, action: str) -> Page:
    """Take one decision on a request for the listing; a refusal shows the page with the message beside the
    reason (or on top)."""
    listings.own_listing(actor(), listing_id)
    form = decision_form(action, request_id, posted=True)

    def decide() -> Any:
        data = check_with(DecisionIn(), {"reason": form.reason.data or None})
        return data_rooms.decide(actor(), request_id, action, data.get("reason"))

    outcome = run(form, decide)
    if outcome.refused or outcome.value is None:
        if form.reason.errors:
            flash(_("Nothing was changed: correct the field marked below."), "error")
        return _room_page(listing_id, outcome.status or 500, decisions={(action, request_id): form})
    flash(str(DONE[action]), "success")
    return redirect(url_for("web.workspace_data_room", listing_id=outcome.value.listing_id) + "#requests")


@web.post("/workspace/listings/<int:listing_id>/data-room/requests/<int:request_id>/approve")
@member_page
def data_room_approve(listing_id: int, request_id: int) -> Page:
    """Approve a waiting request: the institution may download the confidential files."""
    return _decide(listing_id, request_id, "approve")


@web.post("/workspace/listings/<int:listing_id>/data-room/requests/<int:request_id>/reject")
@member_page
def data_room_reject(listing_id: int, request_id: int) -> Page:
    """Decline a waiting request, saying why (the institution may ask again)."""
    return _decide(listing_id, request_id, "reject")


@web.post("/workspace/listings/<int:listing_id>/data-room/requests/<int:request_id>/revoke")
@member_page
def data_room_revoke(listing_id: int, request_id: int) -> Page:
    """End an approved institution's access, saying why."""
    return _decide(listing_id, request_id, "revoke")


# --- The institution's own requests --------------------------------------------------------------------------------

@web.get("/workspace/data-room/requests")
@member_page
def data_room_requests() -> Page:
    """The institution's requests to open other institutions' confidential files: which listing, the state in
    words, the NDA version accepted (and whether a newer one waits), a link to the listing."""
    given = {name: request.args[name] for name in ("status", "page") if request.args.get(name)}
    try:
        query = dict(RequestQueryIn().load(given))
    except ValidationError:
        query = dict(RequestQueryIn().load({}))
    items, total = data_rooms.list_requests(actor(), "outgoing", query.get("status"), None, page=query["page"],
                                            page_size=PER_PAGE)
    return render_template("web/data_rooms/requests.html", items=items, total=total, page=query["page"],
                           pages=max(ceil(total / PER_PAGE), 1), status=query.get("status"),
                           statuses=ACCESS_STATUSES, state_words=STATE_WORDS)
