"""Web pages of docking exhibitions (对接会/路演): the public list ``/exhibitions`` and page ``/exhibitions/<id>``
(time, place or link, directions, the roadshow; a member registers there and applies with their own published
listings or demands). The workspace page and the answers to invitations are in ``exhibitions_workspace``."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, NumberRange

from blueprints.actor import actor, viewer
from blueprints.web import web
from blueprints.web.public import not_found
from blueprints.web.public_views import lang, load_query, pages_of, render_page, taxonomy_index
from blueprints.web.site import nav_item
from blueprints.web.workspace import Page, member_page, run
from hall.models.exhibitions import MAX_ATTENDEES
from hall.services.core.errors import NotFound
from hall.services.policy import exhibitions, exhibitions_entries, exhibitions_registrations
from schemas.exhibitions import ExhibitionQueryIn

nav_item("web.exhibitions_list", _l("Exhibitions"), "everyone", position=17)


class RegisterForm(FlaskForm):
    """Register the institution to attend."""

    attendees = IntegerField(_l("Attendees"), default=1,
                             validators=[DataRequired(), NumberRange(min=1, max=MAX_ATTENDEES)])


class ApplyForm(FlaskForm):
    """Apply with one of the institution's published listings or demands ("listing:12" or "demand:3")."""

    subject = StringField(_l("Listing or demand"), validators=[DataRequired()])

    def subject_ids(self) -> dict[str, int]:
        """``listing_id`` or ``demand_id`` from the choice (an unknown choice names nothing: the service refuses)."""
        kind, _sep, number = (self.subject.data or "").partition(":")
        if kind in ("listing", "demand") and number.isdigit():
            return {f"{kind}_id": int(number)}
        return {}


@web.get("/exhibitions")
def exhibitions_list() -> Response:
    """Published exhibitions: upcoming first, then past ones; by time (upcoming/past) and direction."""
    args = load_query(ExhibitionQueryIn())
    items, total = exhibitions.public_exhibitions(args.get("when"), args.get("direction"), page=args["page"],
                                                  per_page=args["per_page"])
    pages = pages_of(total, args["per_page"])
    if args["page"] > pages:
        return not_found(_("There is no page %(page)s of these results.", page=args["page"]))
    return render_page("web/exhibitions/list.html", items=items, total=total, args=args, pages=pages,
                       names=taxonomy_index(), phase=exhibitions.phase, lang=lang())


def _page(exhibition_id: int, status: int = 200, register_form: RegisterForm | None = None,
          apply_form: ApplyForm | None = None) -> Response:
    try:
        exhibition = exhibitions.public_exhibition(exhibition_id)
    except NotFound:
        return not_found(_("This exhibition is not published (or does not exist)."))
    person = viewer()
    registration = subjects = None
    mine: list[Any] = []
    if person is not None and person.institution_id is not None:
        registration = exhibitions_registrations.own_registration(person, exhibition.id)
        mine = [e for e in exhibitions_entries.own_entries(person) if e.exhibition_id == exhibition.id]
        taken = {(e.subject_kind, e.listing_id or e.demand_id) for e in mine}
        subjects = [s for s in exhibitions_entries.own_public_subjects(person, lang()) if s[:2] not in taken]
    return render_page(
        "web/exhibitions/exhibition.html", status, exhibition=exhibition, phase=exhibitions.phase(exhibition),
        roadshow=exhibitions_entries.roadshow(exhibition), names=taxonomy_index(), lang=lang(),
        registration=registration, closed=exhibitions_registrations.registration_closed(exhibition),
        register_form=register_form or RegisterForm(attendees=registration.attendees if registration else 1),
        apply_form=apply_form or ApplyForm(), subjects=subjects, mine=mine)


@web.get("/exhibitions/<int:exhibition_id>")
def exhibition_page(exhibition_id: int) -> Response:
    """A published (or cancelled) exhibition with its roadshow; a draft is 404."""
    return _page(exhibition_id)


@web.post("/exhibitions/<int:exhibition_id>/registration")
@member_page
def exhibition_register(exhibition_id: int) -> Page:
    """Register the institution (or change how many attend)."""
    form = RegisterForm()
    if not form.validate_on_submit():
        return _page(exhibition_id, 422, register_form=form)
    attendees = int(form.attendees.data or 1)
    outcome = run(form, lambda: exhibitions_registrations.register(actor(), exhibition_id, attendees),
                  general_field="attendees")
    if outcome.refused:
        return _page(exhibition_id, outcome.status or 422, register_form=form)
    flash(_("Your institution is registered (%(count)s attending).", count=attendees), "success")
    return redirect(url_for("web.exhibition_page", exhibition_id=exhibition_id))


@web.post("/exhibitions/<int:exhibition_id>/registration/cancel")
@member_page
def exhibition_unregister(exhibition_id: int) -> Page:
    """Cancel the institution's registration."""
    form = RegisterForm()
    outcome = run(form, lambda: exhibitions_registrations.cancel_registration(actor(), exhibition_id))
    if outcome.refused:
        return _page(exhibition_id, outcome.status or 422)
    flash(_("Your registration is cancelled."), "success")
    return redirect(url_for("web.exhibition_page", exhibition_id=exhibition_id))


@web.post("/exhibitions/<int:exhibition_id>/apply")
@member_page
def exhibition_apply(exhibition_id: int) -> Page:
    """Apply with one of the institution's published listings or demands; a platform admin decides."""
    form = ApplyForm()
    if not form.validate_on_submit():
        return _page(exhibition_id, 422, apply_form=form)
    ids = form.subject_ids()
    outcome = run(form, lambda: exhibitions_entries.apply(actor(), exhibition_id, **ids), general_field="subject")
    if outcome.refused:
        return _page(exhibition_id, outcome.status or 422, apply_form=form)
    flash(_("Your application is sent; the platform will decide."), "success")
    return redirect(url_for("web.exhibition_page", exhibition_id=exhibition_id))


from blueprints.web import exhibitions_workspace  # noqa: E402,F401  the workspace page and answers
