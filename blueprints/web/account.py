"""The account pages: register, confirm the e-mail address, sign in and out, reset the password, accept an
invitation. Each view checks its form, loads the data through the API's schema and calls the same service as the
API (AUTHN-01: sign-in shares the API's and the console's throttle); a refusal rolls back and is shown beside the
fields it names, with the service's status."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale, refresh
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from blueprints.actor import actor, viewer
from blueprints.web import web
from blueprints.web.account_forms import (
    TOKEN_MAX_LENGTH,
    AcceptInvitationForm,
    ConfirmEmailForm,
    EmailForm,
    JoinAsNewcomerForm,
    RegistrationForm,
    ResetPasswordForm,
    SignInForm,
    place_errors,
)
from blueprints.web.site import check_with, nav_item, safe_next
from hall.auth import authenticate_throttled, begin_browser_session
from hall.extensions import db, limiter
from hall.i18n import LOCALES
from hall.library_messages import translate_library_message
from hall.services.accounts import accounts, sessions
from hall.services.accounts.accounts import EmailNotConfirmed
from hall.services.accounts.institutions import open_invitation
from hall.services.accounts.tokens import read_token
from hall.services.core.errors import InvalidInput, ServiceError
from schemas.accounts import EmailIn, InvitationAcceptIn, PasswordResetIn, RegistrationIn

Page = str | Response | tuple[str, int] | tuple[str, int, dict[str, str]]
HOME = "/"

nav_item("web.sign_in", _l("Sign in"), "visitors", position=80)
nav_item("web.register", _l("Register"), "visitors", position=90)


def _registration_limit() -> str:
    return str(current_app.config["REGISTRATION_LIMIT"])


def _mail_limit() -> str:
    return str(current_app.config["MAIL_REQUEST_LIMIT"])


def _page_locale() -> str:
    """The page's language as an account stores it (Babel names Chinese zh_Hans_CN)."""
    locale = get_locale()
    return "en" if locale is not None and locale.language == "en" else "zh_CN"


def _refused(form: FlaskForm, error: ServiceError) -> int:
    """Undo the request's changes, put the messages beside their fields (the rest on top); returns the status."""
    db.session.rollback()
    left = place_errors(form, error.errors)
    if left or not error.errors or not isinstance(error, InvalidInput):
        for message in left or [error.message]:
            flash(translate_library_message(str(message)), "error")
    return error.status


def _token_arg() -> str:
    """The ``token`` of a mailed link ('' when missing or longer than any token we issue)."""
    token = request.args.get("token", "")
    return token if len(token) <= TOKEN_MAX_LENGTH else ""


# --- Registration and e-mail confirmation -------------------------------------------------------------------------


@web.route("/register", methods=["GET", "POST"])
@limiter.limit(_registration_limit, methods=["POST"])
def register() -> Page:
    """A person registers together with the institution they will own; a confirmation link is mailed."""
    form = RegistrationForm(locale=_page_locale())
    status = 200
    if form.validate_on_submit():
        try:
            user, _org = accounts.register(**check_with(RegistrationIn(), form.payload()))
        except ServiceError as error:
            status = _refused(form, error)
        else:
            flash(_("We mailed the link to %(email)s.", email=user.email), "success")
            return redirect(url_for("web.check_mail", sent="registration"))
    elif form.is_submitted():
        status = 422
    return render_template("web/account/register.html", form=form), status


@web.get("/check-your-mail")
def check_mail() -> str:
    """What was mailed and what to do next; the same page whether or not an address is known."""
    sent = request.args.get("sent", "")
    return render_template("web/account/check_mail.html",
                           sent=sent if sent in ("registration", "confirmation", "reset") else "")


