"""Evaluation engagements in words of the current language: their states, the valuation methods, the audit
actions (for the workspace, the console and refusals)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

STATE_WORDS = {
    "requested": _l("Awaiting the evaluator"),
    "accepted": _l("Accepted, under evaluation"),
    "declined": _l("Declined by the evaluator"),
    "cancelled": _l("Cancelled by the client"),
    "reported": _l("Report issued"),
}
METHOD_WORDS = {
    "cost": _l("Cost approach"),
    "market": _l("Market approach"),
    "income": _l("Income approach"),
    "other": _l("Other method"),
}
ACTION_WORDS = {
    "evaluation.requested": _l("Evaluation requested"),
    "evaluation.accept": _l("Accepted by the evaluator"),
    "evaluation.decline": _l("Declined by the evaluator"),
    "evaluation.cancel": _l("Cancelled by the client"),
    "evaluation.report": _l("Report issued"),
    "evaluation.attached": _l("Report attached to the public listing"),
    "evaluation.detached": _l("Report detached from the public listing"),
}
ROLE_WORDS = {"client": _l("As client"), "evaluator": _l("As evaluator")}


def state_words(status: str) -> str:
    """An engagement's status in words."""
    return str(STATE_WORDS.get(status, status))


def method_words(method: str | None) -> str:
    """A valuation method in words ("—" when none)."""
    return str(METHOD_WORDS[method]) if method in METHOD_WORDS else "—"


def action_words(action: str) -> str:
    """An audit action of an engagement in words."""
    words = ACTION_WORDS.get(action)
    return str(words) if words is not None else action
