"""Evaluation reports: the evaluator issues one on an accepted engagement (GB/T 22900 grades, value range in minor
units, valuation method, report number unique per evaluator, issue date, conclusion, the PDF); the client attaches
it to its public listing or detaches it; the public sees only attached reports of public listings.

An issued report is immutable: nothing here changes it after ``issue_report`` (a correction is a new engagement
with a new report, and the client attaches that one instead). The PDF goes through the attachment checks (FILE-01:
size limit, type judged by content, a generated storage name) and is served only through ``report_file``.
"""
from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import IO, Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from hall.extensions import db
from hall.models import Listing, User
from hall.models.evaluations import VALUATION_METHODS, EvaluationEngagement
from hall.models.types import utcnow
from hall.money import CURRENCIES, MAX_MINOR
from hall.services.core.audit import record_event
from hall.services.core.errors import Conflict, InvalidInput, NotFound
from hall.services.core.state import compare_and_set
from hall.services.policy.evaluations import as_client, as_evaluator, move, tell
from hall.services.publishing.attachments import checked_upload, store_file, upload_dir
from hall.services.publishing.hall import listing_is_public, public_listing_conditions

GRADES = {"maturity_grade": 9, "innovation_grade": 4, "advancement_grade": 7}
REPORT_FIELDS = ("maturity_grade", "innovation_grade", "advancement_grade", "value_low", "value_high", "currency",
                 "valuation_method", "report_number", "issued_on", "conclusion_zh", "conclusion_en")
NUMBER_MAX = 60
CONCLUSION_MAX = 8000


def check_report(values: dict[str, Any], today: date | None = None) -> dict[str, Any]:
    """The report's values, checked: every grade in its scale, the value range (both ends or none, low ≤ high,
    within the platform's limits), a known method and currency, a report number, an issue date not in the future.
    Refuses with every field at fault named (422)."""
    today = today or utcnow().date()
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for name, top in GRADES.items():
        grade = values.get(name)
        if not isinstance(grade, int) or isinstance(grade, bool) or not 1 <= grade <= top:
            errors[name] = [_("a whole number from 1 to %(top)s", top=top)]
        clean[name] = grade
    low, high = values.get("value_low"), values.get("value_high")
    for name, amount in (("value_low", low), ("value_high", high)):
        if amount is not None and (not isinstance(amount, int) or isinstance(amount, bool)
                                   or not 0 <= amount <= MAX_MINOR):
            errors[name] = [_("an amount from 0 to %(top)s in minor units", top=MAX_MINOR)]
    if (low is None) != (high is None):
        errors["value_low" if low is None else "value_high"] = [_("give both ends of the value range, or neither")]
    elif low is not None and high is not None and "value_low" not in errors and "value_high" not in errors \
            and low > high:
        errors["value_high"] = [_("must not be below the lower end of the range")]
    clean.update(value_low=low, value_high=high)
    currency = values.get("currency") or "CNY"
    if currency not in CURRENCIES:
        errors["currency"] = [_("one of %(codes)s", codes=", ".join(CURRENCIES))]
    method = values.get("valuation_method")
    if method not in VALUATION_METHODS:
        errors["valuation_method"] = [_("choose the valuation method")]
    number = (values.get("report_number") or "").strip()
    if not number or len(number) > NUMBER_MAX:
        errors["report_number"] = [_("the report number, at most %(count)s characters", count=NUMBER_MAX)]
    issued_on = values.get("issued_on")
    if not isinstance(issued_on, date):
        errors["issued_on"] = [_("the date the report was issued")]
    elif issued_on > today:
        errors["issued_on"] = [_("the issue date cannot be in the future")]
    for name in ("conclusion_zh", "conclusion_en"):
        text = (values.get(name) or "").strip() or None
        if text is not None and len(text) > CONCLUSION_MAX:
            errors[name] = [_("at most %(count)s characters", count=CONCLUSION_MAX)]
        clean[name] = text
    if not (clean["conclusion_zh"] or clean["conclusion_en"]) and "conclusion_zh" not in errors:
        errors["conclusion_zh"] = [_("summarise the conclusion in Chinese or in English")]
    if errors:
        raise InvalidInput(_("The report is not complete; correct the fields named in errors."), errors)
    clean.update(currency=currency, valuation_method=method, report_number=number, issued_on=issued_on)
    return clean


