"""The catalogue's premium compensation rules, in one table by product kind, and the arithmetic of an application.

- First major technical equipment (首台套), 财建〔2015〕19号: central funds compensate 80 % of the annual premium; the
  premium rate is counted at most 3 % of the insured amount; for up to 3 policy years.
- First batch of new material (首批次), 工信部联原〔2017〕222号: 80 %, rate counted at most 3 %, up to 3 years.
- First version of software (首版次): no national scheme exists (only some provinces run their own), so the platform
  tracks the policy but accepts no application for it: ``RULES`` has no entry and ``rule_for`` refuses.

The amount requested is always computed here from the stored policy, never taken from the client:
share × min(the year's premium, insured amount × rate cap), rounded down to the fen.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from hall.models.insurance import InsurancePolicy
from hall.services.core.errors import InvalidInput

BASIS_POINTS = 10_000


@dataclass(frozen=True)
class CompensationRule:
    """One catalogue's rule: the share of the premium compensated, the premium rate counted at most (both in basis
    points), the number of policy years compensated, and the document it comes from."""

    share_bp: int
    rate_cap_bp: int
    max_years: int
    basis: str
    scheme: LazyString


RULES: dict[str, CompensationRule] = {
    "equipment": CompensationRule(8000, 300, 3, "财建〔2015〕19号",
                                  _l("First major technical equipment insurance compensation (central funds)")),
    "material": CompensationRule(8000, 300, 3, "工信部联原〔2017〕222号",
                                 _l("First batch of new material insurance compensation (central funds)")),
}


def rule_for(product_kind: str | None) -> CompensationRule:
    """The rule for a product kind; a kind without a national scheme (software) is refused with the reason."""
    rule = RULES.get(product_kind or "")
    if rule is None:
        if product_kind == "software":
            raise InvalidInput.field("policy_id", _("first-version software has no national premium compensation "
                                                    "scheme; apply to your province's scheme instead"))
        raise InvalidInput.field("policy_id", _("the product's kind (equipment or material) is not recorded"))
    return rule


def year_start(policy: InsurancePolicy, year: int) -> date:
    """The first day of policy year ``year`` (1 is the policy's start)."""
    start = policy.period_start
    target = start.year + year - 1
    if target > date.max.year:
        return date.max
    try:
        return start.replace(year=target)
    except ValueError:  # 29 February in a year that has none
        return start.replace(year=target, day=28)


def policy_years(policy: InsurancePolicy) -> int:
    """How many policy years the policy period covers (a year that begins before the end counts)."""
    years = 1
    while year_start(policy, years + 1) < policy.period_end:
        years += 1
    return years


def counted_premium(policy: InsurancePolicy, rule: CompensationRule) -> int:
    """The premium the compensation is computed on: the year's premium, at most the insured amount at the capped
    rate."""
    return min(policy.premium, policy.insured_amount * rule.rate_cap_bp // BASIS_POINTS)


def compensation_amount(policy: InsurancePolicy, rule: CompensationRule) -> int:
    """The amount one policy year may be compensated: share × counted premium, rounded down to the minor unit."""
    return counted_premium(policy, rule) * rule.share_bp // BASIS_POINTS


def check_year(policy: InsurancePolicy, rule: CompensationRule, year: int, today: date) -> None:
    """Refuse a policy year outside the policy period, beyond the rule's limit, or not begun yet."""
    if year < 1 or year > policy_years(policy):
        raise InvalidInput.field("policy_year", _("the policy covers years 1 to %(years)s; year %(year)s is outside "
                                                  "its period", years=policy_years(policy), year=year))
    if year > rule.max_years:
        raise InvalidInput.field("policy_year", _("the scheme compensates at most %(years)s policy years",
                                                  years=rule.max_years))
    if year_start(policy, year) > today:
        raise InvalidInput.field("policy_year", _("policy year %(year)s begins on %(day)s; apply once it has begun",
                                                  year=year, day=year_start(policy, year).isoformat()))


def percent(basis_points: int) -> str:
    """Basis points as a percentage without needless decimals (8000 → '80', 250 → '2.5')."""
    whole, rest = divmod(basis_points, 100)
    return str(whole) if rest == 0 else f"{whole}.{rest:02d}".rstrip("0")
