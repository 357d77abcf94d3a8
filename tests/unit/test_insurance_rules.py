"""The premium compensation rules and the application's state machine: the catalogue's table by product kind
(equipment and material 80 %, rate counted at most 3 %, up to 3 years; software has no national scheme), the
computed amount, the policy years of a period, the year checks; the machine's states are the model's, each has a
label, and every move the table does not allow is refused changing nothing (on a real database)."""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from flask_babel import force_locale
from sqlalchemy import select

from hall.extensions import db
from hall.models import AuditEvent, User
from hall.models.insurance import APPLICATION_STATUSES, CompensationApplication, InsurancePolicy
from hall.services.core.errors import Conflict, InvalidInput
from hall.services.policy.insurance_applications import APPLICATION_MACHINE, transition_application
from hall.services.policy.insurance_rules import (
    RULES,
    check_year,
    compensation_amount,
    counted_premium,
    percent,
    policy_years,
    rule_for,
    year_start,
)
from tests.support.factories import make_people

LABELS = set(re.findall(r'_l\("([a-z_]+)"\)',
                        (Path(__file__).resolve().parents[2] / "platform/hall/labels.py").read_text(encoding="utf-8")))


def _policy(premium: int = 360_000_00, insured: int = 12_000_000_00, start: date = date(2024, 10, 1),
            end: date = date(2027, 9, 30)) -> InsurancePolicy:
    return InsurancePolicy(premium=premium, insured_amount=insured, period_start=start, period_end=end,
                           currency="CNY")


@pytest.mark.parametrize("kind", ["equipment", "material"])
def test_equipment_and_material_compensate_80_percent_at_a_3_percent_rate_for_3_years(kind: str) -> None:
    rule = rule_for(kind)
    assert (rule.share_bp, rule.rate_cap_bp, rule.max_years) == (8000, 300, 3)
    assert compensation_amount(_policy(), rule) == 288_000_00  # 80 % of 360,000.00
    assert compensation_amount(_policy(premium=240_000_00), rule) == 192_000_00  # a 2 % premium counts whole
    assert counted_premium(_policy(premium=600_000_00), rule) == 360_000_00  # 5 %: counted at 3 %
    assert compensation_amount(_policy(premium=600_000_00), rule) == 288_000_00
    assert compensation_amount(_policy(premium=1, insured=1), rule) == 0  # rounded down to the fen


def test_the_basis_of_each_rule_is_named() -> None:
    assert RULES["equipment"].basis == "财建〔2015〕19号" and RULES["material"].basis == "工信部联原〔2017〕222号"


def test_software_has_no_national_scheme_and_an_unknown_kind_is_refused(app: Flask) -> None:
    with app.test_request_context(), force_locale("en"):
        with pytest.raises(InvalidInput, match="province"):
            rule_for("software")
        with pytest.raises(InvalidInput, match="not recorded"):
            rule_for(None)


def test_policy_years_count_the_years_that_begin_within_the_period() -> None:
    assert policy_years(_policy(end=date(2025, 9, 30))) == 1
    assert policy_years(_policy(end=date(2025, 10, 2))) == 2
    assert policy_years(_policy()) == 3
    leap = _policy(start=date(2024, 2, 29), end=date(2026, 3, 1))
    assert year_start(leap, 2) == date(2025, 2, 28) and policy_years(leap) == 3


@pytest.mark.parametrize(("year", "today", "words"), [
    (0, date(2030, 1, 1), "outside"), (4, date(2030, 1, 1), "outside"), (3, date(2026, 9, 30), "begins on"),
])
def test_a_year_outside_the_period_or_not_begun_is_refused(app: Flask, year: int, today: date, words: str) -> None:
    with app.test_request_context(), force_locale("en"), pytest.raises(InvalidInput, match=words):
        check_year(_policy(), RULES["equipment"], year, today)


def test_a_year_beyond_the_rules_limit_is_refused(app: Flask) -> None:
    long = _policy(start=date(2020, 1, 1), end=date(2030, 1, 1))
    with app.test_request_context(), force_locale("en"):
        check_year(long, RULES["equipment"], 3, date(2026, 1, 1))
        with pytest.raises(InvalidInput, match="at most 3"):
            check_year(long, RULES["equipment"], 4, date(2026, 1, 1))


def test_percent_words() -> None:
    assert (percent(8000), percent(300), percent(250), percent(1)) == ("80", "3", "2.5", "0.01")


def test_the_machines_states_are_the_models_and_each_has_a_label() -> None:
    assert APPLICATION_MACHINE.states == frozenset(APPLICATION_STATUSES)
    assert sorted(s for s in APPLICATION_MACHINE.states if s not in LABELS) == []
    assert APPLICATION_MACHINE.table == {
        "file": (frozenset({"draft"}), "filed"), "approve": (frozenset({"filed"}), "approved"),
        "reject": (frozenset({"filed"}), "rejected"), "pay": (frozenset({"approved"}), "paid"),
        "withdraw": (frozenset({"draft"}), "withdrawn")}


def _application(org_id: int, user_id: int, listing_id: int, status: str, action: str) -> CompensationApplication:
    policy = InsurancePolicy(listing_id=listing_id, institution_id=org_id, insurer="人保", policy_number=f"P-{action}",
                             coverage="质量险", insured_amount=100_00, premium=3_00, currency="CNY",
                             period_start=date(2024, 1, 1), period_end=date(2025, 1, 1), created_by_id=user_id)
    db.session.add(policy)
    db.session.flush()
    application = CompensationApplication(policy_id=policy.id, institution_id=org_id, policy_year=1, status=status,
                                          product_kind="equipment", share_bp=8000, rate_cap_bp=300, max_years=3,
                                          counted_premium=3_00, requested_amount=2_40, created_by_id=user_id,
                                          approved_amount=2_40 if status in ("approved", "paid") else None)
    db.session.add(application)
    db.session.flush()
    return application


@pytest.mark.parametrize("status", APPLICATION_STATUSES)
def test_every_move_the_table_refuses_changes_nothing_and_every_allowed_one_is_audited(app: Flask,
                                                                                      status: str) -> None:
    from hall.models import Listing

    with app.test_request_context(), force_locale("en"):
        people = make_people()
        user = db.session.scalar(select(User).where(User.email == people["owner"]))
        listing = Listing(institution_id=people["org"], kind="first_of_kind", created_by_id=user.id)
        db.session.add(listing)
        db.session.flush()
        for action, (starts, end) in APPLICATION_MACHINE.table.items():
            application = _application(people["org"], user.id, listing.id, status, action)
            if status in starts:
                transition_application(application, action, user, reason="测试")
                assert application.status == end
                event = db.session.scalar(select(AuditEvent).where(
                    AuditEvent.object_type == "compensation_application",
                    AuditEvent.object_id == str(application.id)))
                assert (event.from_state, event.to_state) == (status, end)
            else:
                with pytest.raises(Conflict):
                    transition_application(application, action, user)
                assert application.status == status and application.lock_version == 1
        db.session.rollback()
