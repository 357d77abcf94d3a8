"""The hall's text columns (hall_text) and ``flask hall reindex-hall``: keywords and taxonomy names are indexed in
their own columns; a listing indexed by older rules (the keyword, taxonomy and bigram columns empty, as migration
0019 leaves them) is found again by a fragment of its text after a reindex."""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from hall.extensions import db
from hall.models import HallIndexEntry, HallText, IndustryField
from tests.support.hall_listings import build_hall


@pytest.fixture
def hall_ids(app: Flask) -> dict[str, int]:
    return build_hall(app)


def found(client: FlaskClient, q: str) -> set[int]:
    response = client.get("/api/v1/hall/listings", query_string={"q": q, "per_page": 50})
    assert response.status_code == 200, response.get_json()
    return {item["id"] for item in response.get_json()["items"]}


def text_of(app: Flask, listing_id: int) -> dict[str, Any]:
    with app.app_context():
        row = db.session.get(HallText, listing_id)
        assert row is not None
        return {c: getattr(row, c) for c in ("title_tokens", "keyword_tokens", "body_tokens", "taxonomy_tokens",
                                                  "gram_tokens")}


def test_every_indexed_listing_has_its_text_row_and_the_columns_hold_what_they_say(
        app: Flask, hall_ids: dict[str, int]) -> None:
    with app.app_context():
        listed = set(db.session.scalars(select(HallIndexEntry.listing_id)))
        texts = set(db.session.scalars(select(HallText.listing_id)))
    assert listed == texts and hall_ids["perovskite"] in listed
    columns = text_of(app, hall_ids["perovskite"])  # 钙钛矿高效太阳能电池制备工艺, field energy.solar_cells
    assert "钙钛矿" in columns["title_tokens"].split()
    assert {"钙钛", "钛矿"} <= set(columns["gram_tokens"].split())  # bigrams of the text
    assert "solar" in columns["taxonomy_tokens"].split()  # the field's English name, at the lowest weight


def test_the_field_s_name_finds_a_listing_whose_text_does_not_say_it(client: FlaskClient,
                                                                      hall_ids: dict[str, int]) -> None:
    """The perovskite listing is in Chinese only; its field (energy.solar_cells) is named in English too."""
    with client.application.app_context():
        field = db.session.get(IndustryField, "energy.solar_cells")
        assert field is not None
    page = client.get("/api/v1/hall/listings", query_string={"q": field.name_en}).get_json()
    assert page["matched_all"] == 1 and page["items"][0]["id"] == hall_ids["perovskite"]


def test_reindex_hall_writes_every_listing_again_with_the_current_rules(app: Flask, client: FlaskClient,
                                                                        hall_ids: dict[str, int]) -> None:
    perovskite = hall_ids["perovskite"]
    before = text_of(app, perovskite)
    with app.app_context():  # as migration 0019 leaves rows indexed by the older rules
        db.session.execute(update(HallText).values(keyword_tokens="", taxonomy_tokens="", gram_tokens=""))
        db.session.commit()
    assert perovskite not in found(client, "钛矿")  # a fragment: only the bigrams find it
    result = app.test_cli_runner().invoke(args=["hall", "reindex-hall", "--batch", "2"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        count = len(db.session.scalars(select(HallIndexEntry.listing_id)).all())
    assert f"{count} listing(s) reindexed." in result.output
    assert text_of(app, perovskite) == before
    assert perovskite in found(client, "钛矿")
