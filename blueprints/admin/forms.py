"""The console's forms (Flask-WTF: every one carries a CSRF token)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, Length, Optional

LISTING_ACTIONS = ("approve", "request_changes", "reject", "suspend", "reinstate")
INSTITUTION_ACTIONS = ("verify", "reject", "suspend", "reinstate")


class SignInForm(FlaskForm):
    """E-mail and password."""

    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])
    next = HiddenField()


class LanguageForm(FlaskForm):
    """Switch the console's language."""

    locale = SelectField(_l("Language"), choices=[SelectChoice("zh_CN", "中文"), SelectChoice("en", "English")])
    next = HiddenField()


class ListingDecisionForm(FlaskForm):
    """A decision on a listing; the lock version of the page refuses decisions taken on stale pages."""

    action = StringField(validators=[DataRequired(), AnyOf(LISTING_ACTIONS)])
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)])
    lock_version = IntegerField(validators=[DataRequired()])


class InstitutionDecisionForm(FlaskForm):
    """A decision on an institution's verification."""

    action = StringField(validators=[DataRequired(), AnyOf(INSTITUTION_ACTIONS)])
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)])
    status = HiddenField(validators=[DataRequired()])
