"""First-of-kind insurance policies (首台套/首批次/首版次 保险) as their institution records them.

A policy insures a first-of-kind listing of the institution that carries a recognition (its version names a
recognition level); the insured amount is at least the product's unit price (domain.md); the premium is that of one
policy year. An institution may hold several policies for one listing (renewals), but an insurer's policy number is
recorded once. Edits are guarded by ``lock_version`` (a stale edit is 409) and refused once an application of the
policy has been filed: the filed amounts were computed from it. Compensation applications live in
``insurance_applications``, the platform's decisions in ``insurance_review``.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from hall.extensions import db
from hall.models import Listing, ListingVersion, User
from hall.models.insurance import CompensationApplication, InsurancePolicy
from hall.services.core.access import require_member
from hall.services.core.audit import record_event
from hall.services.core.errors import Conflict, InvalidInput, NotFound
from hall.services.core.state import compare_and_set

POLICY_FIELDS = ("insurer", "policy_number", "coverage", "insured_amount", "premium", "premium_rate_bp", "currency",
                 "period_start", "period_end")
LOCKED_STATUSES = ("filed", "approved", "paid")
MAX_PERIOD_YEARS = 10
MAX_PERIOD_DAYS = MAX_PERIOD_YEARS * 366  # an application in one of these fixes its policy's facts


def product_version(listing: Listing) -> ListingVersion | None:
    """The version whose facts count for insurance: the public one, else the one being edited."""
    return listing.published_version or listing.working_version


def insurable_listings(actor: User) -> list[tuple[Listing, ListingVersion]]:
    """The institution's first-of-kind listings that carry a recognition, with the version that counts."""
    org = require_member(actor)
    found = db.session.scalars(select(Listing).where(Listing.institution_id == org.id,
                                                     Listing.kind == "first_of_kind").order_by(Listing.id.desc()))
    pairs = [(listing, product_version(listing)) for listing in found]
    return [(listing, version) for listing, version in pairs if version is not None and version.recognition_level]


def insurable_listing(actor: User, listing_id: int | None) -> tuple[Listing, ListingVersion]:
    """One listing a policy may insure; a listing of another institution is "no such listing" (422 on the field)."""
    listing = db.session.get(Listing, listing_id) if listing_id else None
    if listing is None or listing.institution_id != actor.institution_id:
        raise InvalidInput.field("listing_id", _("no such listing of your institution"))
    version = product_version(listing)
    if listing.kind != "first_of_kind" or version is None:
        raise InvalidInput.field("listing_id", _("only a first-of-kind product can be insured here"))
    if not version.recognition_level:
        raise InvalidInput.field("listing_id", _("record the product's recognition (its level) on the listing first"))
    return listing, version


def own_policy(actor: User, policy_id: int) -> InsurancePolicy:
    """A policy of the actor's institution; any other id answers 404 (AUTHZ-01)."""
    policy = db.session.get(InsurancePolicy, policy_id)
    if policy is None or actor.institution_id is None or policy.institution_id != actor.institution_id:
        raise NotFound(_("No such insurance policy."))
    return policy


def list_own_policies(actor: User) -> list[InsurancePolicy]:
    """The institution's policies, newest period first."""
    org = require_member(actor)
    return list(db.session.scalars(select(InsurancePolicy).where(InsurancePolicy.institution_id == org.id)
                                   .order_by(InsurancePolicy.period_start.desc(), InsurancePolicy.id.desc())))


def _check(values: dict[str, Any], version: ListingVersion) -> None:
    """The rules over the whole policy (after merging an edit): period order, positive amounts, insured amount at
    least the unit price."""
    start, end = values.get("period_start"), values.get("period_end")
    if isinstance(start, date) and isinstance(end, date) and end <= start:
        raise InvalidInput.field("period_end", _("must be after period_start"))
    if isinstance(start, date) and isinstance(end, date) and (end - start).days > MAX_PERIOD_DAYS:
        raise InvalidInput.field("period_end", _("a policy period is at most %(years)s years", years=MAX_PERIOD_YEARS))
    for name in ("premium", "insured_amount"):
        if not isinstance(values.get(name), int) or values[name] <= 0:
            raise InvalidInput.field(name, _("must be more than zero"))
    if values.get("currency", "CNY") != "CNY":
        raise InvalidInput.field("currency", _("premium compensation is paid in yuan (CNY)"))
    if version.price_amount and values["insured_amount"] < version.price_amount:
        raise InvalidInput.field("insured_amount", _("must be at least the unit price"))
    rate = values.get("premium_rate_bp")
    if rate is not None and not 1 <= rate <= 10_000:
        raise InvalidInput.field("premium_rate_bp", _("must be between 1 and 10000 basis points"))