def issue_report(actor: User, engagement_id: int, values: dict[str, Any], stream: IO[bytes] | None,
                 filename: str | None) -> EvaluationEngagement:
    """The evaluator issues the report of an accepted engagement, with its PDF; the client is told. The report
    number is unique per evaluator; the report never changes afterwards."""
    engagement = as_evaluator(actor, engagement_id)
    if engagement.status != "accepted":
        move(engagement, "report", actor)  # answers 409 naming the state
    clean = check_report(values)
    if db.session.scalar(select(EvaluationEngagement.id).where(
            EvaluationEngagement.evaluator_institution_id == engagement.evaluator_institution_id,
            EvaluationEngagement.report_number == clean["report_number"])) is not None:
        raise InvalidInput.field("report_number", _("your institution already issued a report with this number"))
    if stream is None:
        raise InvalidInput.field("file", _("attach the report as a PDF file"))
    data, detected, display_name = checked_upload(stream, filename or "report.pdf")
    if detected != "application/pdf":
        raise InvalidInput.field("file", _("the report must be a PDF file"))
    storage_name = store_file(data, detected)
    try:
        with db.session.begin_nested():
            move(engagement, "report", actor, reported_by_id=actor.id, reported_at=utcnow(),
                 report_filename=display_name, report_storage_name=storage_name, report_content_type=detected,
                 report_size=len(data), report_sha256=hashlib.sha256(data).hexdigest(), **clean)
    except IntegrityError:  # another report with this number was issued meanwhile
        raise InvalidInput.field("report_number",
                                 _("your institution already issued a report with this number")) from None
    tell(engagement, "reported", to_evaluator=False)
    return engagement


def _set_attached(actor: User, engagement_id: int, attached: bool) -> EvaluationEngagement:
    engagement = as_client(actor, engagement_id)
    if engagement.status != "reported":
        raise Conflict(_("Only an issued report can be attached to the listing."))
    if engagement.attached == attached:
        return engagement  # already so: nothing to change
    compare_and_set(engagement, "attached", not attached, attached, attached_at=utcnow() if attached else None,
                    attached_by_id=actor.id if attached else None)
    record_event("evaluation.attached" if attached else "evaluation.detached", "evaluation", engagement.id,
                 actor=actor, details={"listing_id": engagement.listing_id})
    return engagement


def attach(actor: User, engagement_id: int) -> EvaluationEngagement:
    """The client shows an issued report on its public listing ("evaluated by …")."""
    return _set_attached(actor, engagement_id, True)


def detach(actor: User, engagement_id: int) -> EvaluationEngagement:
    """The client stops showing a report on its public listing (the report itself stays)."""
    return _set_attached(actor, engagement_id, False)


# --- what the public sees ---------------------------------------------------------------------------------------

def public_reports(listing: Listing) -> list[EvaluationEngagement]:
    """The reports attached to a public listing, newest issue first; nothing for a listing that is not public."""
    if not listing_is_public(listing):
        return []
    return list(db.session.scalars(select(EvaluationEngagement).where(
        EvaluationEngagement.listing_id == listing.id, EvaluationEngagement.status == "reported",
        EvaluationEngagement.attached.is_(True)).options(joinedload(EvaluationEngagement.evaluator)).order_by(
            EvaluationEngagement.issued_on.desc(), EvaluationEngagement.id.desc())))


def public_report_count(evaluator_institution_id: int) -> int:
    """How many reports of this evaluator are attached to listings the public can see."""
    public = select(Listing.id).where(*public_listing_conditions())
    return db.session.scalar(select(func.count()).select_from(EvaluationEngagement).where(
        EvaluationEngagement.evaluator_institution_id == evaluator_institution_id,
        EvaluationEngagement.status == "reported", EvaluationEngagement.attached.is_(True),
        EvaluationEngagement.listing_id.in_(public))) or 0


def report_file(viewer: User | None, engagement_id: int) -> tuple[EvaluationEngagement, Path]:
    """A report's PDF: for anyone while it is attached to a public listing; otherwise only for the two institutions
    and platform admins. Anything else (no report yet, someone else's) is 404."""
    engagement = db.session.get(EvaluationEngagement, engagement_id)
    if engagement is None or engagement.status != "reported" or engagement.report_storage_name is None:
        raise NotFound(_("No such evaluation report."))
    public = engagement.attached and listing_is_public(engagement.listing)
    party = viewer is not None and (viewer.is_admin or viewer.institution_id in (
        engagement.client_institution_id, engagement.evaluator_institution_id))
    if not (public or party):
        raise NotFound(_("No such evaluation report."))
    return engagement, upload_dir() / engagement.report_storage_name
