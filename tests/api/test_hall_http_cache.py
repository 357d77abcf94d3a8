"""HTTP caching of the hall's anonymous reads (issue 14): a weak ETag on the search, a listing's detail, an
institution's profile and the taxonomy; 304 on If-None-Match; ``public, max-age`` for anonymous callers only;
Vary by language and credentials; the search's ETag (and its cached totals, ids and facets) change whenever a
listing is published, withdrawn or revised, because the hall's version is raised in the same transaction."""
from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from tests.support.factories import make_people
from tests.support.listing_data import achievement
from tests.support.listings import Owner, admin_decides
from tests.support.orders import app_with

SEARCH = "/api/v1/hall/listings?q=固态电池&sort=newest"


def publish(app: Flask, owner: Owner, body: dict[str, Any]) -> int:
    listing_id = owner.post("/api/v1/listings", body).get_json()["id"]
    assert owner.post(f"/api/v1/listings/{listing_id}/submit").status_code == 200
    admin_decides(app, listing_id, "approve")
    return listing_id


def read(client: FlaskClient, path: str, etag: str | None = None) -> Any:
    return client.get(path, headers={"If-None-Match": etag} if etag else {})


def assert_public(response: Any) -> str:
    assert response.status_code == 200, response.get_json()
    etag = response.headers["ETag"]
    assert etag.startswith('W/"'), etag
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert {"Accept-Language", "Cookie", "Authorization"} <= set(response.vary)
    return etag


def test_anonymous_reads_are_public_and_answer_304_to_their_etag(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        people = make_people()
    owner = Owner(app, people["owner"])
    listing_id = publish(app, owner, achievement())
    for path in (SEARCH, "/api/v1/hall/listings", f"/api/v1/hall/listings/{listing_id}", "/api/v1/hall/taxonomy",
                 f"/api/v1/hall/institutions/{people['org']}"):
        etag = assert_public(read(client, path))
        again = read(client, path, etag)
        assert again.status_code == 304 and again.get_data() == b"", path
        assert again.headers["ETag"] == etag and again.headers["Cache-Control"] == "public, max-age=60"
        assert read(client, path, 'W/"something-else"').status_code == 200
    # the ETag names the query and the language: another query or language is another answer
    assert read(client, SEARCH, assert_public(read(client, SEARCH + "&lang=en"))).status_code == 200
    assert assert_public(read(client, "/api/v1/hall/listings?kind=first_of_kind")) != \
        assert_public(read(client, "/api/v1/hall/listings"))
    assert read(client, "/api/v1/hall/listings/999999").status_code == 404


def test_the_etag_changes_when_a_listing_is_published_withdrawn_or_revised(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        people = make_people()
    owner = Owner(app, people["owner"])
    first = publish(app, owner, achievement())
    browse = assert_public(read(client, "/api/v1/hall/listings"))
    search = assert_public(read(client, SEARCH))
    detail = assert_public(read(client, f"/api/v1/hall/listings/{first}"))

    second = publish(app, owner, achievement(title_zh="固态电池隔膜材料"))  # published
    answer = read(client, SEARCH, search)
    search = assert_public(answer)
    assert answer.get_json()["total"] == 2 and answer.get_json()["facets"]["kind"] == {"achievement": 2}
    answer = read(client, "/api/v1/hall/listings", browse)
    browse = assert_public(answer)
    assert {item["id"] for item in answer.get_json()["items"]} == {first, second}

    revised = owner.patch(first, {"title_en": "Sulfide solid electrolyte, revised", "trl": 8})  # revised
    assert revised.status_code == 200
    owner.post(f"/api/v1/listings/{first}/submit")
    assert read(client, SEARCH, search).status_code == 304  # a pending revision shows nothing new
    admin_decides(app, first, "approve")
    answer = read(client, SEARCH, search)
    search = assert_public(answer)
    assert answer.get_json()["facets"]["trl"]["8"] == 1
    answer = read(client, f"/api/v1/hall/listings/{first}", detail)
    detail = assert_public(answer)
    assert answer.get_json()["trl"] == 8

    assert owner.post(f"/api/v1/listings/{second}/withdraw").status_code == 200  # withdrawn
    answer = read(client, SEARCH, search)
    assert_public(answer)
    assert answer.get_json()["total"] == 1 and answer.get_json()["facets"]["kind"] == {"achievement": 1}
    answer = read(client, "/api/v1/hall/listings", browse)
    assert_public(answer)
    assert [item["id"] for item in answer.get_json()["items"]] == [first]
    assert read(client, f"/api/v1/hall/listings/{second}").status_code == 404


def test_signed_in_callers_get_private_uncached_answers(app: Flask) -> None:
    with app.app_context():
        people = make_people()
    owner = Owner(app, people["owner"])
    listing_id = publish(app, owner, achievement())
    for path in (SEARCH, f"/api/v1/hall/listings/{listing_id}", "/api/v1/hall/taxonomy"):
        response = owner.client.get(path)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "private, no-store", path
        assert "public" not in response.headers["Cache-Control"] and "ETag" not in response.headers
        assert {"Cookie", "Authorization"} <= set(response.vary)


def test_a_worker_may_answer_from_a_version_it_read_within_fresh_within(database_url: str) -> None:
    """HALL_VERSION_FRESH_WITHIN (1 s in production): an anonymous search may come from the hall version this
    process read that recently; another process's change shows once that has passed (here: at once with 0), and a
    change committed in this process shows at once. Another process's commit is played by raising the version on
    a connection of its own, outside this process's sessions."""
    with app_with(database_url, HALL_VERSION_FRESH_WITHIN=3600.0) as lagging, \
            app_with(database_url, HALL_VERSION_FRESH_WITHIN=0.0) as prompt:
        check_fresh_within(database_url, lagging, prompt)


def check_fresh_within(database_url: str, lagging: Flask, prompt: Flask) -> None:
    with lagging.app_context():
        people = make_people()
    owner = Owner(lagging, people["owner"])
    publish(lagging, owner, achievement())
    lagging_client, prompt_client = lagging.test_client(), prompt.test_client()
    before = assert_public(read(lagging_client, SEARCH))
    assert assert_public(read(prompt_client, SEARCH)) == before
    other_process = create_engine(database_url)
    with other_process.begin() as conn:
        conn.execute(text("UPDATE hall_state SET version = version + 1 WHERE id = 1"))
    other_process.dispose()
    assert assert_public(read(prompt_client, SEARCH)) != before
    assert read(lagging_client, SEARCH, before).status_code == 304  # the version it read is still taken
    publish(lagging, owner, achievement(title_zh="固态电池隔膜材料"))  # committed in this process: shows at once
    answer = read(lagging_client, SEARCH, before)
    assert answer.status_code == 200 and answer.get_json()["total"] == 2
