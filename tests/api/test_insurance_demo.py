"""The demo data of insurance compensation: ``flask hall seed-demo`` insures the demo hydrogen power system and
files its first policy year's application (with a PDF), once however often it runs."""
from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from hall.extensions import db
from hall.models.insurance import CompensationApplication, CompensationEntry, InsurancePolicy


def test_seed_demo_files_one_application_on_the_demo_equipment(app: Flask, tmp_path: Path) -> None:
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    for _run in range(2):
        result = app.test_cli_runner().invoke(args=["hall", "seed-demo", "--credentials", str(tmp_path / "c.txt")])
        assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(InsurancePolicy)) == 1
        [application] = db.session.scalars(select(CompensationApplication)).all()
        assert (application.status, application.policy_year, application.requested_amount) == ("filed", 1, 288_000_00)
        stored = tmp_path / "uploads" / application.documents[0].storage_name
        assert len(application.documents) == 1 and stored.exists()
        kinds = db.session.scalars(select(CompensationEntry.kind)).all()
        assert kinds == ["requested"]
