"""A listing's public detail is kept per process under its stamp (issue 14): asked again unchanged, only the stamp
is read; every change of what the detail shows — stock taken by an order, the institution's or the evaluator's
names, a report detached, the listing withdrawn — shows in the very next anonymous read."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, select, text

from hall.demo_evaluations import CLIENT_EMAIL, EVALUATOR_EMAIL, LISTING_TITLE
from hall.extensions import db
from hall.models import Listing, User
from hall.models.evaluations import EvaluationEngagement
from hall.services.accounts import institutions
from hall.services.policy import evaluations_reports
from tests.support.orders import app_with, buy_product, open_market
from tests.support.statements import counted, without_begin


def detail(app: Flask, client: FlaskClient, listing_id: int) -> tuple[Any, int]:
    """The anonymous detail (zh) and how many statements it took."""
    with app.app_context(), counted() as statements:
        answer = client.get(f"/api/v1/hall/listings/{listing_id}?lang=zh")
    return answer, len(without_begin(statements))


def as_user(app: Flask, email: str, change: Any) -> None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        change(user)
        db.session.commit()
        db.session.remove()


def test_stock_names_and_withdrawal_show_at_once(app: Flask) -> None:
    market = open_market(app, stock=5)
    client = app.test_client()
    first, _ = detail(app, client, market.product)
    again, statements = detail(app, client, market.product)
    assert first.get_json()["stock_available"] == 5 and again.get_json() == first.get_json()
    assert statements == 1 and again.headers["ETag"] == first.headers["ETag"]  # the stamp alone

    buy_product(market, quantity=2)
    answer, _ = detail(app, client, market.product)
    assert answer.get_json()["stock_available"] == 3 and answer.headers["ETag"] != first.headers["ETag"]

    as_user(app, market.parties.seller, lambda user: institutions.update_institution(
        user, market.parties.seller_org, {"name_en": "Renamed Seller Ltd."}))
    assert detail(app, client, market.product)[0].get_json()["institution"]["name_en"] == "Renamed Seller Ltd."

    assert market.seller.post(f"/api/v1/listings/{market.product}/withdraw").status_code == 200
    assert detail(app, client, market.product)[0].status_code == 404


def test_an_evaluator_renamed_and_a_report_detached_show_at_once(app: Flask, tmp_path: Path) -> None:
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    result = app.test_cli_runner().invoke(args=["hall", "seed-demo", "--credentials", str(tmp_path / "c.txt")])
    assert result.exit_code == 0, result.output
    client = app.test_client()
    found = client.get("/api/v1/hall/listings", query_string={"q": LISTING_TITLE, "lang": "zh"}).get_json()
    listing_id = next(item["id"] for item in found["items"] if item["title"] == LISTING_TITLE)
    [report] = detail(app, client, listing_id)[0].get_json()["evaluation_reports"]
    assert detail(app, client, listing_id)[1] == 1

    with app.app_context():
        evaluator_org = db.session.scalar(select(User.institution_id).where(User.email == EVALUATOR_EMAIL))
        owner = db.session.scalar(select(User.email).where(User.institution_id == evaluator_org,
                                                           User.institution_role == "owner"))
    as_user(app, owner, lambda user: institutions.update_institution(
        user, evaluator_org, {"name_en": "Renamed Evaluation Centre"}))
    [renamed] = detail(app, client, listing_id)[0].get_json()["evaluation_reports"]
    assert renamed["evaluator"]["name_en"] == "Renamed Evaluation Centre" != report["evaluator"]["name_en"]

    with app.app_context():
        engagement_id = db.session.scalar(select(EvaluationEngagement.id).where(
            EvaluationEngagement.listing_id == listing_id))
    as_user(app, CLIENT_EMAIL, lambda user: evaluations_reports.detach(user, engagement_id))
    assert detail(app, client, listing_id)[0].get_json()["evaluation_reports"] == []


def test_a_term_that_ends_while_the_detail_is_kept_is_404_at_once(app: Flask,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The clock alone (no row changes) ends a listing's term: the stamp asks the visibility rule each time."""
    from hall.services.policy import hall_detail
    from hall.services.publishing import hall as hall_rules

    market = open_market(app, stock=5)
    client = app.test_client()
    assert detail(app, client, market.product)[0].status_code == 200
    assert detail(app, client, market.product)[1] == 1  # kept
    with app.app_context():
        expires_at = db.session.get(Listing, market.product).expires_at  # type: ignore[union-attr]
    assert expires_at is not None
    for module in (hall_rules, hall_detail):  # the clock of the visibility rule and of the stamp: the term ended
        monkeypatch.setattr(module, "utcnow", lambda: expires_at + timedelta(seconds=1))
    assert detail(app, client, market.product)[0].status_code == 404


def test_a_worker_may_answer_a_detail_from_a_stamp_it_read_within_fresh_within(database_url: str) -> None:
    """With HALL_VERSION_FRESH_WITHIN (1 s in production) a worker takes the detail's stamp it read that recently:
    another process's change shows once that has passed (at once with 0); a change this process commits shows at
    once. Another process's write is played on a connection of its own, outside this process's sessions."""
    with app_with(database_url, HALL_VERSION_FRESH_WITHIN=3600.0) as lagging, \
            app_with(database_url, HALL_VERSION_FRESH_WITHIN=0.0) as prompt:
        market = open_market(lagging, stock=5)
        lagging_client, prompt_client = lagging.test_client(), prompt.test_client()
        for client in (lagging_client, prompt_client):
            assert detail(lagging, client, market.product)[0].get_json()["stock_available"] == 5
        assert detail(lagging, lagging_client, market.product)[1] == 0  # neither the stamp nor the answer read

        other_process = create_engine(database_url)
        with other_process.begin() as conn:
            conn.execute(text("UPDATE listings SET stock = 4, lock_version = lock_version + 1 WHERE id = :id"),
                         {"id": market.product})
        other_process.dispose()
        assert detail(prompt, prompt_client, market.product)[0].get_json()["stock_available"] == 4
        assert detail(lagging, lagging_client, market.product)[0].get_json()["stock_available"] == 5

        buy_product(market, quantity=1)  # committed by this process (the lagging app): shows at once
        assert detail(lagging, lagging_client, market.product)[0].get_json()["stock_available"] == 3
