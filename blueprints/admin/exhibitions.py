"""Console pages of docking exhibitions: the list, a new exhibition, and one exhibition's page (edit, publish,
cancel with a reason, its entries with accept/decline/roadshow place, the invite form, registrations, leads).
Times are typed in Beijing time (the site's time zone) and stored in UTC."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import DateTimeLocalField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, NumberRange, Optional

from blueprints.actor import actor
from blueprints.admin import admin
from blueprints.admin.actions import form_action
from hall.models.exhibitions import EXHIBITION_MODES, Exhibition
from hall.services.policy import (
    exhibitions,
    exhibitions_entries,
    exhibitions_leads,
    exhibitions_registrations,
)
from hall.services.publishing import hall

Page = str | Response | tuple[str, int]
TIME_FORMAT = "%Y-%m-%dT%H:%M"


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Asia/Shanghai")


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=_zone()).astimezone(timezone.utc)


def _local(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(_zone()).replace(tzinfo=None)


class ExhibitionForm(FlaskForm):
    """An exhibition's content; the service checks the rules and names the field at fault."""

    title_zh = StringField(_l("Title (Chinese)"), validators=[Optional(), Length(max=200)])
    title_en = StringField(_l("Title (English)"), validators=[Optional(), Length(max=300)])
    description_zh = TextAreaField(_l("Description (Chinese)"), validators=[Optional(), Length(max=20000)])
    description_en = TextAreaField(_l("Description (English)"), validators=[Optional(), Length(max=40000)])
    starts_at = DateTimeLocalField(_l("Starts (Beijing time)"), format=TIME_FORMAT, validators=[DataRequired()])
    ends_at = DateTimeLocalField(_l("Ends (Beijing time)"), format=TIME_FORMAT, validators=[DataRequired()])
    mode = SelectField(_l("Format"), validators=[DataRequired()])
    place = StringField(_l("Place"), validators=[Optional(), Length(max=300)])
    online_url = StringField(_l("Online link (https)"), validators=[Optional(), Length(max=500)])
    directions = SelectMultipleField(_l("Directions"), validators=[Optional()])
    registration_deadline = DateTimeLocalField(_l("Registration closes (Beijing time, optional)"),
                                               format=TIME_FORMAT, validators=[Optional()])
    capacity = IntegerField(_l("Capacity (attendees, optional)"), validators=[Optional(), NumberRange(min=1)])
    lock_version = IntegerField(validators=[Optional()])

    def fill_choices(self) -> None:
        """The modes in words and the taxonomy's directions."""
        words = {"offline": _("On site"), "online": _("Online"), "hybrid": _("On site and online")}
        self.mode.choices = [(m, words[m]) for m in EXHIBITION_MODES]
        english = str(get_locale()) == "en"
        self.directions.choices = [(d.code, d.name_en if english else d.name_zh) for d in hall.taxonomy()]

    def values(self) -> dict[str, Any]:
        """The service's values (times in UTC)."""
        return {"title_zh": self.title_zh.data, "title_en": self.title_en.data,
                "description_zh": self.description_zh.data, "description_en": self.description_en.data,
                "starts_at": _utc(self.starts_at.data), "ends_at": _utc(self.ends_at.data), "mode": self.mode.data,
                "place": self.place.data, "online_url": self.online_url.data,
                "directions": list(self.directions.data or []),
                "registration_deadline": _utc(self.registration_deadline.data), "capacity": self.capacity.data}


class StateForm(FlaskForm):
    """Publish or cancel (a reason is required to cancel)."""

    action = StringField(validators=[DataRequired(), AnyOf(("publish", "cancel"))])
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)])
    lock_version = IntegerField(validators=[Optional()])


class InviteForm(FlaskForm):
    """Invite a published listing or demand by its id."""

    kind = SelectField(_l("What"))
    subject_id = IntegerField(_l("Its id"), validators=[DataRequired(), NumberRange(min=1, max=2**31 - 1)])


