"""What the public may see of a first-of-kind product's insurance policy: the one rule every public output (the
hall's API list and detail, the public listing page, the directory export, the sitemap and notices) applies.

The policy number, the premium and the premium rate (which reveals the premium) belong to the listing's institution
and the platform's admins; the public sees that the product is insured, by whom, for how much and for which period.
"""
from __future__ import annotations

from typing import Any

# The insurance facts anyone may read (an allow-list: a key added to the policy later stays private).
PUBLIC_INSURANCE_KEYS = ("insurer", "insured_amount", "period_start", "period_end", "compensation_status")
PRIVATE_INSURANCE_KEYS = ("policy_number", "premium", "premium_rate_bp")


def public_insurance(insurance: dict[str, Any] | None) -> dict[str, Any] | None:
    """The public part of a listing version's ``first_of_kind.insurance`` (None stays None)."""
    if not insurance:
        return None
    return {key: insurance[key] for key in PUBLIC_INSURANCE_KEYS if key in insurance}


def public_first_of_kind(details: dict[str, Any] | None) -> dict[str, Any] | None:
    """A copy of a version's ``first_of_kind`` details fit for the public: the insurance policy without its number,
    premium and premium rate. The stored details are never changed."""
    if details is None:
        return None
    public = dict(details)
    if "insurance" in public:
        public["insurance"] = public_insurance(public["insurance"])
    return public
