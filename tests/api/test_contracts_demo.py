"""The demo data of contract registration: ``flask hall seed-demo`` leaves the demo's completed licence with its
contract record, registered with the local registry, once however often it runs."""
from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import select

from hall.extensions import db
from hall.models import Order
from hall.models.contracts import ContractRecord


def test_seed_demo_records_and_registers_the_completed_licence(app: Flask, tmp_path: Path) -> None:
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    for _run in range(2):
        result = app.test_cli_runner().invoke(args=["hall", "seed-demo", "--credentials", str(tmp_path / "c.txt")])
        assert result.exit_code == 0, result.output
    with app.app_context():
        completed = db.session.scalars(select(Order.id).where(Order.completed_at.is_not(None))).all()
        records = db.session.scalars(select(ContractRecord)).all()
        assert completed and sorted(r.order_id for r in records) == sorted(completed)
        licence = next(r for r in records if r.deal_mode == "non_exclusive_license")
        assert licence.category == "technology" and licence.contract_type == "license"
        assert licence.registration_number is not None and licence.registered_on is not None
        assert licence.seller_name_zh and len(licence.seller_credit_code) == 18
