"""Codes in words, for pages (the console and the web front): taxonomy and region names, audit actions, listing
field names and their values (money in the locale's format, lists, yes/no). Registered as Jinja filters."""
from __future__ import annotations

from typing import Any

from flask import Flask, g, has_request_context
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from hall.i18n import money
from hall.services.publishing.hall import taxonomy
from hall.services.trading.scope import field_label, territory_label

OBJECT_WORDS = {
    "listing": _l("Listing"), "listing_version": _l("Listing version"), "order": _l("Order"),
    "payment": _l("Payment"), "refund": _l("Refund"), "institution": _l("Institution"), "user": _l("Person"),
    "member": _l("Member"), "api_token": _l("API token"), "ledger": _l("Transaction record"),
    "webhook": _l("Payment provider"),
    "demand": _l("Demand"), "demand_revision": _l("Demand revision"),
    # policy workflows
    "insurance_policy": _l("Insurance policy"), "compensation_application": _l("Compensation application"),
    "contract": _l("Contract record"), "evaluation": _l("Evaluation"), "exhibition": _l("Exhibition"),
    "exhibition_entry": _l("Exhibition entry"), "exhibition_registration": _l("Exhibition registration"),
}
VERB_WORDS = {
    "create": _l("created"), "created": _l("created"), "registered": _l("registered"), "edited": _l("edited"),
    "submit": _l("submitted for review"), "renew": _l("submitted again"), "approve": _l("approved"),
    "request_changes": _l("changes requested"), "reject": _l("rejected"), "withdraw": _l("withdrawn"),
    "suspend": _l("suspended"), "suspended": _l("suspended"), "reinstate": _l("reinstated"),
    "reinstated": _l("reinstated"), "expire": _l("expired"), "supersede": _l("superseded"),
    "return": _l("returned to draft"), "restock": _l("stock recounted"),
    "revision_submitted": _l("revision submitted"), "revision_approve": _l("revision approved"),
    "revision_request_changes": _l("changes requested on the revision"),
    "revision_reject": _l("revision rejected"), "revision_returned": _l("revision returned to draft"),
    "attachment_added": _l("file added"), "attachment_removed": _l("file removed"),
    "verify": _l("verified"), "resubmit": _l("submitted again"), "profile_updated": _l("profile updated"),
    "quote": _l("quoted"), "accept": _l("accepted"), "start_payment": _l("payment started"), "pay": _l("paid"),
    "deliver": _l("delivered"), "complete": _l("completed"), "cancel": _l("cancelled"), "dispute": _l("disputed"),
    "resolve": _l("dispute resolved"), "refund": _l("refunded"), "refund_reversed": _l("refund reversed"),
    "paid_after_close": _l("paid after closing"), "claim_lost": _l("exclusivity lost"),
    "start": _l("started"), "succeed": _l("succeeded"), "fail": _l("failed"), "mismatch": _l("report refused"),
    "intent_attached": _l("card payment prepared"), "request": _l("requested"),
    "signed_in": _l("signed in"), "signed_out": _l("signed out"), "email_confirmed": _l("e-mail confirmed"),
    "password_changed": _l("password changed"), "password_reset": _l("password reset"),
    "password_reset_requested": _l("password reset requested"), "admin_granted": _l("made a platform admin"),
    "invited": _l("invited"), "invitation_revoked": _l("invitation revoked"), "joined": _l("joined"),
    "removed": _l("removed"), "role_changed": _l("role changed"), "revoked": _l("revoked"),
    "refused": _l("refused"),
    "close": _l("closed"), "revision_started": _l("revision started"),
    # policy workflows
    "document_added": _l("document added"), "document_removed": _l("document removed"), "file": _l("filed"),
    "recorded": _l("recorded"), "registration": _l("registration recorded"),
    "technology_amount": _l("technology-transaction amount changed"), "requested": _l("request made"),
    "decline": _l("declined"), "report": _l("report issued"), "attached": _l("attached to the listing"),
    "detached": _l("detached from the listing"), "publish": _l("published"), "update": _l("updated"),
    "apply": _l("applied"), "reapply": _l("applied again"), "invite": _l("invited"),
    "reinvite": _l("invited again"), "register": _l("registered"),
}
FIELD_WORDS = {
    "title_zh": _l("Title (Chinese)"), "title_en": _l("Title (English)"),
    "summary_zh": _l("Summary (Chinese)"), "summary_en": _l("Summary (English)"),
    "description_zh": _l("Description (Chinese)"), "description_en": _l("Description (English)"),
    "scenarios_zh": _l("Application scenarios (Chinese)"), "scenarios_en": _l("Application scenarios (English)"),
    "benefit_zh": _l("Benefit over existing solutions (Chinese)"),
    "benefit_en": _l("Benefit over existing solutions (English)"),
    "keywords": _l("Keywords"), "direction_code": _l("Direction"), "field_code": _l("Field"),
    "region_code": _l("Region"), "trl": _l("Technology readiness level (TRL)"), "evaluation": _l("Evaluation"),
    "ip_assets": _l("Intellectual property"), "inventors": _l("Inventors"), "deal_modes": _l("Deal modes"),
    "price_mode": _l("Price mode"), "price_amount": _l("Price"), "currency": _l("Currency"),
    "state_funded": _l("State funded"), "funding_source": _l("Funding source"),
    "first_of_kind": _l("First-of-kind recognition"), "attachments": _l("Attachments"), "stock": _l("Stock"),
    # evaluation and first-of-kind details
    "maturity_level": _l("Maturity level"), "innovation_level": _l("Innovation level"),
    "advancement_level": _l("Advancement level"), "evaluator": _l("Evaluator"), "report_number": _l("Report number"),
    "report_date": _l("Report date"), "product_kind": _l("Product kind"), "recognition_level": _l("Recognition level"),
    "catalogue": _l("Catalogue"), "recognized_by": _l("Recognised by"), "announcement_date": _l("Announcement date"),
    "valid_from": _l("Valid from"), "valid_until": _l("Valid until"), "stock_unit": _l("Unit"),
    "lead_time_days": _l("Lead time (days)"), "insurer": _l("Insurer"), "policy_number": _l("Policy number"),
    "premium_rate_bp": _l("Premium rate (basis points)"), "period_start": _l("Period start"),
    "period_end": _l("Period end"), "compensation_status": _l("Compensation status"),
    # demands (技术需求)
    "field_codes": _l("Fields"), "trl_min": _l("Lowest TRL wanted"), "trl_max": _l("Highest TRL wanted"),
    "budget_min": _l("Budget from"), "budget_max": _l("Budget up to"), "budget_negotiable": _l("Budget negotiable"),
    "deadline": _l("Deadline"), "bounty_amount": _l("Bounty for the solver"),
}


