"""Structured scope (issue 9, item 3): codes and their normalisation, overlap of fields, territories and terms, the
compatibility matrix of deal modes — as pure functions, then through the real order services on a database (every
pair of modes, same and different licensee, overlapping or not), and the migration that converts free text.

The expected outcomes are written here independently of ``hall.services.trading.scope.COMPATIBILITY``.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text, update

from hall.extensions import db
from hall.models import ExclusiveClaim, Order, User
from hall.models.orders import SCOPED_DEAL_MODES
from hall.models.types import utcnow
from hall.services.core.errors import Conflict, InvalidInput
from hall.services.core.validation import PROVINCE_PREFIXES
from hall.services.trading import orders, scope
from hall.services.trading.scope import Deal, Scope
from tests.support.trading import make_parties, publish_achievement

T, E, S, N = "transfer", "exclusive_license", "sole_license", "non_exclusive_license"
TODAY = date(2030, 6, 15)
# Written out by hand from the lead's decision: (one mode, the other) → may they coexist over an overlapping scope,
# (with another licensee, with the same licensee)?
EXPECTED = {
    (T, T): (False, False), (T, E): (False, False), (T, S): (False, False), (T, N): (False, False),
    (E, E): (False, False), (E, S): (False, False), (E, N): (False, False),
    (S, S): (False, True), (S, N): (False, True),
    (N, N): (True, True),
}


def expected(a: str, b: str, same_licensee: bool) -> bool:
    return EXPECTED.get((a, b), EXPECTED.get((b, a)))[same_licensee]


# ----------------------------------------------------------------------------------------------------- the matrix

def test_the_matrix_covers_every_scoped_mode_and_is_symmetric() -> None:
    assert set(scope.COMPATIBILITY) == set(SCOPED_DEAL_MODES)
    for row, cells in scope.COMPATIBILITY.items():
        assert set(cells) == set(SCOPED_DEAL_MODES), row
        for column, verdict in cells.items():
            assert verdict == scope.COMPATIBILITY[column][row], (row, column)
            assert verdict in (scope.CONFLICT, scope.COMPATIBLE, scope.SAME_LICENSEE)


@pytest.mark.parametrize("same_licensee", [False, True], ids=["other-licensee", "same-licensee"])
@pytest.mark.parametrize("held", SCOPED_DEAL_MODES)
@pytest.mark.parametrize("wanted", SCOPED_DEAL_MODES)
def test_the_matrix_says_what_was_decided(held: str, wanted: str, same_licensee: bool) -> None:
    everywhere = Scope()
    a, b = Deal(held, 1, everywhere), Deal(wanted, 1 if same_licensee else 2, everywhere)
    assert scope.deals_conflict(a, b) is not expected(held, wanted, same_licensee)
    assert scope.deals_conflict(b, a) is scope.deals_conflict(a, b)


def test_a_non_exclusive_licence_need_not_look_at_the_others() -> None:
    assert set(scope.modes_that_may_conflict(N)) == {T, E, S}
    assert set(scope.modes_that_may_conflict(E)) == set(scope.modes_that_may_conflict(T)) == {T, E, S, N}


@pytest.mark.parametrize("mode", [E, S, N])
def test_nothing_conflicts_outside_an_overlap(mode: str) -> None:
    held = Deal(E, 1, Scope("energy.storage", "440000", date(2030, 1, 1), date(2031, 12, 31)))
    for other in (Scope("energy.hydrogen", "440000"), Scope("energy.storage", "110000"),
                  Scope("energy.storage", "440000", date(2032, 1, 1)),
                  Scope(None, None, None, date(2029, 12, 31))):
        assert not scope.deals_conflict(held, Deal(mode, 2, other)), other
    assert scope.deals_conflict(held, Deal(mode, 2, Scope("energy", "CN", None, date(2030, 1, 1))))


# ------------------------------------------------------------------------------------------------------- overlap

@pytest.mark.parametrize("a, b, overlap", [
    ("energy.storage", "energy.storage", True),
    ("energy.storage", None, True),  # unrestricted
    (None, None, True),
    ("energy", "energy.storage", True),  # a direction contains its fields
    ("energy.storage", "energy.hydrogen", False),
    ("energy", "space.deep_earth", False),
    ("space", "space.deep_earth", True),
    ("energy", "information", False),
])
def test_fields_overlap_when_equal_unrestricted_or_parent(a: str | None, b: str | None, overlap: bool) -> None:
    assert scope.fields_overlap(a, b) is overlap
    assert scope.fields_overlap(b, a) is overlap


@pytest.mark.parametrize("a, b, overlap", [
    (None, "110108", True),  # worldwide contains everything
    ("WORLD", "CN", True),
    ("CN", "110108", True),
    ("CN", "810000", True),  # CN is every GB/T 2260 code, Hong Kong included
    ("110000", "110108", True),
    ("110100", "110108", True),
    ("110000", "110100", True),
    ("110108", "110108", True),
    ("110108", "110105", False),  # two districts of Beijing
    ("110000", "120000", False),
    ("440300", "440100", False),  # Shenzhen and Guangzhou
    ("440000", "440305", True),
    ("460000", "469001", True),  # a county-level city directly under Hainan
    ("469001", "469002", False),
])
def test_territories_overlap_when_one_contains_the_other(a: str | None, b: str | None, overlap: bool) -> None:
    assert scope.territories_overlap(a, b) is overlap
    assert scope.territories_overlap(b, a) is overlap


def test_the_territory_chain_follows_the_digits() -> None:
    assert scope.territory_chain("440305") == ("440305", "440300", "440000", "CN", None)
    assert scope.territory_chain("440300") == ("440300", "440000", "CN", None)
    assert scope.territory_chain("440000") == ("440000", "CN", None)
    assert scope.territory_chain("CN") == ("CN", None)
    assert scope.territory_chain("WORLD") == scope.territory_chain(None) == (None,)
    assert scope.field_chain("energy.storage") == ("energy.storage", "energy", None)


D = date.fromisoformat


@pytest.mark.parametrize("a, b, overlap", [
    ((None, None), (None, None), True),
    ((D("2027-01-01"), D("2027-12-31")), (D("2027-12-31"), None), True),  # one shared day
    ((D("2027-01-01"), D("2027-12-31")), (D("2028-01-01"), None), False),
    ((None, D("2027-12-31")), (D("2028-01-01"), D("2029-01-01")), False),
    ((None, D("2027-12-31")), (None, D("2020-01-01")), True),
    ((D("2027-06-01"), D("2027-06-30")), (D("2027-01-01"), D("2027-12-31")), True),  # inside
])
def test_terms_overlap_when_the_ranges_intersect(a: tuple[Any, Any], b: tuple[Any, Any], overlap: bool) -> None:
    assert scope.terms_overlap(*a, *b) is overlap
    assert scope.terms_overlap(*b, *a) is overlap


def test_a_held_deal_whose_term_has_ended_blocks_nothing() -> None:
    ended = Deal(E, 1, Scope(term_start=D("2029-01-01"), term_end=TODAY - timedelta(days=1)))
    current = Deal(E, 1, Scope(term_end=TODAY))
    wanted = Deal(E, 2, Scope())
    assert scope.first_conflict(wanted, [ended], TODAY) is None
    assert scope.first_conflict(wanted, [ended, current], TODAY) == current


# -------------------------------------------------------------------------------------------------- normalisation

@pytest.mark.parametrize("sent, code", [
    ("440000", "440000"), (" 44 00 00 ", "440000"), ("４４００００", "440000"),  # full-width digits
    ("cn", "CN"), ("ＣＮ", "CN"), ("world", None), ("WORLD", None), ("", None), ("  ", None), (None, None),
    ("469001", "469001"), ("110108", "110108"),
])
def test_territory_codes_are_normalised(sent: str | None, code: str | None) -> None:
    assert scope.check_territory(sent) == code


@pytest.mark.parametrize("sent, hint", [
    ("中国", "CN for all of China"), ("中国大陆", "CN for all of China"), ("广东省", "440000"),
    ("1101", "six-digit"), ("990000", "99 is not a province-level"), ("110001", "prefecture in digits 3–4"),
    ("EV battery", "WORLD"),
])
def test_free_text_territories_are_refused_saying_what_to_send(sent: str, hint: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        scope.check_territory(sent)
    message = refused.value.errors["territory"][0]
    assert hint in message and "GB/T 2260" in message


def test_field_codes_come_from_the_taxonomy(app_context: Flask) -> None:
    assert scope.check_field_of_use("energy.storage") == "energy.storage"
    assert scope.check_field_of_use(" Energy . Storage ") == "energy.storage"
    assert scope.check_field_of_use("ＥＮＥＲＧＹ") == "energy"  # a whole direction, written full width
    assert scope.check_field_of_use(None) is None and scope.check_field_of_use(" ") is None
    for text_ in ("动力电池", "动力 电池", "EV battery", "ＥＶ battery", "energy.batteries", "地质勘察"):
        with pytest.raises(InvalidInput) as refused:
            scope.check_field_of_use(text_, "energy.storage")
        message = refused.value.errors["field_of_use"][0]
        assert "this listing's field energy.storage" in message and "/api/v1/hall/taxonomy" in message


def test_terms_must_not_lie_in_the_past_or_end_before_they_start() -> None:
    scope.check_term(None, TODAY, TODAY)  # ends today: accepted
    scope.check_term(D("2020-01-01"), None, TODAY)  # started in the past, open end: accepted
    with pytest.raises(InvalidInput) as past:
        scope.check_term(None, TODAY - timedelta(days=1), TODAY)
    assert "in the past" in past.value.errors["term_end"][0]
    with pytest.raises(InvalidInput) as reversed_:
        scope.check_term(D("2031-01-01"), D("2030-12-31"), TODAY)
    assert "before term_start" in reversed_.value.errors["term_end"][0]


def test_a_transfer_takes_no_scope_and_services_take_none(app_context: Flask) -> None:
    assert scope.check_scope(T, {}, TODAY) == Scope()
    for name, value in (("field_of_use", "energy"), ("territory", "CN"), ("term_end", D("2031-01-01"))):
        with pytest.raises(InvalidInput) as refused:
            scope.check_scope(T, {name: value}, TODAY)
        assert "whole right" in refused.value.errors[name][0]
        with pytest.raises(InvalidInput) as service:
            scope.check_scope("technical_service", {name: value}, TODAY)
        assert "deal_mode" in service.value.errors
    assert scope.check_scope(N, {"field_of_use": "Energy", "territory": "４４０３００"}, TODAY) == \
        Scope("energy", "440300")


def test_region_names_cover_every_province_prefix_in_both_languages(app_context: Flask) -> None:
    names = scope.region_names()
    assert {code[:2] for code in names if code.isdigit()} == set(PROVINCE_PREFIXES)
    assert all(code.endswith("0000") for code in names if code.isdigit())
    assert scope.territory_label(None) == {"zh": "全球", "en": "Worldwide"}
    assert scope.territory_label("440000") == {"zh": "广东省", "en": "Guangdong"}
    assert scope.territory_label("440305") == {"zh": "广东省 440305", "en": "Guangdong 440305"}
    assert scope.field_label("energy.storage")["zh"] and scope.field_label(None)["en"] == "All fields"


# -------------------------------------------------------------------------------- the matrix through the services

def _order(actor_id: int, listing_id: int, mode: str, **values: Any) -> Order:
    order, created = orders.create_order(db.session.get(User, actor_id), listing_id, {"deal_mode": mode, **values})
    assert created
    return order


def _attempt(actor_id: int, listing_id: int, mode: str, **values: Any) -> bool:
    """True when the order was placed (and committed), False when refused with Conflict (rolled back)."""
    try:
        _order(actor_id, listing_id, mode, **values)
    except Conflict:
        db.session.rollback()
        return False
    db.session.commit()
    return True


ALL_MODES = [T, E, S, N]


def test_every_pair_of_modes_through_the_services(app_context: Flask) -> None:
    """For each held mode and each requested mode, with another licensee and with the same one: the second order
    is refused exactly when the hand-written table says so; outside the scope's overlap it always goes through."""
    parties = make_parties()
    outcomes = {}
    for held in ALL_MODES:
        for wanted in ALL_MODES:
            for same in (False, True):
                if (held, wanted, same) == (T, T, True):
                    continue  # the same open order comes back (the double-click rule), not a second transfer
                listing_id = publish_achievement(parties, deal_modes=ALL_MODES)
                extra = {} if held == T else {"field_of_use": "energy.storage", "territory": "440000"}
                assert _attempt(parties.buyer_id, listing_id, held, **extra)
                second = parties.buyer_id if same else parties.buyer_b_id
                wanted_scope = {} if wanted == T else {"field_of_use": "energy", "territory": "440305",
                                                       "term_end": utcnow().date() + timedelta(days=400)}
                outcomes[held, wanted, same] = _attempt(second, listing_id, wanted, **wanted_scope)
                if held != T and wanted != T:  # disjoint scopes never conflict
                    assert _attempt(parties.buyer_b_id, listing_id, wanted, field_of_use="energy.hydrogen",
                                    territory="110000"), (held, wanted)
    assert len(outcomes) == 31 and outcomes == {key: expected(*key) for key in outcomes}


