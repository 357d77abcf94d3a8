"""Premium compensation applications as the institution prepares them: one per policy and policy year, documents
(PDFs) on a draft, filing, withdrawal. The platform's decisions are in ``insurance_review``.

States (one transition table, ``APPLICATION_MACHINE``): draft → filed → approved | rejected, approved → paid, and
draft → withdrawn (the institution gives up before filing; a filed application waits for the platform's decision).
A rejected or withdrawn application frees its policy year for a new one; any other counts, and only one may exist
per policy year (a friendly 409 here, a partial unique index in the database under a race).

Amounts are never taken from the client: the service computes them from the stored policy and the catalogue's rule
(``insurance_rules``) and books them in the append-only ``compensation_entries`` (requested on filing).
"""
from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import IO, Any

from flask_babel import gettext as _
from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError

from hall.extensions import db
from hall.labels import state_word
from hall.models import User
from hall.models.insurance import (
    OPEN_APPLICATION_STATUSES,
    CompensationApplication,
    CompensationDocument,
    CompensationEntry,
    InsurancePolicy,
)
from hall.models.types import utcnow
from hall.services.core.access import require_member
from hall.services.core.audit import record_event
from hall.services.core.errors import Conflict, InvalidInput, NotFound
from hall.services.core.state import Machine, transition
from hall.services.policy.insurance import own_policy, product_version
from hall.services.policy.insurance_rules import (
    CompensationRule,
    check_year,
    compensation_amount,
    counted_premium,
    rule_for,
)
from hall.services.publishing.attachments import checked_upload, store_file, upload_dir

# action -> (states it may start from, state it leads to)
APPLICATION_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "file": (frozenset({"draft"}), "filed"),
    "approve": (frozenset({"filed"}), "approved"),
    "reject": (frozenset({"filed"}), "rejected"),
    "pay": (frozenset({"approved"}), "paid"),
    "withdraw": (frozenset({"draft"}), "withdrawn"),
}
APPLICATION_MACHINE = Machine("compensation_application", APPLICATION_TRANSITIONS, reason_column="status_reason")
MAX_DOCUMENTS = 20


def refuse_unless(application: CompensationApplication, action: str) -> None:
    """409 in words when the table does not allow ``action`` from where the application stands."""
    if not APPLICATION_MACHINE.can(action, application.status):
        raise Conflict(_("This application is “%(state)s”: that step is not possible now.",
                         state=state_word(application.status)))


def transition_application(application: CompensationApplication, action: str, actor: User | None, *,
                           reason: str | None = None, expected_lock_version: int | None = None,
                           details: dict[str, Any] | None = None, **values: Any) -> None:
    """One move of the table: compare-and-set on status (and on lock_version when given), audited."""
    refuse_unless(application, action)
    conditions = () if expected_lock_version is None else \
        (CompensationApplication.lock_version == expected_lock_version,)
    transition(APPLICATION_MACHINE, application, action, actor=actor, reason=reason, conditions=conditions,
               details=details, lock_version=CompensationApplication.lock_version + 1, **values)


def book(application: CompensationApplication, kind: str, amount: int, actor: User | None,
         note: str | None = None) -> CompensationEntry:
    """Append one amount to the application's entries (never edited afterwards)."""
    entry = CompensationEntry(application_id=application.id, institution_id=application.institution_id, kind=kind,
                              amount=amount, currency=application.currency,
                              actor_id=actor.id if actor is not None else None, note=note)
    db.session.add(entry)
    db.session.flush()
    return entry


def own_application(actor: User, application_id: int) -> CompensationApplication:
    """An application of the actor's institution; any other id answers 404 (AUTHZ-01)."""
    application = db.session.get(CompensationApplication, application_id)
    if application is None or actor.institution_id is None or application.institution_id != actor.institution_id:
        raise NotFound(_("No such compensation application."))
    return application


def list_own_applications(actor: User, policy_id: int | None = None,
                          status: str | None = None) -> list[CompensationApplication]:
    """The institution's applications (of one policy, in one status), newest first."""
    org = require_member(actor)
    query = select(CompensationApplication).where(CompensationApplication.institution_id == org.id)
    if policy_id is not None:
        query = query.where(CompensationApplication.policy_id == policy_id)
    if status:
        query = query.where(CompensationApplication.status == status)
    return list(db.session.scalars(query.order_by(CompensationApplication.id.desc())))


