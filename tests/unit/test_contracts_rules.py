"""Rules of contract registration without HTTP: the record's subscription to order completions is active in the app
(the API, the web, the CLI and tests all build it with ``create_app``), periods are checked, and deal modes map to
the annual report's ways of transformation."""
from __future__ import annotations

from datetime import date

from flask import Flask

from hall.services.core import announcements
from hall.services.policy import contracts
from hall.services.policy.contracts_annual import way_of


def test_the_app_subscribes_the_record_to_order_completions(app: Flask) -> None:
    assert contracts._on_order_completed in announcements._HANDLERS["order.completed"]
    assert "backfill-contract-records" in app.cli.commands["hall"].commands  # type: ignore[attr-defined]


def test_periods_end_after_they_start_and_span_at_most_five_years() -> None:
    assert contracts.period_problem(None, None) is None
    assert contracts.period_problem(date(2024, 1, 1), date(2024, 1, 1)) is None
    assert contracts.period_problem(date(2020, 1, 1), date(2024, 12, 31)) is None
    assert set(contracts.period_problem(date(2024, 2, 1), date(2024, 1, 31)) or {}) == {"to"}
    assert set(contracts.period_problem(date(2018, 1, 1), date(2024, 1, 1)) or {}) == {"to"}
    assert set(contracts.period_problem(date(1999, 12, 31), None) or {}) == {"from"}


def test_deal_modes_map_to_ways_of_transformation() -> None:
    assert way_of("transfer") == "transfer" and way_of("equity") == "equity"
    assert {way_of(m) for m in ("exclusive_license", "sole_license", "non_exclusive_license")} == {"license"}
    assert way_of("joint_development") == way_of("technical_service") == "other"
