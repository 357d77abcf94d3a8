"""The institution's exhibitions in its workspace: ``/workspace/exhibitions`` lists its entries (invitations to
accept or decline, applications, accepted entries to withdraw), its registrations, and the leads each exhibition
brought to it."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import AnyOf, DataRequired

from blueprints.actor import actor
from blueprints.web import web
from blueprints.web.public_views import lang
from blueprints.web.workspace import Page, member_page, run
from hall.services.policy import exhibitions_entries, exhibitions_leads, exhibitions_registrations


class AnswerForm(FlaskForm):
    """The institution's answer on one of its entries."""

    action = StringField(validators=[DataRequired(), AnyOf(("accept", "decline", "withdraw"))])


def _render(status: int = 200) -> tuple[str, int]:
    person = actor()
    entries = exhibitions_entries.own_entries(person)
    shown = {entry.exhibition_id: entry.exhibition for entry in entries if entry.status == "accepted"}
    leads: list[tuple[Any, Any]] = [(exhibition, exhibitions_leads.own_leads(person, exhibition.id))
                                    for exhibition in shown.values()]
    return render_template("web/exhibitions/workspace.html", entries=entries, lang=lang(),
                           title_of=exhibitions_entries.entry_subject_title, leads=leads, form=AnswerForm(),
                           registrations=exhibitions_registrations.own_registrations(person)), status


@web.get("/workspace/exhibitions")
@member_page
def workspace_exhibitions() -> Page:
    """The institution's exhibition entries, registrations and leads."""
    return _render()


@web.post("/workspace/exhibitions/entries/<int:exhibition_entry_id>")
@member_page
def workspace_exhibition_answer(exhibition_entry_id: int) -> Page:
    """Accept or decline an invitation, or withdraw an entry (the institution's own entries only: others 404)."""
    form = AnswerForm()
    if not form.validate_on_submit():
        flash(_("Choose accept, decline or withdraw."), "error")
        return _render(422)
    action = form.action.data or ""

    def answer() -> Any:
        if action == "withdraw":
            return exhibitions_entries.withdraw(actor(), exhibition_entry_id)
        return exhibitions_entries.answer_invitation(actor(), exhibition_entry_id, action)

    outcome = run(form, answer, general_field="action")
    if outcome.refused:
        if outcome.status == 404:
            flash(_("No such entry."), "error")
        elif "action" in form and form.action.errors:
            flash(" ".join(str(e) for e in form.action.errors), "error")
        return _render(outcome.status or 422)
    flash({"accept": _("Invitation accepted: your entry is on the roadshow."),
           "decline": _("Invitation declined."), "withdraw": _("Entry withdrawn.")}[action], "success")
    return redirect(url_for("web.workspace_exhibitions"))