def policy_rule(policy: InsurancePolicy) -> CompensationRule:
    """The catalogue's rule for the policy's product (refused for a kind without a national scheme)."""
    version = product_version(policy.listing)
    return rule_for(version.product_kind if version is not None else None)


def _year_taken(policy_id: int, year: int, but: int | None = None) -> bool:
    query = select(CompensationApplication.id).where(CompensationApplication.policy_id == policy_id,
                                                     CompensationApplication.policy_year == year,
                                                     CompensationApplication.status.in_(OPEN_APPLICATION_STATUSES))
    if but is not None:
        query = query.where(CompensationApplication.id != but)
    return db.session.scalar(select(exists(query))) or False


def _product_years_used(policy: InsurancePolicy, but: int | None = None) -> int:
    """Policy years of the product already applied for, over all its policies (renewals included)."""
    query = select(func.count()).select_from(CompensationApplication).join(InsurancePolicy).where(
        InsurancePolicy.listing_id == policy.listing_id,
        CompensationApplication.status.in_(OPEN_APPLICATION_STATUSES))
    if but is not None:
        query = query.where(CompensationApplication.id != but)
    return db.session.scalar(query) or 0


def _year_refusal(year: int) -> Conflict:
    return Conflict(_("Policy year %(year)s of this policy already has an application; open it instead.", year=year))


def _check_application(policy: InsurancePolicy, rule: CompensationRule, year: int, today: date,
                       but: int | None = None) -> None:
    check_year(policy, rule, year, today)
    if _year_taken(policy.id, year, but):
        raise _year_refusal(year)
    if _product_years_used(policy, but) >= rule.max_years:
        raise InvalidInput.field("policy_year", _("the scheme compensates at most %(years)s policy years of a "
                                                  "product, and this product has used them", years=rule.max_years))


def _amounts(policy: InsurancePolicy, rule: CompensationRule) -> dict[str, Any]:
    version = product_version(policy.listing)
    return {"product_kind": version.product_kind if version is not None else "", "share_bp": rule.share_bp,
            "rate_cap_bp": rule.rate_cap_bp, "max_years": rule.max_years,
            "counted_premium": counted_premium(policy, rule), "requested_amount": compensation_amount(policy, rule),
            "currency": policy.currency}


def create_application(actor: User, policy_id: int, policy_year: int, note: str | None = None,
                       today: date | None = None) -> CompensationApplication:
    """Start a draft application for one policy year; the amount is computed from the policy and the rule."""
    org = require_member(actor)
    policy = own_policy(actor, policy_id)
    rule = policy_rule(policy)
    _check_application(policy, rule, policy_year, today or utcnow().date())
    application = CompensationApplication(
        policy_id=policy.id, institution_id=org.id, policy_year=policy_year, status="draft", note=note,
        created_by_id=actor.id, **_amounts(policy, rule))
    db.session.add(application)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:  # another request took the year between the check and the insert
        raise _year_refusal(policy_year) from None
    record_event("compensation_application.created", "compensation_application", application.id, actor=actor,
                 to_state="draft", details={"policy_id": policy.id, "policy_year": policy_year})
    return application


def edit_application(actor: User, application_id: int, changes: dict[str, Any],
                     expected_lock_version: int | None = None, today: date | None = None) -> CompensationApplication:
    """Change a draft's policy year or note (the amount follows); 409 when stale or no longer a draft."""
    application = own_application(actor, application_id)
    if expected_lock_version is not None and expected_lock_version != application.lock_version:
        raise Conflict(_("The application changed since you read it; reload it and apply your edit again."))
    if application.status != "draft":
        raise Conflict(_("Only a draft application can be changed."))
    values: dict[str, Any] = {}
    if "note" in changes:
        values["note"] = changes["note"]
    year = changes.get("policy_year")
    if year is not None and year != application.policy_year:
        rule = policy_rule(application.policy)
        _check_application(application.policy, rule, year, today or utcnow().date(), but=application.id)
        values["policy_year"] = year
    if not values:
        return application
    application.lock_version += 1
    for name, value in values.items():
        setattr(application, name, value)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise _year_refusal(int(year or 0)) from None
    record_event("compensation_application.edited", "compensation_application", application.id, actor=actor,
                 details={"fields": sorted(values)})
    return application


