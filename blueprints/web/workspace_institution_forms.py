"""The forms of the institution pages (Flask-WTF: each carries a CSRF token). WTForms only catches what a browser
gets wrong; the data then goes through the API's own schemas (``InstitutionUpdateIn``, ``RoleIn``,
``InvitationIn``, ``ApiTokenIn``) and the services, whose messages are put beside the fields they name."""
from __future__ import annotations

from collections.abc import Collection
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from hall.models.accounts import INSTITUTION_KINDS, ROLES

PROFILE_FIELDS = ("kind", "name_zh", "name_en", "credit_code", "region_code", "address", "website", "description")
OPTIONAL_FIELDS = frozenset({"name_en", "address", "website", "description"})


def _roles() -> list[SelectChoice]:
    return [SelectChoice(role, _l(role)) for role in ROLES]


class ProfileForm(FlaskForm):
    """An owner's edit of the institution's profile (the fields of ``InstitutionUpdateIn``). The identity fields
    are left out of the page once the institution is verified; the service refuses a change to them anyway."""

    kind = SelectField(_l("Kind of institution"), validate_choice=False,
                       choices=[SelectChoice(kind, _l(kind)) for kind in INSTITUTION_KINDS])
    name_zh = StringField(_l("Name in Chinese"), validators=[Optional(), Length(max=200)])
    name_en = StringField(_l("Name in English"), validators=[Optional(), Length(max=300)])
    credit_code = StringField(_l("Unified social credit code"), validators=[Optional(), Length(max=18)])
    region_code = StringField(_l("Region code"), validators=[Optional(), Length(max=6)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    website = StringField(_l("Website"), validators=[Optional(), Length(max=300)])
    description = TextAreaField(_l("About the institution"), validators=[Optional(), Length(max=5000)])

    def payload(self, sent: Collection[str]) -> dict[str, Any]:
        """The fields the browser sent, as an API client would send them (an empty optional field is None)."""
        body: dict[str, Any] = {}
        for name in PROFILE_FIELDS:
            if name not in sent:
                continue
            value = (self[name].data or "").strip()
            body[name] = (value or None) if name in OPTIONAL_FIELDS else value
        return body


class RoleForm(FlaskForm):
    """An owner changes a member's role."""

    role = SelectField(_l("Role"), choices=_roles(), validators=[DataRequired()])


class InviteForm(FlaskForm):
    """An owner invites an e-mail address with a role."""

    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    role = SelectField(_l("Role"), choices=_roles(), default="member")


class TokenForm(FlaskForm):
    """A new personal API token: a name and, optionally, how many days it lasts."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    expires_in_days = IntegerField(_l("Expires after (days)"),
                                   validators=[Optional(), NumberRange(min=1, max=366)])
