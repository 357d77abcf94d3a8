"""Demo data of technical-contract registration records of completed orders: every completed demo order has its
record (made when it completed, or here for a database seeded before the feature), and the demo licence is shown
registered with the local registry, so the workspace's contract pages and the annual report have something to
show."""
from __future__ import annotations

from sqlalchemy import select

from hall.extensions import db
from hall.models import User
from hall.models.contracts import ContractRecord
from hall.services.accounts.accounts import find_user_by_email
from hall.services.policy import contracts


def seed_demo_contracts(admin: User) -> None:
    """Create the demo records of this feature when they are missing (idempotent)."""
    contracts.backfill_records()
    seller = find_user_by_email("owner@univ.demo")
    if seller is None or seller.institution_id is None:
        return
    record = db.session.scalar(select(ContractRecord).where(
        ContractRecord.seller_institution_id == seller.institution_id, ContractRecord.category == "technology",
        ContractRecord.registration_number.is_(None)).order_by(ContractRecord.id).limit(1))
    if record is None:
        return
    number = f"{record.completed_on.year}4401000{record.id:05d}"  # 登记号: year, registry code, serial
    contracts.edit_contract(seller, record.id, {"registration_number": number, "registered_on": contracts.today()},
                            None)