def add_document(actor: User, application_id: int, stream: IO[bytes], filename: str,
                 kind: str) -> CompensationDocument:
    """Store a PDF (the policy, the premium invoice, proof of payment) on a draft application (FILE-01)."""
    application = own_application(actor, application_id)
    if application.status != "draft":
        raise Conflict(_("Documents can be added only while the application is a draft."))
    data, detected, display_name = checked_upload(stream, filename)
    if detected != "application/pdf":
        raise InvalidInput.field("file", _("upload the document as a PDF"))
    if len(application.documents) >= MAX_DOCUMENTS:
        raise InvalidInput.field("file", _("an application holds at most %(count)s documents", count=MAX_DOCUMENTS))
    document = CompensationDocument(application_id=application.id, kind=kind, filename=display_name,
                                    storage_name=store_file(data, detected), content_type=detected, size=len(data),
                                    sha256=hashlib.sha256(data).hexdigest(), uploaded_by_id=actor.id)
    application.documents.append(document)
    application.lock_version += 1
    db.session.flush()
    record_event("compensation_application.document_added", "compensation_application", application.id,
                 actor=actor, details={"document_id": document.id, "kind": kind, "filename": display_name})
    return document


def remove_document(actor: User, application_id: int, document_id: int) -> None:
    """Take a document off a draft application (a filed one keeps its documents as evidence)."""
    application = own_application(actor, application_id)
    document, _path = _document(application, document_id)
    if application.status != "draft":
        raise Conflict(_("Documents can be removed only while the application is a draft."))
    application.documents.remove(document)
    db.session.delete(document)
    application.lock_version += 1
    db.session.flush()
    record_event("compensation_application.document_removed", "compensation_application", application.id,
                 actor=actor, details={"document_id": document_id, "filename": document.filename})


def _document(application: CompensationApplication, document_id: int) -> tuple[CompensationDocument, Path]:
    document = db.session.get(CompensationDocument, document_id)
    if document is None or document.application_id != application.id:
        raise NotFound(_("No such document."))
    return document, upload_dir() / document.storage_name


def document_for_institution(actor: User, application_id: int,
                             document_id: int) -> tuple[CompensationDocument, Path]:
    """A document of one of the institution's applications (404 for anyone else's)."""
    return _document(own_application(actor, application_id), document_id)


def document_for_admin(application: CompensationApplication, document_id: int) -> tuple[CompensationDocument, Path]:
    """A document of an application the console has loaded (the caller checked the admin)."""
    return _document(application, document_id)


def file_application(actor: User, application_id: int, today: date | None = None) -> CompensationApplication:
    """File a draft with the platform: the institution must be verified, a document attached; the amount is
    computed again from the policy as it stands and booked as requested."""
    application = own_application(actor, application_id)
    require_member(actor, verified=True, unverified_message=_("Only verified institutions may file applications; "
                                                              "wait for the platform to verify yours."))
    refuse_unless(application, "file")
    if not application.documents:
        raise InvalidInput.field("documents", _("attach at least one document (the policy, the premium invoice or "
                                                "proof of payment) before filing"))
    policy = application.policy
    rule = policy_rule(policy)
    check_year(policy, rule, application.policy_year, today or utcnow().date())
    amounts = _amounts(policy, rule)
    if amounts["requested_amount"] <= 0:
        raise InvalidInput.field("policy_year", _("the computed compensation is zero"))
    transition_application(application, "file", actor, filed_at=utcnow(), **amounts)
    book(application, "requested", application.requested_amount, actor)
    return application


def withdraw_application(actor: User, application_id: int) -> CompensationApplication:
    """Give up a draft (the policy year is free again); a filed application waits for the platform."""
    application = own_application(actor, application_id)
    transition_application(application, "withdraw", actor)
    return application