def test_claims_record_every_scoped_deal_and_are_released_when_it_ends(app_context: Flask) -> None:
    parties = make_parties()
    listing_id = publish_achievement(parties, deal_modes=ALL_MODES)
    licence = _order(parties.buyer_id, listing_id, N, field_of_use="energy.storage", territory="110000")
    db.session.commit()
    claim = db.session.scalar(select(ExclusiveClaim).where(ExclusiveClaim.order_id == licence.id))
    assert (claim.deal_mode, claim.field_of_use, claim.territory, claim.released_at) == \
        (N, "energy.storage", "110000", None)
    assert not _attempt(parties.buyer_b_id, listing_id, E, territory="CN")  # sees the non-exclusive licence
    orders.cancel_order(db.session.get(User, parties.buyer_id), licence.id, "预算调整")
    db.session.commit()
    db.session.refresh(claim)
    assert claim.released_at is not None
    assert _attempt(parties.buyer_b_id, listing_id, E, territory="CN")


def test_a_held_licence_whose_term_ended_no_longer_blocks(app_context: Flask) -> None:
    parties = make_parties()
    listing_id = publish_achievement(parties, deal_modes=ALL_MODES)
    old = _order(parties.buyer_id, listing_id, E, territory="CN", term_end=utcnow().date())
    db.session.commit()
    assert not _attempt(parties.buyer_b_id, listing_id, E, territory="440000")
    ended = utcnow().date() - timedelta(days=1)
    db.session.execute(update(ExclusiveClaim).where(ExclusiveClaim.order_id == old.id).values(term_end=ended))
    db.session.commit()
    assert _attempt(parties.buyer_b_id, listing_id, E, territory="440000")


