"""The API of docking exhibitions (对接会/路演): the public list and pages with their roadshow; for members,
applying with their own published listings or demands, answering invitations, withdrawing, registering to attend.
Admins run exhibitions in the console (web forms)."""
from __future__ import annotations

from typing import Any

from flask import request
from flask_login import login_required

from blueprints.actor import actor
from blueprints.api.base import ApiBlueprint
from hall.services.policy import exhibitions, exhibitions_entries, exhibitions_registrations
from schemas.common import ErrorSchema
from schemas.exhibitions import (
    ExhibitionDetailOut,
    ExhibitionEntryIn,
    ExhibitionEntryOut,
    ExhibitionLangIn,
    ExhibitionMineOut,
    ExhibitionPageOut,
    ExhibitionQueryIn,
    ExhibitionRegistrationIn,
    ExhibitionRegistrationOut,
    present_entry,
    present_exhibition,
    present_roadshow,
)

blp = ApiBlueprint("exhibitions", __name__, url_prefix="/exhibitions",
                   description="Docking exhibitions (对接会/路演): events, their roadshow, entries and registrations")


def _lang(explicit: str | None = None) -> str:
    """?lang= wins, then Accept-Language, then Chinese."""
    if explicit:
        return explicit
    return "en" if request.accept_languages.best_match(["zh", "en"]) == "en" else "zh"


@blp.route("", methods=["GET"])
@blp.arguments(ExhibitionQueryIn, location="query")
@blp.response(200, ExhibitionPageOut)
def list_exhibitions(args: dict[str, Any]) -> dict[str, Any]:
    """Published exhibitions, upcoming first (soonest first), then past ones; filter by when and direction."""
    items, total = exhibitions.public_exhibitions(args.get("when"), args.get("direction"), page=args["page"],
                                                  per_page=args["per_page"])
    lang = _lang(args.get("lang"))
    return {"items": [present_exhibition(item, lang) for item in items], "total": total, "page": args["page"],
            "per_page": args["per_page"]}


@blp.route("/<int:exhibition_id>", methods=["GET"])
@blp.arguments(ExhibitionLangIn, location="query")
@blp.response(200, ExhibitionDetailOut)
@blp.alt_response(404, schema=ErrorSchema, description="No published (or cancelled) exhibition with this id.")
def get_exhibition(args: dict[str, Any], exhibition_id: int) -> dict[str, Any]:
    """A published or cancelled exhibition with its accepted roadshow listings and demands, in order."""
    exhibition = exhibitions.public_exhibition(exhibition_id)
    lang = _lang(args.get("lang"))
    return {**present_exhibition(exhibition, lang),
            "roadshow": present_roadshow(exhibitions_entries.roadshow(exhibition), lang)}


@blp.route("/mine", methods=["GET"])
@login_required
@blp.arguments(ExhibitionLangIn, location="query")
@blp.response(200, ExhibitionMineOut)
def mine(args: dict[str, Any]) -> dict[str, Any]:
    """Your institution's entries (invitations to answer among them) and registrations."""
    person = actor()
    lang = _lang(args.get("lang"))
    return {"entries": [present_entry(e, lang) for e in exhibitions_entries.own_entries(person)],
            "registrations": exhibitions_registrations.own_registrations(person)}


@blp.route("/<int:exhibition_id>/entries", methods=["POST"])
@login_required
@blp.arguments(ExhibitionEntryIn)
@blp.response(201, ExhibitionEntryOut)
def apply(data: dict[str, Any], exhibition_id: int) -> dict[str, Any]:
    """Apply to present one of your institution's published listings or demands; a platform admin decides."""
    entry = exhibitions_entries.apply(actor(), exhibition_id, **data)
    return present_entry(entry, _lang())


@blp.route("/<int:exhibition_id>/entries/<int:entry_id>/accept", methods=["POST"])
@login_required
@blp.response(200, ExhibitionEntryOut)
def accept(exhibition_id: int, entry_id: int) -> dict[str, Any]:
    """Accept the platform's invitation (your institution's entries only)."""
    entry = exhibitions_entries.answer_invitation(actor(), entry_id, "accept", exhibition_id)
    return present_entry(entry, _lang())


@blp.route("/<int:exhibition_id>/entries/<int:entry_id>/decline", methods=["POST"])
@login_required
@blp.response(200, ExhibitionEntryOut)
def decline(exhibition_id: int, entry_id: int) -> dict[str, Any]:
    """Decline the platform's invitation (your institution's entries only)."""
    entry = exhibitions_entries.answer_invitation(actor(), entry_id, "decline", exhibition_id)
    return present_entry(entry, _lang())


@blp.route("/<int:exhibition_id>/entries/<int:entry_id>/withdraw", methods=["POST"])
@login_required
@blp.response(200, ExhibitionEntryOut)
def withdraw(exhibition_id: int, entry_id: int) -> dict[str, Any]:
    """Take your listing or demand off the roadshow (an invitation, an application or an accepted entry)."""
    entry = exhibitions_entries.withdraw(actor(), entry_id, exhibition_id)
    return present_entry(entry, _lang())


@blp.route("/<int:exhibition_id>/registration", methods=["POST"])
@login_required
@blp.arguments(ExhibitionRegistrationIn)
@blp.response(201, ExhibitionRegistrationOut)
def register(data: dict[str, Any], exhibition_id: int) -> Any:
    """Register your institution to attend (or change how many attend); refused after the deadline, when full,
    or for a cancelled or ended exhibition."""
    return exhibitions_registrations.register(actor(), exhibition_id, data["attendees"])


@blp.route("/<int:exhibition_id>/registration", methods=["DELETE"])
@login_required
@blp.response(200, ExhibitionRegistrationOut)
def cancel_registration(exhibition_id: int) -> Any:
    """Cancel your institution's registration."""
    return exhibitions_registrations.cancel_registration(actor(), exhibition_id)
