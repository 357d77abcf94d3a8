"""Words stored as codes (states, kinds, roles) that templates translate with ``_(code)``; listed here so that
``pybabel extract`` finds them."""
from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

LABELS = (
    _l("pending"), _l("verified"), _l("rejected"), _l("suspended"), _l("active"),
    _l("research_institute"), _l("university"), _l("enterprise"), _l("evaluator"), _l("transfer_agency"),
    _l("owner"), _l("member"),
    _l("achievement"), _l("first_of_kind"),
    _l("draft"), _l("submitted"), _l("published"), _l("changes_requested"), _l("withdrawn"), _l("expired"),
    _l("approved"), _l("superseded"),
    _l("closed"),  # demands (技术需求) closed by their institution
    _l("open"),  # enquiry threads (open → closed)
    _l("fixed"), _l("negotiable"), _l("starting"),
    _l("transfer"), _l("exclusive_license"), _l("sole_license"), _l("non_exclusive_license"), _l("equity"),
    _l("joint_development"), _l("technical_service"), _l("purchase"),
    _l("invention_patent"), _l("utility_model"), _l("design"), _l("software_copyright"), _l("plant_variety"),
    _l("ic_layout_design"), _l("know_how"),
    _l("filed"), _l("granted"), _l("lapsed"), _l("invalidated"),
    _l("equipment"), _l("material"), _l("software"), _l("international"), _l("national"), _l("provincial"),
    # orders, payments and transaction records (payment statuses carry a prefix: "pending" means 待认证 above)
    _l("requested"), _l("quoted"), _l("accepted"), _l("awaiting_payment"), _l("paid"), _l("delivered"),
    _l("completed"), _l("cancelled"), _l("refunded"), _l("disputed"), _l("negotiated"),
    _l("development"), _l("license"), _l("consulting"), _l("service"),
    _l("stripe"), _l("bank_transfer"), _l("fake"), _l("platform"),  # "fake": ledger rail of entries booked before 0007
    _l("payment_pending"), _l("payment_failed"), _l("payment_succeeded"), _l("payment_cancelled"),
    _l("succeeded"), _l("failed"),  # refunds
    _l("charge"), _l("refund"), _l("settlement"), _l("platform_fee"), _l("fee_reversal"), _l("dispute_withdrawal"),
    _l("dispute_reinstatement"), _l("refund_reversal"),
    _l("revoked"),  # NDA access requests (requested, approved, rejected are above)
    # policy workflows: compensation applications (filed), evaluations (declined, reported), exhibition entries
    # (invited, applied) and registrations (registered)
    _l("declined"), _l("reported"), _l("invited"), _l("applied"), _l("registered"),
)

# What a listing lacks before it can be submitted (hall.services.publishing.listing_rules.missing_for_submission):
# pages show these service messages translated.
SUBMISSION_MESSAGES = (
    _l("required before submission"), _l("offer at least one deal mode"),
    _l("required in at least one complete language (all of title, summary, description, benefit, scenarios)"),
    _l("required for a fixed price"), _l("required for a starting price"), _l("a negotiable price has no amount"),
    _l("required for a first-of-kind product"),
)


def state_word(code: str) -> str:
    """A stored code (a state, a kind, a deal mode) in words of the current language, for sentences such as
    refusals ("awaiting_payment" → "Awaiting payment", 待付款)."""
    return str(gettext(code))
