"""Schemas for people, sign-in, tokens and passwords."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from hall.models.accounts import LOCALES, ROLES
from schemas.common import StrictSchema
from schemas.institutions import InstitutionIn, InstitutionSummaryOut

Email = fields.Email(required=True, validate=validate.Length(max=254))
DisplayName = fields.String(required=True, validate=validate.Length(min=1, max=100))
Locale = fields.String(load_default="zh_CN", validate=validate.OneOf(LOCALES))


def _password(**kwargs: object) -> fields.String:
    return fields.String(load_only=True, validate=validate.Length(min=1, max=128), **kwargs)  # type: ignore[arg-type]


class RegistrationIn(StrictSchema):
    """A person registering together with the institution they will own."""

    email = Email
    password = _password(required=True)
    display_name = DisplayName
    locale = Locale
    institution = fields.Nested(InstitutionIn, required=True)


class EmailIn(StrictSchema):
    """Just an e-mail address (resend confirmation, ask for a password reset)."""

    email = Email


class TokenIn(StrictSchema):
    """A token from a mailed link."""

    token = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class SignInIn(StrictSchema):
    """E-mail and password."""

    email = Email
    password = _password(required=True)


class PasswordChangeIn(StrictSchema):
    """The current password and the new one."""

    current_password = _password(required=True)
    new_password = _password(required=True)


class PasswordResetIn(StrictSchema):
    """A reset token and the new password."""

    token = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    new_password = _password(required=True)


class InvitationAcceptIn(StrictSchema):
    """Accept an invitation; a new account also needs a display name and a password."""

    token = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    display_name = fields.String(validate=validate.Length(min=1, max=100))
    password = _password()
    locale = Locale


class ProfileIn(StrictSchema):
    """What a person may change about themselves."""

    display_name = fields.String(validate=validate.Length(min=1, max=100))
    locale = fields.String(validate=validate.OneOf(LOCALES))


class UserOut(Schema):
    """A person as they see themselves."""

    id = fields.Integer()
    email = fields.String()
    display_name = fields.String()
    locale = fields.String()
    status = fields.String()
    is_admin = fields.Boolean()
    email_confirmed = fields.Function(lambda user: user.email_confirmed_at is not None)
    institution_role = fields.String(allow_none=True)
    institution = fields.Nested(InstitutionSummaryOut, allow_none=True)
    created_at = fields.DateTime()


class SignInOut(Schema):
    """The signed-in person and the CSRF token cookie-authenticated writes must send."""

    user = fields.Nested(UserOut)
    csrf_token = fields.String()


class CsrfOut(Schema):
    """A CSRF token for the current session."""

    csrf_token = fields.String()


class RegistrationOut(Schema):
    """What registration created."""

    user = fields.Nested(UserOut)
    message = fields.String()


class MessageOut(Schema):
    """A sentence telling what happened."""

    message = fields.String()


class ApiTokenIn(StrictSchema):
    """A new personal access token: a name and, optionally, how many days it lasts."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    expires_in_days = fields.Integer(validate=validate.Range(min=1, max=366))


class ApiTokenOut(Schema):
    """A token as listed (never its secret)."""

    id = fields.Integer()
    name = fields.String()
    prefix = fields.String()
    created_at = fields.DateTime()
    expires_at = fields.DateTime(allow_none=True)


class ApiTokenCreatedOut(ApiTokenOut):
    """A token just created: the only time its secret is shown."""

    token = fields.String(metadata={"description": "send as 'Authorization: Bearer <token>'; shown once"})


class MemberOut(Schema):
    """A person in an institution, as its members see them."""

    id = fields.Integer()
    email = fields.String()
    display_name = fields.String()
    institution_role = fields.String(data_key="role")
    status = fields.String()


class RoleIn(StrictSchema):
    """A member's new role."""

    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class InvitationIn(StrictSchema):
    """Invite an address to join."""

    email = Email
    role = fields.String(load_default="member", validate=validate.OneOf(ROLES))


class InvitationOut(Schema):
    """An open invitation."""

    id = fields.Integer()
    email = fields.String()
    role = fields.String()
    created_at = fields.DateTime()
    expires_at = fields.DateTime()
