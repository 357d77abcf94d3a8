"""The NDA data room's forms (Flask-WTF: each carries a CSRF token). What they hold is checked by the API's schemas
(``schemas.data_rooms``) before a service is called; the services' refusals show beside the field they name."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, TextAreaField


class AcceptNdaForm(FlaskForm):
    """Accept the NDA version read on the page for the person's institution (the label names it)."""

    nda_version = HiddenField()
    accept = BooleanField(_l("I accept this NDA on behalf of my institution"))


class NdaTextForm(FlaskForm):
    """The listing's NDA in both languages; each save is a new version."""

    text_zh = TextAreaField(_l("NDA text (Chinese)"))
    text_en = TextAreaField(_l("NDA text (English)"))


class AutoApproveForm(FlaskForm):
    """Approve every request at once, or decide each one."""

    auto_approve = BooleanField(_l("Approve every request at once (auto-approve)"))


class DecisionForm(FlaskForm):
    """Approve, reject or revoke an access request; a reason is required to reject or revoke (the service says so
    beside the field)."""

    reason = TextAreaField(_l("Reason (shown to the requesting institution)"))


class ConfidentialForm(FlaskForm):
    """Mark a file confidential (1) or public again (0)."""

    confidential = HiddenField()


def decision_form(action: str, request_id: int, posted: bool = False) -> DecisionForm:
    """The form of one action on one request, under its own prefix so that many share the data-room page."""
    options = {} if posted else {"formdata": None}
    return DecisionForm(prefix=f"{action}-{request_id}", **options)