@web.route("/confirm-email", methods=["GET", "POST"])
def confirm_email() -> Page:
    """The mailed confirmation link shows a button (mail scanners that fetch links confirm nothing); the button
    confirms. A link that cannot be used says why and offers a new one."""
    form = ConfirmEmailForm(token=_token_arg())
    problem: str | None = None
    status = 200
    if form.validate_on_submit():
        try:
            accounts.confirm_email(form.token.data or "")
        except ServiceError as error:
            db.session.rollback()
            problem, status = _problem_text(error), error.status
        else:
            flash(_("Your e-mail address is confirmed."), "success")
            return redirect(HOME if current_user.is_authenticated else url_for("web.sign_in"))
    elif form.is_submitted() or not form.token.data:
        problem, status = _("This link is incomplete: copy the whole link from the e-mail."), 400
    else:
        try:
            read_token("confirm", form.token.data)
        except ServiceError as error:
            problem, status = _problem_text(error), error.status
    return render_template("web/account/confirm_email.html", form=form, problem=problem,
                           resend_form=EmailForm(formdata=None)), status


def _problem_text(error: ServiceError) -> str:
    """What is wrong with a mailed link, in the page's language where the catalogs know the sentence."""
    messages = error.errors.get("token") or [error.message]
    return translate_library_message(str(messages[0]))


@web.route("/confirm-email/resend", methods=["GET", "POST"])
@limiter.limit(_mail_limit, methods=["POST"])
def resend_confirmation() -> Page:
    """Ask for a new confirmation link; the answer is the same whether or not the address is known."""
    form = EmailForm()
    status = 200
    if form.validate_on_submit():
        try:
            accounts.resend_confirmation(check_with(EmailIn(), {"email": form.email.data or ""})["email"])
        except ServiceError as error:
            status = _refused(form, error)
        else:
            return redirect(url_for("web.check_mail", sent="confirmation"))
    elif form.is_submitted():
        status = 422
    return render_template("web/account/resend_confirmation.html", form=form), status


# --- Signing in and out ------------------------------------------------------------------------------------------


@web.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Page:
    """Sign in with e-mail and password, then go to ``next`` (a path on this site only). Failed sign-ins count on
    the throttle the API and the console share (AUTHN-01): 429 with Retry-After once it is used up."""
    form = SignInForm(next=request.args.get("next", ""))
    if current_user.is_authenticated and not form.is_submitted():
        return redirect(safe_next(form.next.data, HOME))
    if not form.validate_on_submit():
        return render_template("web/account/sign_in.html", form=form), (422 if form.is_submitted() else 200)
    try:
        user = authenticate_throttled(form.email.data or "", form.password.data or "")
    except ServiceError as error:
        db.session.rollback()
        form.password.errors = [_sign_in_refusal(error)]
        retry_after = getattr(error, "retry_after", None)
        headers = {"Retry-After": str(retry_after)} if retry_after else {}
        unconfirmed = isinstance(error, EmailNotConfirmed)
        return render_template("web/account/sign_in.html", form=form, unconfirmed=unconfirmed), \
            error.status, headers
    chosen = session.get("locale")  # a language the visitor picked on this browser before signing in
    begin_browser_session(user)
    if chosen in LOCALES and chosen != user.locale:
        accounts.update_profile(user, {"locale": chosen})  # the latest choice is remembered on the person
    refresh()  # the form looked up the visitor's language before we knew who they are
    flash(_("Signed in."), "success")
    return redirect(safe_next(form.next.data, HOME))


def _sign_in_refusal(error: ServiceError) -> str:
    if error.status == 401:
        return _("E-mail address or password is wrong.")
    if error.status == 429:
        return _("Too many failed sign-ins; wait a while before trying again.")
    if isinstance(error, EmailNotConfirmed):
        return _("Confirm your e-mail address first: open the link we mailed you, or ask for a new one.")
    if error.status == 403:
        return _("This account is suspended; contact the platform administrators.")
    return error.message


@web.post("/sign-out")
def sign_out() -> Response:
    """End this session server-side (its cookie stops working everywhere), then forget it in the browser."""
    key = current_user.get_id() if current_user.is_authenticated else None
    if key:
        sessions.end_session(actor(), key)
    logout_user()
    session.clear()
    flash(_("Signed out."), "success")
    return redirect(url_for("web.sign_in"))


# --- Password reset ----------------------------------------------------------------------------------------------


