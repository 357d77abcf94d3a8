"""Platform admins decide on premium compensation applications (console only): approve an amount at most the
computed cap (a reason when lower), reject with a reason, then record the payment (amount = approved, a payment
reference used once). Admins never decide their own institution's applications; a decision taken on a stale page
is refused (lock version). Every decision is audited, booked in the append-only entries when it carries an amount,
and told to the institution in its inbox (group "reviews": the platform's decisions on what it filed).
"""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, exists, select
from sqlalchemy.exc import IntegrityError

from hall.extensions import db
from hall.labels import state_word
from hall.library_messages import N_
from hall.models import User
from hall.models.insurance import APPLICATION_STATUSES, CompensationApplication
from hall.models.types import utcnow
from hall.money import money_text
from hall.services.core import inbox
from hall.services.core.access import forbid_own_institution, require_admin
from hall.services.core.errors import Conflict, InvalidInput, NotFound
from hall.services.policy.insurance_applications import book, transition_application

TITLE = N_("Insurance compensation, policy %(number)s year %(year)s: %(decision)s")
BODY = N_("The platform decided on your premium compensation application for policy %(number)s, year %(year)s. "
          "Decision: %(decision)s. Amount: %(amount)s.\nReason: %(reason)s")
PAID_BODY = N_("The premium compensation for policy %(number)s, year %(year)s has been paid: %(amount)s "
               "(payment reference %(reference)s).")


def applications_query(admin: User, status: str | None = None) -> Select[Any]:
    """The console's list: filed applications awaiting a decision, oldest first (no status); or every application
    in ``status``, newest first."""
    require_admin(admin, _("decide on compensation applications"))
    query = select(CompensationApplication)
    if status is None or status not in APPLICATION_STATUSES:
        return query.where(CompensationApplication.status == "filed").order_by(CompensationApplication.filed_at,
                                                                              CompensationApplication.id)
    return query.where(CompensationApplication.status == status).order_by(CompensationApplication.id.desc())


def console_application(admin: User, application_id: int) -> CompensationApplication:
    """Any application, for an admin to read (deciding has further checks)."""
    require_admin(admin, _("decide on compensation applications"))
    application = db.session.get(CompensationApplication, application_id)
    if application is None:
        raise NotFound(_("No such compensation application."))
    return application


def _decidable(admin: User, application_id: int, expected_lock_version: int | None) -> CompensationApplication:
    application = console_application(admin, application_id)
    forbid_own_institution(admin, application.institution_id,
                           doing=_("decide on their own institution's compensation applications"))
    if expected_lock_version is not None and application.lock_version != expected_lock_version:
        raise Conflict(_("The application changed after you opened it; reload the page and decide again."))
    return application


def _tell(application: CompensationApplication, body: str, amount: int | None, reason: str | None,
          reference: str | None = None) -> None:
    currency = application.currency
    inbox.notify(f"compensation_application.{application.status}", group="reviews", title=TITLE, body=body,
                 institution_id=application.institution_id,
                 params={"number": application.policy.policy_number, "year": application.policy_year,
                         "decision": lambda: state_word(application.status),
                         "amount": (lambda: money_text(amount, currency)) if amount else "—",
                         "reason": reason or "—", "reference": reference or "—"},
                 link=f"/workspace/insurance/applications/{application.id}")


def approve(admin: User, application_id: int, amount: int | None, reason: str | None = None,
            expected_lock_version: int | None = None) -> CompensationApplication:
    """Approve a filed application for ``amount`` (minor units, at most the computed cap; a reason is required
    when it is lower)."""
    application = _decidable(admin, application_id, expected_lock_version)
    reason = (reason or "").strip() or None
    if amount is None or amount <= 0:
        raise InvalidInput.field("amount", _("give the approved amount"))
    if amount > application.requested_amount:
        raise InvalidInput.field("amount", _("must not exceed the computed cap of %(cap)s",
                                             cap=money_text(application.requested_amount, application.currency)))
    if amount < application.requested_amount and reason is None:
        raise InvalidInput.field("reason", _("say why the approved amount is below the computed cap"))
    transition_application(application, "approve", admin, reason=reason, expected_lock_version=application.lock_version,
                           details={"amount": amount}, approved_amount=amount, decided_at=utcnow(),
                           decided_by_id=admin.id)
    book(application, "approved", amount, admin, reason)
    _tell(application, BODY, amount, reason)
    return application


def reject(admin: User, application_id: int, reason: str | None,
           expected_lock_version: int | None = None) -> CompensationApplication:
    """Reject a filed application with a reason (the policy year is free for a new application)."""
    application = _decidable(admin, application_id, expected_lock_version)
    reason = (reason or "").strip() or None
    if reason is None:
        raise InvalidInput.field("reason", _("a reason is required to reject"))
    transition_application(application, "reject", admin, reason=reason, expected_lock_version=application.lock_version,
                           decided_at=utcnow(), decided_by_id=admin.id)
    _tell(application, BODY, None, reason)
    return application


def _reference_taken(reference: str) -> bool:
    return db.session.scalar(select(exists().where(CompensationApplication.payment_reference == reference))) or False


def record_payment(admin: User, application_id: int, reference: str | None,
                   expected_lock_version: int | None = None) -> CompensationApplication:
    """Record that the approved amount was paid to the institution, under a payment reference used only once."""
    application = _decidable(admin, application_id, expected_lock_version)
    reference = (reference or "").strip()
    if not reference:
        raise InvalidInput.field("reference", _("give the payment reference"))
    if len(reference) > 120:
        raise InvalidInput.field("reference", _("at most 120 characters"))
    if _reference_taken(reference):
        raise InvalidInput.field("reference", _("this payment reference is already recorded"))
    amount = application.approved_amount or 0
    try:
        with db.session.begin_nested():
            transition_application(application, "pay", admin, expected_lock_version=application.lock_version,
                                   details={"amount": amount, "reference": reference}, paid_at=utcnow(),
                                   payment_reference=reference)
    except IntegrityError:
        raise InvalidInput.field("reference", _("this payment reference is already recorded")) from None
    book(application, "paid", amount, admin, reference)
    _tell(application, PAID_BODY, amount, None, reference)
    return application