def invite_form() -> InviteForm:
    """The invite form with its choices in words."""
    form = InviteForm()
    form.kind.choices = [("listing", _("Listing")), ("demand", _("Demand"))]
    return form


class EntryForm(FlaskForm):
    """Accept or decline an application (a reason to decline), or place an accepted entry in the roadshow."""

    action = StringField(validators=[DataRequired(), AnyOf(("accept", "decline", "position"))])
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=2000)])
    position = IntegerField(_l("Place"), validators=[Optional(), NumberRange(min=1, max=1000)])
    slot_at = DateTimeLocalField(_l("Presentation time (Beijing time)"), format=TIME_FORMAT, validators=[Optional()])


def _form_for(exhibition: Exhibition | None = None) -> ExhibitionForm:
    if exhibition is None:
        form = ExhibitionForm()
    else:
        data: dict[str, Any] = {name: getattr(exhibition, name) for name in exhibitions.CONTENT_FIELDS}
        data.update(starts_at=_local(exhibition.starts_at), ends_at=_local(exhibition.ends_at),
                    registration_deadline=_local(exhibition.registration_deadline),
                    lock_version=exhibition.lock_version)
        form = ExhibitionForm(data=data)
    form.fill_choices()
    return form


@admin.get("/exhibitions")
def exhibition_list() -> str:
    """Every exhibition: upcoming ones and drafts first."""
    return render_template("admin/exhibitions/list.html", items=exhibitions.admin_exhibitions(actor()),
                           phase=exhibitions.phase)


@admin.get("/exhibitions/new")
def exhibition_new() -> Page:
    """The form for a new exhibition."""
    return render_template("admin/exhibitions/new.html", form=_form_for())


@admin.post("/exhibitions/create")
def exhibition_create() -> Page:
    """Create an exhibition (a draft until published)."""
    form = _form_for()
    if not form.validate_on_submit():
        return render_template("admin/exhibitions/new.html", form=form), (422 if form.is_submitted() else 200)
    outcome = form_action(form, lambda: exhibitions.create_exhibition(actor(), form.values()))
    if outcome.refused or outcome.value is None:
        return render_template("admin/exhibitions/new.html", form=form), outcome.status or 422
    flash(_("Exhibition saved as a draft."), "success")
    return redirect(url_for("admin.exhibition_detail", exhibition_id=outcome.value.id))


def _detail(exhibition_id: int, status: int = 200, **forms: Any) -> tuple[str, int]:
    person = actor()
    exhibition = exhibitions.admin_exhibition(person, exhibition_id)
    form = forms.get("form") or _form_for(exhibition)
    return render_template(
        "admin/exhibitions/exhibition.html", exhibition=exhibition, phase=exhibitions.phase(exhibition),
        form=form, state_form=forms.get("state_form") or StateForm(lock_version=exhibition.lock_version),
        invite_form=forms.get("invite_form") or invite_form(), entry_form=EntryForm(),
        entries=exhibitions_entries.exhibition_entries(person, exhibition_id),
        title_of=exhibitions_entries.entry_subject_title,
        registrations=exhibitions_registrations.registrations(person, exhibition_id),
        leads=exhibitions_leads.exhibition_leads(person, exhibition_id), local=_local), status


@admin.get("/exhibitions/<int:exhibition_id>")
def exhibition_detail(exhibition_id: int) -> Page:
    """One exhibition: its content to edit, its state, entries, invitations, registrations and leads."""
    return _detail(exhibition_id)