# ---------------------------------------------------------------------------------------------- the migration

def test_the_migration_turns_free_text_into_codes_and_claims_open_non_exclusive_licences(app: Flask) -> None:
    """Orders written before 0004 (free text, non-exclusive licences without a claim) are converted: names become
    codes, unmatched text becomes unrestricted and is kept in the buyer's note, and claims are added."""
    with app.app_context():
        parties = make_parties()
        listing_id = publish_achievement(parties, deal_modes=ALL_MODES)
        made = [_order(parties.buyer_id, listing_id, N, territory="110000"),
                _order(parties.buyer_id, listing_id, N, territory="310000"),
                _order(parties.buyer_b_id, listing_id, E, territory="440000")]
        ids = [order.id for order in made]
        db.session.commit()
        db.session.remove()
        downgrade(revision="0003_trading")
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM exclusive_claims")).scalar() == 1  # only the exclusive
            for order_id, field, territory in ((ids[0], " 新型 储能 ", "北京"), (ids[1], "EV battery", "中国大陆"),
                                               (ids[2], "New-type Energy Storage", "广东省")):
                conn.execute(text("UPDATE orders SET field_of_use = :f, territory = :t WHERE id = :id"),
                             {"f": field, "t": territory, "id": order_id})
            conn.execute(text("UPDATE exclusive_claims SET field_of_use = 'energy storage', territory = '广东省'"))
        db.engine.dispose()
        upgrade()
        db.engine.dispose()
        rows = {order.id: order for order in db.session.scalars(select(Order).where(Order.id.in_(ids)))}
        assert (rows[ids[0]].field_of_use, rows[ids[0]].territory) == ("energy.storage", "110000")
        assert (rows[ids[1]].field_of_use, rows[ids[1]].territory) == (None, "CN")
        assert "「EV battery」" in rows[ids[1]].buyer_note
        assert (rows[ids[2]].field_of_use, rows[ids[2]].territory) == ("energy.storage", "440000")
        claims = {claim.order_id: claim for claim in db.session.scalars(select(ExclusiveClaim))}
        assert set(claims) == set(ids)
        assert [(claims[i].deal_mode, claims[i].field_of_use, claims[i].territory) for i in ids] == [
            (N, "energy.storage", "110000"), (N, None, "CN"), (E, "energy.storage", "440000")]
        db.session.remove()
