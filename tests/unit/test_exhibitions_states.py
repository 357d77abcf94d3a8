"""The exhibition and entry machines: their tables cover exactly the models' statuses, every state has words, and
the moves refuse what the tables do not allow (an ended exhibition takes no registrations or entries)."""
from __future__ import annotations

import pytest
from flask import Flask

from hall.extensions import db
from hall.models import User
from hall.models.exhibitions import ENTRY_STATUSES, EXHIBITION_STATUSES, Exhibition
from hall.services.core.errors import Conflict
from hall.services.policy import exhibitions_entries
from hall.services.policy.exhibitions import EXHIBITION_MACHINE
from hall.services.policy.exhibitions_entries import ENTRY_MACHINE
from hall.services.policy.exhibitions_registrations import register
from tests.support.exhibitions import as_admin, hours, make_exhibition
from tests.support.orders import open_market


def test_the_tables_cover_the_models_statuses() -> None:
    assert EXHIBITION_MACHINE.states == frozenset(EXHIBITION_STATUSES)
    assert ENTRY_MACHINE.states == frozenset(ENTRY_STATUSES)
    assert ENTRY_MACHINE.can("accept", "invited") and ENTRY_MACHINE.can("accept", "applied")
    assert not ENTRY_MACHINE.can("accept", "declined") and not ENTRY_MACHINE.can("withdraw", "declined")
    assert ENTRY_MACHINE.can("reinvite", "declined") and not ENTRY_MACHINE.can("reapply", "declined")
    assert not EXHIBITION_MACHINE.can("publish", "cancelled") and EXHIBITION_MACHINE.can("cancel", "draft")


def test_an_ended_exhibition_takes_no_registrations_and_no_entries(app: Flask) -> None:
    market = open_market(app)
    exhibition_id = make_exhibition(app, market.parties.admin_id, registration_deadline=None)
    with app.app_context():
        row = db.session.get(Exhibition, exhibition_id)
        assert row is not None
        row.starts_at, row.ends_at = hours(-5), hours(-1)
        db.session.commit()
        buyer = db.session.get(User, market.parties.buyer_id)
        assert buyer is not None
        with pytest.raises(Conflict, match="over"):
            register(buyer, exhibition_id, 1)
    with pytest.raises(Conflict, match="over"):
        as_admin(app, market.parties.admin_id,
                 lambda admin: exhibitions_entries.invite(admin, exhibition_id, listing_id=market.licence))