def _lang() -> str:
    return "en" if str(get_locale()) == "en" else "zh"


def _taxonomy_names() -> dict[str, dict[str, str]]:
    """Every direction and field code → its names, read once per request (a page of cards names many fields)."""
    names: dict[str, dict[str, str]] | None = g.get("taxonomy_names")
    if names is None:
        names = {}
        for direction in taxonomy():
            names[direction.code] = {"zh": direction.name_zh, "en": direction.name_en}
            names.update({item.code: {"zh": item.name_zh, "en": item.name_en} for item in direction.fields})
        g.taxonomy_names = names
    return names


def taxonomy_name(code: str | None) -> str:
    """A direction's or field's name in the current language (the code itself if unknown)."""
    if not code:
        return "—"
    known = _taxonomy_names().get(code) if has_request_context() else None
    return (known or field_label(code))[_lang()]


def region_name(code: str | None) -> str:
    """A region's name in the current language (below a province: its province and the code)."""
    return "—" if not code else territory_label(code)[_lang()]


def action_words(action: str) -> str:
    """An audit event's action in words: "listing.created" → "Listing · created" (translated)."""
    kind, _dot, verb = action.partition(".")
    noun = OBJECT_WORDS.get(kind)
    if kind == "ledger":
        return f"{noun} · {_(verb)}"
    words = VERB_WORDS.get(verb)
    if noun is None or words is None:
        return action.replace("_", " ")
    return f"{noun} · {words}"


def field_words(name: str) -> str:
    """A listing field's label (the column name if unknown)."""
    words = FIELD_WORDS.get(name)
    return str(words) if words is not None else name.replace("_", " ")


def _plain(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dict):
        return "; ".join(f"{field_words(k)}: {_plain(v)}" for k, v in value.items() if v not in (None, "", []))
    if isinstance(value, list):
        return "; ".join(_plain(item) for item in value)
    return str(value)


def field_value(name: str, value: Any, currency: str = "CNY") -> str:
    """A listing field's value in words: money formatted, codes named, lists joined, yes/no."""
    if value is None or value == "" or value == []:
        return "—"
    if name in ("price_amount", "budget_min", "budget_max", "bounty_amount"):
        return money(value, currency)
    if name == "field_codes":
        return ", ".join(taxonomy_name(code) for code in value)
    if name in ("direction_code", "field_code"):
        return taxonomy_name(value)
    if name == "region_code":
        return region_name(value)
    if name in ("deal_modes", "price_mode"):
        return ", ".join(_(mode) for mode in (value if isinstance(value, list) else [value]))
    if name == "keywords":
        return ", ".join(value)
    if name in ("product_kind", "recognition_level", "stock_unit", "compensation_status"):
        return _(value)
    return _plain(value)


def install(app: Flask) -> None:
    """Make the helpers Jinja filters of ``app``."""
    app.jinja_env.filters.update(taxonomy_name=taxonomy_name, region_name=region_name, action_words=action_words,
                                 field_words=field_words, field_value=field_value)
