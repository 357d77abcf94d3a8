"""The forms of the account pages (Flask-WTF: each carries a CSRF token), and how a refusal is placed on them.

The WTForms validators only catch what a browser form gets wrong (a missing field, a typo in the repeated
password); the data then goes through the API's own schemas and services, whose messages are put beside the field
they name (``place_errors``)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from hall.library_messages import translate_library_message
from hall.models.accounts import INSTITUTION_KINDS
from hall.services.core.validation import PASSWORD_MAX_LENGTH

TOKEN_MAX_LENGTH = 1000  # as the API's TokenIn
LOCALE_CHOICES = [SelectChoice("zh_CN", "中文"), SelectChoice("en", "English")]


def _email(label: Any = None) -> EmailField:
    return EmailField(label or _l("E-mail"), validators=[DataRequired(), Length(max=254)])


def _new_password(label: Any) -> PasswordField:
    return PasswordField(label, validators=[DataRequired(), Length(max=PASSWORD_MAX_LENGTH)])


def _password_again(other: str) -> PasswordField:
    return PasswordField(_l("Repeat the password"),
                         validators=[DataRequired(), EqualTo(other, message=_l("The two passwords differ."))])


def _token() -> HiddenField:
    return HiddenField(validators=[DataRequired(), Length(max=TOKEN_MAX_LENGTH)])


def _optional(value: str | None) -> str | None:
    """An empty optional field is absent (None), as an API client would leave it out."""
    value = (value or "").strip()
    return value or None


class RegistrationForm(FlaskForm):
    """A person and the new institution they will own."""

    display_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=100)])
    email = _email()
    password = _new_password(_l("Password"))
    password_again = _password_again("password")
    locale = SelectField(_l("Language of mails and pages"), choices=LOCALE_CHOICES)
    kind = SelectField(_l("Kind of institution"),
                       choices=[SelectChoice(kind, _l(kind)) for kind in INSTITUTION_KINDS])
    name_zh = StringField(_l("Name in Chinese"), validators=[DataRequired(), Length(min=2, max=200)])
    name_en = StringField(_l("Name in English"), validators=[Optional(), Length(max=300)])
    credit_code = StringField(_l("Unified social credit code"), validators=[DataRequired(), Length(max=18)])
    region_code = StringField(_l("Region code"), validators=[DataRequired(), Length(max=6)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    website = StringField(_l("Website"), validators=[Optional(), Length(max=300)])
    description = TextAreaField(_l("About the institution"), validators=[Optional(), Length(max=5000)])

    def payload(self) -> dict[str, Any]:
        """The body the API's ``RegistrationIn`` schema checks (the same shape as POST /auth/register)."""
        return {
            "email": self.email.data or "", "password": self.password.data or "",
            "display_name": self.display_name.data or "", "locale": self.locale.data,
            "institution": {
                "kind": self.kind.data, "name_zh": self.name_zh.data or "",
                "name_en": _optional(self.name_en.data), "credit_code": (self.credit_code.data or "").strip(),
                "region_code": (self.region_code.data or "").strip(), "address": _optional(self.address.data),
                "website": _optional(self.website.data), "description": _optional(self.description.data),
            },
        }


class EmailForm(FlaskForm):
    """Just an e-mail address (a new confirmation link, a password-reset link)."""

    email = _email()


class ConfirmEmailForm(FlaskForm):
    """The button that confirms an address with the mailed token."""

    token = _token()


class SignInForm(FlaskForm):
    """E-mail and password, and where to go afterwards."""

    email = _email()
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=PASSWORD_MAX_LENGTH)])
    next = HiddenField()


class ResetPasswordForm(FlaskForm):
    """A new password chosen with the mailed reset token."""

    token = _token()
    new_password = _new_password(_l("New password"))
    new_password_again = _password_again("new_password")


class AcceptInvitationForm(FlaskForm):
    """A signed-in person accepts an invitation."""

    token = _token()


class JoinAsNewcomerForm(FlaskForm):
    """Someone without an account accepts an invitation: the account is created with the invited address."""

    token = _token()
    display_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=100)])
    password = _new_password(_l("Password"))
    password_again = _password_again("password")
    locale = SelectField(_l("Language of mails and pages"), choices=LOCALE_CHOICES)


def _flatten(errors: Mapping[str, Any]) -> dict[str, list[str]]:
    """``{"institution": {"credit_code": [...]}}`` (a nested schema's errors) becomes ``{"credit_code": [...]}``."""
    flat: dict[str, list[str]] = {}
    for name, value in errors.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value))
        elif isinstance(value, (list, tuple)):
            flat.setdefault(str(name), []).extend(str(message) for message in value)
        else:
            flat.setdefault(str(name), []).append(str(value))
    return flat


def place_errors(form: FlaskForm, errors: Mapping[str, Any]) -> list[str]:
    """Put each message beside the field it names; return those no visible field of ``form`` takes (shown on
    top: a hidden token's messages too).

    The messages come from the schemas and services in English; each is looked up in the catalogs, so a message
    that has a translation is shown in the page's language."""
    left: list[str] = []
    for name, messages in _flatten(errors).items():
        translated = [translate_library_message(str(message)) for message in messages]
        if name in form and form[name].type not in ("HiddenField", "CSRFTokenField"):
            form[name].errors = list(form[name].errors or []) + translated
        else:
            left.extend(translated)
    return left