@web.route("/reset-password/request", methods=["GET", "POST"])
@limiter.limit(_mail_limit, methods=["POST"])
def request_password_reset() -> Page:
    """Ask for a reset link; the answer is the same whether or not the address belongs to an account."""
    form = EmailForm()
    status = 200
    if form.validate_on_submit():
        try:
            accounts.request_password_reset(check_with(EmailIn(), {"email": form.email.data or ""})["email"])
        except ServiceError as error:
            status = _refused(form, error)
        else:
            return redirect(url_for("web.check_mail", sent="reset"))
    elif form.is_submitted():
        status = 422
    return render_template("web/account/request_reset.html", form=form), status


@web.route("/reset-password", methods=["GET", "POST"])
def reset_password() -> Page:
    """The mailed reset link: choose a new password. Every session and token of the account ends."""
    form = ResetPasswordForm(token=_token_arg())
    problem: str | None = None
    status = 200
    if form.validate_on_submit():
        try:
            user = accounts.reset_password(**check_with(PasswordResetIn(), {
                "token": form.token.data or "", "new_password": form.new_password.data or ""}))
        except ServiceError as error:
            if "token" in error.errors:  # the link cannot be used: say why and offer a new one
                db.session.rollback()
                problem, status = _problem_text(error), error.status
            else:
                status = _refused(form, error)
        else:
            if current_user.is_authenticated and current_user.id == user.id:
                logout_user()  # the reset ended this session too
                session.clear()
            flash(_("Your password is changed; sign in with the new one."), "success")
            return redirect(url_for("web.sign_in"))
    elif not form.token.data:
        problem, status = _("This link is incomplete: copy the whole link from the e-mail."), 400
    elif form.is_submitted():
        status = 422
    else:
        try:
            read_token("reset", form.token.data)
        except ServiceError as error:
            problem, status = _problem_text(error), error.status
    return render_template("web/account/reset_password.html", form=form, problem=problem), status


# --- Invitations -------------------------------------------------------------------------------------------------


@web.route("/accept-invitation", methods=["GET", "POST"])
def accept_invitation() -> Page:
    """The mailed invitation: a signed-in person with the invited address accepts; someone without an account
    chooses a name and a password, and is signed in once they have joined; an existing account signs in first."""
    token = _token_arg()
    form: FlaskForm = AcceptInvitationForm(token=token) if current_user.is_authenticated \
        else JoinAsNewcomerForm(token=token, locale=_page_locale())
    status = 200
    if form.validate_on_submit():
        fields = {"token": form.token.data or "", "locale": _page_locale()}
        if isinstance(form, JoinAsNewcomerForm):
            fields.update(display_name=form.display_name.data or "", password=form.password.data or "",
                          locale=form.locale.data or "zh_CN")
        try:
            data = check_with(InvitationAcceptIn(), fields)
            user = accounts.accept_invitation(data.pop("token"), viewer(), **data)
        except ServiceError as error:
            status = _refused(form, error)
        else:
            if not current_user.is_authenticated:
                begin_browser_session(user)
                refresh()
            name = user.institution.name_zh if user.institution is not None else ""
            flash(_("You joined %(name)s.", name=name), "success")
            return redirect(HOME)
    elif form.is_submitted():
        status = 422
    return _invitation_page(form, status)


def _invitation_page(form: FlaskForm, status: int) -> Page:
    """The invitation as this visitor meets it: open or not, for them, for an account that must sign in first,
    or for a newcomer."""
    token = form.token.data or ""
    try:
        if not token:
            raise InvalidInput.field("token", _("this link is not valid; copy the whole link from the e-mail"))
        invitation, _claims = open_invitation(token)
    except ServiceError as error:
        status = status if status >= 400 else (error.status if token else 400)
        return render_template("web/account/accept_invitation.html", form=form, problem=_problem_text(error),
                               invitation=None, state="closed"), status
    if current_user.is_authenticated:
        state = "accept" if current_user.email == invitation.email else "other_account"
    else:
        state = "sign_in" if accounts.find_user_by_email(invitation.email) is not None else "newcomer"
    here = url_for("web.accept_invitation", token=token)
    return render_template("web/account/accept_invitation.html", form=form, problem=None, invitation=invitation,
                           state=state, sign_in_url=url_for("web.sign_in", next=here)), status