@admin.post("/exhibitions/<int:exhibition_id>/edit")
def exhibition_edit(exhibition_id: int) -> Page:
    """Save changes (refused on a stale page, or when the exhibition is cancelled or over)."""
    exhibitions.admin_exhibition(actor(), exhibition_id)
    form = _form_for()
    if not form.validate_on_submit():
        return _detail(exhibition_id, 422, form=form)
    outcome = form_action(form, lambda: exhibitions.update_exhibition(actor(), exhibition_id, form.values(),
                                                                      form.lock_version.data))
    if outcome.refused:
        return _detail(exhibition_id, outcome.status or 422, form=None if outcome.conflict else form)
    flash(_("Exhibition saved."), "success")
    return redirect(url_for("admin.exhibition_detail", exhibition_id=exhibition_id))


@admin.post("/exhibitions/<int:exhibition_id>/state")
def exhibition_state(exhibition_id: int) -> Page:
    """Publish a draft, or cancel (reason required; registrants are told)."""
    exhibitions.admin_exhibition(actor(), exhibition_id)
    form = StateForm()
    if not form.validate_on_submit():
        return _detail(exhibition_id, 422, state_form=form)
    if form.action.data == "publish":
        call: Any = lambda: exhibitions.publish_exhibition(actor(), exhibition_id, form.lock_version.data)  # noqa: E731
    else:
        call = lambda: exhibitions.cancel_exhibition(actor(), exhibition_id, form.reason.data,  # noqa: E731
                                                     form.lock_version.data)
    outcome = form_action(form, call, general_field="reason")
    if outcome.refused:
        return _detail(exhibition_id, outcome.status or 422, state_form=None if outcome.conflict else form)
    flash(_("Exhibition published.") if form.action.data == "publish" else _("Exhibition cancelled."), "success")
    return redirect(url_for("admin.exhibition_detail", exhibition_id=exhibition_id))


@admin.post("/exhibitions/<int:exhibition_id>/invite")
def exhibition_invite(exhibition_id: int) -> Page:
    """Invite a published listing or demand by its id; its institution is told."""
    exhibitions.admin_exhibition(actor(), exhibition_id)
    form = invite_form()
    if not form.validate_on_submit():
        return _detail(exhibition_id, 422, invite_form=form)
    subject = {f"{form.kind.data}_id": form.subject_id.data}
    outcome = form_action(form, lambda: exhibitions_entries.invite(actor(), exhibition_id, **subject),
                          general_field="subject_id")
    if outcome.refused:
        if not form.subject_id.errors and not outcome.conflict:
            form.subject_id.errors = [_("Not invited: check the id.")]
        return _detail(exhibition_id, outcome.status or 422, invite_form=form)
    flash(_("Invitation sent."), "success")
    return redirect(url_for("admin.exhibition_detail", exhibition_id=exhibition_id))


@admin.post("/exhibitions/<int:exhibition_id>/entries/<int:exhibition_entry_id>")
def exhibition_entry(exhibition_id: int, exhibition_entry_id: int) -> Page:
    """Accept or decline an application, or set an accepted entry's place (and time) in the roadshow."""
    exhibitions.admin_exhibition(actor(), exhibition_id)
    form = EntryForm()
    if not form.validate_on_submit():
        flash(_("Nothing was changed: check the entry's fields."), "error")
        return _detail(exhibition_id, 422)
    action = form.action.data or ""
    if action == "position":
        call: Any = lambda: exhibitions_entries.set_position(  # noqa: E731
            actor(), exhibition_id, exhibition_entry_id, form.position.data, _utc(form.slot_at.data))
    else:
        call = lambda: exhibitions_entries.decide_application(  # noqa: E731
            actor(), exhibition_id, exhibition_entry_id, action, form.reason.data)
    outcome = form_action(form, call)
    if outcome.refused:
        for name in ("reason", "position", "slot_at"):
            for message in form[name].errors:
                flash(f"{form[name].label.text}: {message}", "error")
        return _detail(exhibition_id, outcome.status or 422)
    flash(_("Entry updated; the institution has been told.") if action != "position" else _("Roadshow updated."),
          "success")
    return redirect(url_for("admin.exhibition_detail", exhibition_id=exhibition_id))
