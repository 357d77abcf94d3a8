"""Every state machine is one ``Machine`` table: the model's status lists are the table's states, every state has
a translated label, and every move — including the ones that bypassed the tables before (a version superseded or
returned to draft) — is audited with its from and to states."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from hall.extensions import db
from hall.models import AuditEvent
from hall.models.accounts import USER_STATUSES, VERIFICATION_STATUSES
from hall.models.data_rooms import ACCESS_STATUSES
from hall.models.demands import DEMAND_STATUSES, REVISION_STATUSES
from hall.models.evaluations import ENGAGEMENT_STATUSES
from hall.models.exhibitions import ENTRY_STATUSES, EXHIBITION_STATUSES
from hall.models.insurance import APPLICATION_STATUSES
from hall.models.listings import LISTING_STATUSES, VERSION_STATUSES
from hall.models.orders import ORDER_STATUSES, PAYMENT_STATUSES
from hall.models.refunds import REFUND_STATUSES
from hall.models.threads import THREAD_STATUSES
from hall.services.accounts.accounts import USER_MACHINE
from hall.services.accounts.institutions import INSTITUTION_MACHINE
from hall.services.core.errors import Conflict
from hall.services.core.state import Machine, transition
from hall.services.docking.data_rooms import ACCESS_MACHINE
from hall.services.docking.demands import DEMAND_MACHINE, REVISION_MACHINE
from hall.services.docking.threads import THREAD_MACHINE
from hall.services.policy.evaluations import ENGAGEMENT_MACHINE
from hall.services.policy.exhibitions import EXHIBITION_MACHINE
from hall.services.policy.exhibitions_entries import ENTRY_MACHINE
from hall.services.policy.insurance_applications import APPLICATION_MACHINE
from hall.services.publishing.listings import LISTING_MACHINE, VERSION_MACHINE
from hall.services.trading.orders import ORDER_MACHINE
from hall.services.trading.payment_states import PAYMENT_MACHINE
from hall.services.trading.refunds import REFUND_MACHINE
from tests.support.factories import make_people
from tests.support.listing_data import achievement
from tests.support.listings import Owner, admin_decides

MACHINES = [(ORDER_MACHINE, ORDER_STATUSES, ""), (PAYMENT_MACHINE, PAYMENT_STATUSES, "payment_"),
            (REFUND_MACHINE, REFUND_STATUSES, ""), (LISTING_MACHINE, LISTING_STATUSES, ""),
            (VERSION_MACHINE, VERSION_STATUSES, ""), (INSTITUTION_MACHINE, VERIFICATION_STATUSES, ""),
            (USER_MACHINE, USER_STATUSES, ""),
            (ACCESS_MACHINE, ACCESS_STATUSES, ""), (THREAD_MACHINE, THREAD_STATUSES, ""),
            (DEMAND_MACHINE, DEMAND_STATUSES, ""), (REVISION_MACHINE, REVISION_STATUSES, ""),
            (APPLICATION_MACHINE, APPLICATION_STATUSES, ""), (ENGAGEMENT_MACHINE, ENGAGEMENT_STATUSES, ""),
            (EXHIBITION_MACHINE, EXHIBITION_STATUSES, ""), (ENTRY_MACHINE, ENTRY_STATUSES, "")]
LABELS = set(re.findall(r'_l\("([a-z_]+)"\)',
                        (Path(__file__).resolve().parents[2] / "platform/hall/labels.py").read_text(encoding="utf-8")))


@pytest.mark.parametrize(("machine", "statuses", "prefix"), MACHINES, ids=[m.name for m, _, _ in MACHINES])
def test_the_models_statuses_are_the_tables_states_and_each_has_a_label(machine: Machine, statuses: tuple[str, ...],
                                                                        prefix: str) -> None:
    assert machine.states == frozenset(statuses), f"{machine.name}: the model's list and the table differ"
    unlabelled = sorted(s for s in machine.states if prefix + s not in LABELS)
    assert not unlabelled, f"{machine.name}: no label in hall/labels.py for {unlabelled}"


def test_a_refused_move_changes_nothing_and_says_what_the_object_is(app: Flask) -> None:
    with app.app_context():
        people = make_people()
        from hall.models import Institution

        org = db.session.get(Institution, people["org"])
        with pytest.raises(Conflict, match="Cannot reinstate an institution that is"):
            transition(INSTITUTION_MACHINE, org, "reinstate")
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.object_type == "institution",
                                                          AuditEvent.action == "institution.reinstate")) is None


def _version_events(app: Flask) -> list[tuple[str, str | None, str | None]]:
    with app.app_context():
        rows = db.session.execute(select(AuditEvent.action, AuditEvent.from_state, AuditEvent.to_state)
                                  .where(AuditEvent.object_type == "listing_version").order_by(AuditEvent.id))
        return [tuple(row) for row in rows]


def test_version_moves_are_audited_with_from_and_to_states(app: Flask) -> None:
    with app.app_context():
        people = make_people()
    owner = Owner(app, people["owner"])
    listing_id = owner.post("/api/v1/listings", achievement()).get_json()["id"]
    owner.post(f"/api/v1/listings/{listing_id}/submit")
    admin_decides(app, listing_id, "approve")
    assert owner.patch(listing_id, {"trl": 8}).status_code == 200
    owner.post(f"/api/v1/listings/{listing_id}/submit")
    admin_decides(app, listing_id, "approve")  # the first version is superseded
    assert owner.patch(listing_id, {"trl": 9}).status_code == 200
    owner.post(f"/api/v1/listings/{listing_id}/submit")
    assert owner.post(f"/api/v1/listings/{listing_id}/withdraw").status_code == 200  # the revision goes back
    assert _version_events(app) == [
        ("listing_version.submit", "draft", "submitted"), ("listing_version.approve", "submitted", "approved"),
        ("listing_version.submit", "draft", "submitted"), ("listing_version.approve", "submitted", "approved"),
        ("listing_version.supersede", "approved", "superseded"),
        ("listing_version.submit", "draft", "submitted"), ("listing_version.return", "submitted", "draft"),
    ]
