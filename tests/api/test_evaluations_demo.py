"""The demo (`flask hall seed-demo`) shows an evaluation: the demo evaluator's report on the carbon-fibre
achievement is attached and public; seeding again adds no second engagement."""
from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from hall.demo_evaluations import LISTING_TITLE, REPORT_NUMBER
from hall.extensions import db
from hall.models.evaluations import EvaluationEngagement
from tests.support.listings import download
from tests.support.statements import counted, without_begin


def test_the_demo_shows_an_attached_report_of_the_demo_evaluator(app: Flask, client: FlaskClient,
                                                                 tmp_path: Path) -> None:
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    for _run in range(2):
        result = app.test_cli_runner().invoke(args=["hall", "seed-demo", "--credentials", str(tmp_path / "c.txt")])
        assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(EvaluationEngagement)) == 1
    found = client.get("/api/v1/hall/listings", query_string={"q": LISTING_TITLE, "lang": "zh"}).get_json()
    listing_id = next(item["id"] for item in found["items"] if item["title"] == LISTING_TITLE)
    [report] = client.get(f"/api/v1/hall/listings/{listing_id}?lang=zh").get_json()["evaluation_reports"]
    assert report["evaluator"]["name_zh"] == "国科科技成果评价中心"
    assert (report["report_number"], report["maturity_grade"], report["valuation_method"]) == (REPORT_NUMBER, 7,
                                                                                                 "income")
    status, _headers, data = download(client, report["download"])
    assert status == 200 and data.startswith(b"%PDF")


def test_a_listing_detail_with_a_report_runs_four_statements_then_one(app: Flask, client: FlaskClient,
                                                                      tmp_path: Path) -> None:
    """The detail's stamp is one statement; the detail itself reads the listing with its institution and public
    version in one statement, the version's files in a second and the attached reports with their evaluators in a
    third (it ran six, one per relation). Asked again, only the stamp is read: the answer is kept under it."""
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    result = app.test_cli_runner().invoke(args=["hall", "seed-demo", "--credentials", str(tmp_path / "c.txt")])
    assert result.exit_code == 0, result.output
    found = client.get("/api/v1/hall/listings", query_string={"q": LISTING_TITLE, "lang": "zh"}).get_json()
    listing_id = next(item["id"] for item in found["items"] if item["title"] == LISTING_TITLE)
    seen, bodies = [], []
    for _ in range(2):
        with app.app_context(), counted() as statements:
            detail = client.get(f"/api/v1/hall/listings/{listing_id}?lang=en")
        assert detail.status_code == 200
        seen.append(len(without_begin(statements)))
        bodies.append(detail.get_json())
    assert bodies[0]["institution"]["name_zh"] and bodies[0]["evaluation_reports"][0]["evaluator"]["name_en"]
    assert seen == [4, 1] and bodies[0] == bodies[1]
