"""Evaluation engagements as a state machine and as rows: the transition table is the model's status list (each state
in words), every move outside the table is refused and changes nothing, a stale move loses the compare-and-set,
and the database itself keeps the rules (one open engagement per listing and evaluator, grades in their scales, a
value range in order, no report without its facts, nothing attached before a report, no self-evaluation) — on
SQLite and PostgreSQL alike."""
from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from hall.extensions import db
from hall.models import User
from hall.models.evaluations import ENGAGEMENT_STATUSES, EvaluationEngagement
from hall.services.core.errors import Conflict
from hall.services.policy import evaluations, evaluations_reports
from hall.services.policy.evaluations import ENGAGEMENT_MACHINE
from hall.services.policy.evaluations_words import STATE_WORDS
from tests.support.factories import InstitutionFactory, UserFactory
from tests.support.listings import PDF
from tests.support.trading import make_parties, publish_achievement

REPORT = {"maturity_grade": 6, "innovation_grade": 2, "advancement_grade": 4, "valuation_method": "cost",
          "value_low": 100_00, "value_high": 200_00, "currency": "CNY", "report_number": "R-1",
          "issued_on": date(2026, 1, 5), "conclusion_zh": "结论", "conclusion_en": None}


@dataclass
class Scene:
    client: User
    evaluator: User
    listing_id: int


@pytest.fixture
def scene(app: Flask, tmp_path: Path) -> Iterator[Scene]:
    """A published achievement of the seller and a verified evaluator institution with its owner (app context)."""
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    with app.app_context():
        parties = make_parties()
        listing_id = publish_achievement(parties)
        org = InstitutionFactory(kind="evaluator")
        evaluator = UserFactory(institution=org, institution_role="owner")
        db.session.commit()
        client = db.session.get(User, parties.seller_id)
        assert client is not None
        yield Scene(client, evaluator, listing_id)


def _engagement(scene: Scene) -> EvaluationEngagement:
    engagement = evaluations.request_evaluation(scene.client, scene.listing_id, scene.evaluator.institution_id or 0)
    db.session.commit()
    return engagement


def _bring_to(scene: Scene, status: str) -> EvaluationEngagement:
    engagement = _engagement(scene)
    if status in ("accepted", "reported"):
        evaluations.accept(scene.evaluator, engagement.id)
    if status == "declined":
        evaluations.decline(scene.evaluator, engagement.id, "忙")
    if status == "cancelled":
        evaluations.cancel(scene.client, engagement.id, "不需要了")
    if status == "reported":
        evaluations_reports.issue_report(scene.evaluator, engagement.id, dict(REPORT), io.BytesIO(PDF), "r.pdf")
    db.session.commit()
    assert engagement.status == status
    return engagement


def test_the_table_states_are_the_models_statuses_each_in_words() -> None:
    assert ENGAGEMENT_MACHINE.states == frozenset(ENGAGEMENT_STATUSES)
    assert set(STATE_WORDS) == set(ENGAGEMENT_STATUSES)


CALLS = {
    "accept": lambda s, e: evaluations.accept(s.evaluator, e),
    "decline": lambda s, e: evaluations.decline(s.evaluator, e, "理由"),
    "cancel": lambda s, e: evaluations.cancel(s.client, e, "理由"),
    "report": lambda s, e: evaluations_reports.issue_report(s.evaluator, e, dict(REPORT, report_number="R-9"),
                                                            io.BytesIO(PDF), "r.pdf"),
}


@pytest.mark.parametrize("status", ENGAGEMENT_STATUSES)
@pytest.mark.parametrize("action", sorted(CALLS))
def test_every_move_follows_the_table(scene: Scene, status: str, action: str) -> None:
    engagement = _bring_to(scene, status)
    allowed = ENGAGEMENT_MACHINE.can(action, status)
    if allowed:
        CALLS[action](scene, engagement.id)
        db.session.commit()
        assert engagement.status == ENGAGEMENT_MACHINE.table[action][1]
    else:
        with pytest.raises(Conflict):
            CALLS[action](scene, engagement.id)
        db.session.rollback()
        assert db.session.get(EvaluationEngagement, engagement.id).status == status  # type: ignore[union-attr]


def test_a_stale_move_loses_the_compare_and_set(scene: Scene) -> None:
    engagement = _engagement(scene)
    db.session.execute(update(EvaluationEngagement).where(EvaluationEngagement.id == engagement.id)
                       .values(status="declined").execution_options(synchronize_session=False))
    with pytest.raises(Conflict):
        evaluations.move(engagement, "accept", scene.evaluator)  # the object still says "requested"
    db.session.rollback()


def test_one_open_engagement_per_listing_and_evaluator_in_the_database(scene: Scene) -> None:
    first = _engagement(scene)
    values: dict[str, Any] = {"listing_id": first.listing_id, "client_institution_id": first.client_institution_id,
                              "evaluator_institution_id": first.evaluator_institution_id, "status": "requested",
                              "created_by_id": first.created_by_id, "currency": "CNY", "attached": False}
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.add(EvaluationEngagement(**values))
            db.session.flush()
    evaluations.decline(scene.evaluator, first.id, "忙")
    db.session.add(EvaluationEngagement(**values))  # the first is closed: a new open one is fine
    db.session.commit()


@pytest.mark.parametrize(("column", "value"), [
    ("maturity_grade", 10), ("innovation_grade", 5), ("advancement_grade", 0), ("value_low", 300_00),
    ("value_high", None), ("valuation_method", "guess"), ("report_number", None), ("attached", False),
])
def test_the_database_keeps_the_reports_rules(scene: Scene, column: str, value: Any) -> None:
    engagement = _bring_to(scene, "reported")
    changes = {column: value}
    if column == "attached":  # attached is only for reported engagements
        changes = {"attached": True, "status": "accepted"}
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.execute(update(EvaluationEngagement).where(EvaluationEngagement.id == engagement.id)
                               .values(**changes).execution_options(synchronize_session=False))
    db.session.rollback()


def test_the_database_refuses_self_evaluation(scene: Scene) -> None:
    engagement = _engagement(scene)
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.execute(update(EvaluationEngagement).where(EvaluationEngagement.id == engagement.id)
                               .values(evaluator_institution_id=engagement.client_institution_id)
                               .execution_options(synchronize_session=False))
    db.session.rollback()