def _number_taken(insurer: str, number: str, policy_id: int | None) -> bool:
    query = select(InsurancePolicy.id).where(InsurancePolicy.insurer == insurer,
                                             InsurancePolicy.policy_number == number)
    if policy_id is not None:
        query = query.where(InsurancePolicy.id != policy_id)
    return db.session.scalar(select(exists(query))) or False


def _duplicate() -> Conflict:
    return Conflict(_("This insurer's policy number is already recorded; a renewal has a new policy number."))


def _flush_unique() -> None:
    """Flush; two requests racing for one policy number meet the unique constraint: a Conflict, not an error."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise _duplicate() from None


def _with_rate(values: dict[str, Any]) -> dict[str, Any]:
    """The premium rate, computed from the premium and the insured amount when the institution gave none."""
    if values.get("premium_rate_bp") is None and values.get("premium") and values.get("insured_amount"):
        values["premium_rate_bp"] = max(1, min(10_000, round(values["premium"] * 10_000 / values["insured_amount"])))
    return values


def create_policy(actor: User, data: dict[str, Any]) -> InsurancePolicy:
    """Record a policy of one of the institution's recognised first-of-kind products."""
    org = require_member(actor)
    listing, version = insurable_listing(actor, data.get("listing_id"))
    values = _with_rate({name: data.get(name) for name in POLICY_FIELDS})
    values["currency"] = values.get("currency") or "CNY"
    _check(values, version)
    if _number_taken(values["insurer"], values["policy_number"], None):
        raise _duplicate()
    policy = InsurancePolicy(listing_id=listing.id, institution_id=org.id, created_by_id=actor.id, **values)
    db.session.add(policy)
    _flush_unique()
    record_event("insurance_policy.created", "insurance_policy", policy.id, actor=actor,
                 details={"listing_id": listing.id, "insurer": policy.insurer})
    return policy


def policy_locked(policy: InsurancePolicy) -> bool:
    """Whether an application of the policy was filed (its facts are then evidence and stay as they are)."""
    return db.session.scalar(select(exists().where(CompensationApplication.policy_id == policy.id,
                                                   CompensationApplication.status.in_(LOCKED_STATUSES)))) or False


def edit_policy(actor: User, policy_id: int, changes: dict[str, Any],
                expected_lock_version: int | None) -> InsurancePolicy:
    """Change a policy's facts; 409 when it changed meanwhile or an application of it was filed."""
    policy = own_policy(actor, policy_id)
    if expected_lock_version is not None and expected_lock_version != policy.lock_version:
        raise Conflict(_("The policy changed since you read it; reload it and apply your edit again."))
    if policy_locked(policy):
        raise Conflict(_("An application of this policy has been filed: its facts can no longer change."))
    changes = {name: value for name, value in changes.items() if name in POLICY_FIELDS}
    if "premium" in changes or "insured_amount" in changes:
        changes.setdefault("premium_rate_bp", None)
    merged = _with_rate({**{name: getattr(policy, name) for name in POLICY_FIELDS}, **changes})
    version = product_version(policy.listing)
    if version is not None:
        _check(merged, version)
    if _number_taken(merged["insurer"], merged["policy_number"], policy.id):
        raise _duplicate()
    values = {name: merged[name] for name in POLICY_FIELDS if merged[name] != getattr(policy, name)}
    try:
        with db.session.begin_nested():
            compare_and_set(policy, "lock_version", policy.lock_version, policy.lock_version + 1, **values)
    except IntegrityError:
        raise _duplicate() from None
    if values:
        record_event("insurance_policy.edited", "insurance_policy", policy.id, actor=actor,
                     details={"fields": sorted(values)})
    return policy
