"""The hall's kept facet counts (issue 14): through publishing, revising, withdrawing, suspending, an institution's
suspension and reinstatement and the expiry sweep, the counts kept in the same transaction as the hall index are
the counts the index gives when counted anew, for the whole hall and every facet value as a scope; a rollback
leaves them as they were; the migration fills them from an existing index; the pages without text and with at most
one facet filter read them instead of counting listings, and those with two facet conditions or a TRL range their
total."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, update

from hall.extensions import db
from hall.models import HallFacetCount, Institution, Listing, User
from hall.models.types import utcnow
from hall.search import index_listing, rebuild_hall_facets, unindex_listing
from hall.search.facet_counts import FACETS, TOTAL, maintained_facets
from hall.services.accounts.institutions import review_institution
from hall.services.publishing import listing_review, listings
from hall.services.publishing.hall import (
    HallFilter,
    direction_counts,
    facet_counts,
    facet_scope,
    filtered_selection,
    search_hall,
)
from hall.services.publishing.hall_scopes import kept_total
from tests.support.hall_listings import build_hall
from tests.support.statements import counted, without_begin

SCOPED_FILTERS = {  # a filter → the scope of kept counts that is exactly its listings
    "kind": HallFilter(kind="achievement"), "direction_code": HallFilter(direction="energy"),
    "field_code": HallFilter(field="energy.storage"), "trl": HallFilter(trl_min=5, trl_max=5),
    "price_mode": HallFilter(price_mode="fixed"), "state_funded": HallFilter(state_funded=True),
    "province": HallFilter(region="110000"), "deal_mode": HallFilter(deal_mode="transfer"),
}


def kept() -> dict[tuple[str, str, str, str], int]:
    """Every kept count above 0."""
    c = HallFacetCount
    return {(row.scope_facet, row.scope_value, row.facet, row.value): row.listings
            for row in db.session.scalars(select(c).where(c.listings > 0))}


def counted_anew() -> dict[tuple[str, str, str, str], int]:
    """Every count as ``facet_counts`` gives it over the index: the whole hall, then each facet value as a scope."""
    expected: dict[tuple[str, str, str, str], int] = {}

    def add(scope: tuple[str, str], f: HallFilter) -> None:
        facets = facet_counts(filtered_selection(f, [], "all"))
        for name, values in facets.items():
            expected.update({(*scope, name, value): n for value, n in values.items()})
        if facets["kind"]:
            expected[(*scope, *TOTAL)] = sum(facets["kind"].values())

    add(TOTAL, HallFilter())
    for name, value in [key[2:] for key in list(expected) if key[2]]:
        add((name, value), scope_filter(name, value))
    return expected


def scope_filter(name: str, value: str) -> HallFilter:
    """The hall filter whose listings are the scope (name, value)."""
    if name == "trl":
        return HallFilter(trl_min=int(value), trl_max=int(value))
    if name == "province":
        return HallFilter(region=f"{value}0000")
    if name == "state_funded":
        return HallFilter(state_funded=value == "true")
    field = {"direction_code": "direction", "field_code": "field"}.get(name, name)
    return HallFilter(**{field: value})


def assert_counts_agree() -> None:
    got = kept()
    assert got == counted_anew()
    assert got.get(("", "", "", ""), 0) == db.session.scalar(select(db.func.count()).select_from(
        filtered_selection(HallFilter(), [], "all").subquery()))


@pytest.fixture
def hall_ids(app: Flask) -> dict[str, int]:
    return build_hall(app)


def test_kept_counts_follow_every_change_of_the_hall(app: Flask, hall_ids: dict[str, int]) -> None:
    with app.app_context():
        assert_counts_agree()
        admin = db.session.scalar(select(User).where(User.is_admin.is_(True)))
        author = db.session.scalar(select(User).where(User.institution_id == hall_ids["org_a"]))
        assert admin is not None and author is not None
        graphene, solid = hall_ids["graphene"], hall_ids["solid"]

        # a revision that moves a listing to another direction, field, TRL, region and deal modes
        listing = db.session.get(Listing, graphene)
        listings.edit_listing(author, graphene, {"direction_code": "energy", "field_code": "energy.storage",
                                                 "trl": 8, "region_code": "440305",
                                                 "deal_modes": ["equity", "technical_service"]},
                              listing.lock_version if listing else None)
        listings.submit_listing(author, graphene)
        listing_review.decide(admin, graphene, "approve")
        db.session.commit()
        assert_counts_agree()
        assert maintained_facets(("direction_code", "energy"))[0]["deal_mode"].get("equity") == 1

        listings.withdraw_listing(author, solid)
        db.session.commit()
        assert_counts_agree()

        suspended = next(i for name, i in hall_ids.items() if name not in ("graphene", "solid", "org_a", "org_b",
                                                                            "unverified_org")
                         and (db.session.get(Listing, i) or Listing()).status == "published")
        listing_review.suspend_listing(admin, suspended, "虚假宣传")
        db.session.commit()
        assert_counts_agree()

        org_b = db.session.get(Institution, hall_ids["org_b"])
        assert org_b is not None
        review_institution(admin, org_b, "suspend", "资质过期")
        db.session.commit()
        assert_counts_agree()
        review_institution(admin, org_b, "reinstate")
        db.session.commit()
        assert_counts_agree()

        db.session.execute(update(Listing).where(Listing.status == "published").values(
            expires_at=utcnow() - timedelta(days=1)))
        db.session.commit()
        assert listing_review.expire_due_listings()
        db.session.commit()
        assert_counts_agree()
        assert kept() == {}  # nothing public is left, nothing is counted


def test_a_rollback_leaves_the_counts_as_they_were(app: Flask, hall_ids: dict[str, int]) -> None:
    with app.app_context():
        before = kept()
        unindex_listing(db.session.get(Listing, hall_ids["graphene"]))
        db.session.rollback()
        db.session.commit()  # nothing noted before the rollback is written by a later commit
        assert kept() == before
        assert_counts_agree()


def test_the_index_is_not_written_in_a_savepoint(app: Flask, hall_ids: dict[str, int]) -> None:
    with app.app_context():
        listing = db.session.get(Listing, hall_ids["graphene"])
        with pytest.raises(RuntimeError, match="outer transaction"), db.session.begin_nested():
            index_listing(listing)
        db.session.rollback()
        assert_counts_agree()


def test_a_rebuild_and_the_migration_count_what_the_changes_kept(app: Flask, hall_ids: dict[str, int]) -> None:
    with app.app_context():
        expected = kept()
        assert expected
        db.session.execute(update(HallFacetCount).values(listings=HallFacetCount.listings + 5))
        assert rebuild_hall_facets() == len(expected)
        db.session.commit()
        assert kept() == expected
        db.session.execute(update(HallFacetCount).values(listings=0))
        db.session.commit()
        result = app.test_cli_runner().invoke(args=["hall", "rebuild-facets"])
        assert result.exit_code == 0 and f"{len(expected)} facet count(s) written" in result.output, result.output
        assert kept() == expected

        db.session.remove()
        downgrade(revision="0019_search_text")
        upgrade()  # 0020 fills the counts from the hall index as it stands
        db.engine.dispose()
        assert kept() == expected


def test_scoped_pages_read_the_kept_counts(app: Flask, hall_ids: dict[str, int]) -> None:
    client = app.test_client()
    with app.app_context():
        assert facet_scope(HallFilter()) == TOTAL
        for name, f in SCOPED_FILTERS.items():
            assert facet_scope(f) is not None and facet_scope(f)[0] == name  # type: ignore[index]
        for f in (HallFilter(q="电池"), HallFilter(trl_min=3, trl_max=7), HallFilter(region="440305"),
                  HallFilter(currency="CNY"), HallFilter(kind="achievement", direction="energy")):
            assert facet_scope(f) is None, f
        directions = direction_counts()
        assert directions == facet_counts(filtered_selection(HallFilter(), [], "all"))["direction_code"]
        assert set(directions) <= {"energy", "materials", "health", "information", "manufacturing", "space"}

    for query in ("", "direction=energy&sort=newest", "deal_mode=transfer", "region=110000&sort=price_asc"):
        with app.app_context(), counted() as statements:
            body = client.get(f"/api/v1/hall/listings?{query}").get_json()
        sql = [statement.lower() for statement in without_begin(statements)]
        assert not any("count(" in statement for statement in sql), (query, sql)  # nothing counted
        assert any("hall_facet_counts" in statement for statement in sql), query
        assert set(body["facets"]) == set(FACETS)
    with app.app_context():
        for f in SCOPED_FILTERS.values():
            scope = facet_scope(f)
            assert scope is not None
            facets, total = maintained_facets(scope)
            assert facets == facet_counts(filtered_selection(f, [], "all")), f
            assert total == sum(facets["kind"].values()), f


def _counted_total(f: HallFilter) -> int:
    return db.session.scalar(select(db.func.count()).select_from(filtered_selection(f, [], "all").subquery())) or 0


def test_two_facet_conditions_or_a_trl_range_read_their_total_from_the_kept_counts(
        app: Flask, hall_ids: dict[str, int]) -> None:
    held = [HallFilter(kind="achievement", direction="energy"), HallFilter(direction="energy", trl_min=4),
            HallFilter(trl_min=3, trl_max=7), HallFilter(trl_max=5), HallFilter(region="110000", deal_mode="transfer"),
            HallFilter(state_funded=False, price_mode="fixed"), HallFilter(field="energy.storage", trl_min=6,
                                                                          trl_max=9),
            HallFilter(direction="materials", region="440000"), HallFilter(kind="first_of_kind", trl_min=9)]
    not_held = [HallFilter(q="电池", kind="achievement"), HallFilter(kind="achievement", direction="energy", trl_min=3),
                HallFilter(region="440305", kind="achievement"), HallFilter(currency="CNY", trl_min=3),
                HallFilter(price_min=1, direction="energy"), HallFilter(kind="achievement"), HallFilter()]
    with app.app_context():
        assert any(_counted_total(f) for f in held)  # the demo hall has listings under some of them
        for f in held:
            assert facet_scope(f) is None and kept_total(f) == _counted_total(f), f
            with counted() as statements:
                page = search_hall(f, with_facets=False, version=None)
            sql = [statement.lower() for statement in without_begin(statements)]
            assert not any("count(" in statement for statement in sql), (f, sql)  # the total is not counted
            assert page.total == _counted_total(f), f
            assert search_hall(f, version=None).facets == facet_counts(filtered_selection(f, [], "all")), f
        for f in not_held:
            assert kept_total(f) is None, f
