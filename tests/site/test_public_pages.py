"""The public pages of the hall, as an anonymous visitor sees them: home, search with facets, listing detail (an
achievement and a first-of-kind product), institution profiles, the 公示 notices, the sitemap and robots.txt.
Labels are words in the page's language (never codes), bad query strings are 400 pages (never 500), only what the
hall's visibility rule allows is shown, and each page carries a title, a description, a canonical address and
caching headers."""
from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from hall.extensions import db
from hall.models import Institution, User
from hall.services.accounts import institutions
from tests.support.factories import UserFactory, make_people, sign_in
from tests.support.hall_listings import build_hall
from tests.support.listings import PDF, Owner, admin_decides, create, download, upload
from tests.support.orders import app_with
from tests.support.trading import make_parties, publish_achievement

HTML = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}
EN = {**HTML, "Accept-Language": "en"}
BASE = "http://127.0.0.1:8000"  # PUBLIC_BASE_URL of the testing config


@pytest.fixture
def hall_ids(app: Flask) -> dict[str, int]:
    """Eight published listings of two institutions, four unpublished ones and an unverified institution."""
    return build_hall(app)


def page(client: FlaskClient, path: str, headers: dict[str, str] | None = None, status: int = 200) -> str:
    response = client.get(path, headers=headers or HTML)
    assert response.status_code == status, (path, response.status_code, response.get_data(as_text=True)[:500])
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def visible(text: str) -> str:
    """The words a reader sees: tags (with their attributes and links) removed, entities decoded."""
    body = text.split("<body>", 1)[-1]
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def link(text: str, pattern: str) -> str:
    """The first href matching ``pattern`` (a regular expression), unescaped."""
    found = re.search(rf'href="({pattern})"', text)
    assert found, f"no link like {pattern}"
    return html.unescape(found.group(1))


def canonical_of(text: str) -> str:
    found = re.search(r'<link rel="canonical" href="([^"]+)">', text)
    assert found, "no canonical link"
    return html.unescape(found.group(1))


def description_of(text: str) -> str:
    found = re.search(r'<meta name="description" content="([^"]*)">', text)
    assert found, "no meta description"
    return html.unescape(found.group(1))


def test_home_shows_the_directions_with_counts_the_newest_listings_products_and_a_search_box(
        client: FlaskClient, hall_ids: dict[str, int]) -> None:
    text = page(client, "/")
    words = visible(text)
    for name in ("未来制造", "未来信息", "未来材料", "未来能源", "未来空间", "未来健康"):
        assert name in words
    energy = re.search(r'href="/hall\?direction=energy">\s*<strong>未来能源</strong>\s*<span[^>]*>([^<]+)</span>', text)
    assert energy and "4" in energy.group(1)  # solid, perovskite, english and the product
    assert "兆瓦级氢燃料电池发电系统" in words  # the newest first-of-kind product
    assert f'/hall/listings/{hall_ids["quantum"]}"' in text
    assert "石墨烯钙钛矿脑机接口碳纤维固态电池" not in words  # unpublished
    assert re.search(r'<form method="get" action="/hall"[^>]*role="search">', text) and 'name="q"' in text
    assert link(text, "/notices")
    assert canonical_of(text) == f"{BASE}/"


def test_a_visitor_finds_a_listing_by_words_with_the_matches_marked(client: FlaskClient,
                                                                     hall_ids: dict[str, int]) -> None:
    text = page(client, "/hall?q=石墨烯")
    assert f'/hall/listings/{hall_ids["graphene"]}"' in text
    assert "<mark>石墨烯</mark>" in text
    assert f'/hall/listings/{hall_ids["bci"]}"' not in text and f'/hall/listings/{hall_ids["draft"]}"' not in text
    escaped = page(client, "/hall?q=<script>alert(1)</script>")
    assert "<script>alert(1)" not in escaped and "&lt;script&gt;alert(1)" in escaped


def test_a_visitor_narrows_the_hall_by_clicking_facets_that_read_as_words(client: FlaskClient,
                                                                          hall_ids: dict[str, int]) -> None:
    text = page(client, "/hall")
    words = visible(text)
    for label in ("科技成果", "未来信息", "量子信息", "北京市", "广东省", "转让", "独占许可", "财政资助", "TRL 7",
                  "国内首台", "首台（套）装备"):
        assert label in words, label
    for code in ("information.quantum", "energy.storage", "110108", "110000", "exclusive_license", "first_of_kind",
                 "national"):
        assert code not in words, code
    narrowed = page(client, link(text, r"/hall\?direction=information"))
    assert f'/hall/listings/{hall_ids["quantum"]}"' in narrowed
    assert f'/hall/listings/{hall_ids["graphene"]}"' not in narrowed
    heading = re.search(r'<h2 id="results-heading">([^<]+)</h2>', narrowed)
    assert heading and re.match(r"\s*1\D", heading.group(1))
    by_region = page(client, link(narrowed, r"/hall\?direction=information&amp;region=110000"))
    assert f'/hall/listings/{hall_ids["quantum"]}"' in by_region and "北京市" in visible(by_region)
    filters = re.search(r'<div class="active-filters".*?</div>', by_region, re.S)
    assert filters and "未来信息" in visible(filters.group()) and "北京市" in visible(filters.group())
    widened = page(client, link(filters.group(), r"/hall\?region=110000"))  # remove the direction
    assert f'/hall/listings/{hall_ids["graphene"]}"' in widened  # 110108 lies in Beijing
    by_trl = page(client, link(page(client, "/hall"), r"/hall\?trl_min=7&amp;trl_max=7"))
    assert f'/hall/listings/{hall_ids["solid"]}"' in by_trl and f'/hall/listings/{hall_ids["carbon"]}"' not in by_trl
    by_price = page(client, link(page(client, "/hall"), r"/hall\?price_mode=negotiable"))  # 面议
    assert f'/hall/listings/{hall_ids["quantum"]}"' in by_price
    assert f'/hall/listings/{hall_ids["solid"]}"' not in by_price


def test_a_search_without_results_suggests_each_filter_to_remove(client: FlaskClient,
                                                                 hall_ids: dict[str, int]) -> None:
    text = page(client, "/hall?q=石墨烯&direction=information")
    help_box = re.search(r'<div class="panel zero-results">.*?</div>', text, re.S)
    assert help_box, "no help for an empty result"
    words = visible(help_box.group())
    assert "未来信息" in words and "information" not in words
    without_direction = link(help_box.group(), r"/hall\?q=[^\"]+")
    assert "direction" not in without_direction
    assert f'/hall/listings/{hall_ids["graphene"]}"' in page(client, without_direction)


def test_a_widened_search_says_how_many_results_match_every_word(client: FlaskClient,
                                                                 hall_ids: dict[str, int]) -> None:
    """石墨烯 battery: two listings say both, one only 石墨烯 (after them); the page says so, in its language."""
    text = page(client, "/hall?q=石墨烯 battery")
    notice = re.search(r'<p class="muted widened">(.*?)</p>', text, re.S)
    assert notice and visible(notice.group(1)).startswith("2 条结果包含全部检索词"), text
    english = page(client, "/hall?q=石墨烯 battery", headers={"Accept-Language": "en"})
    assert "2 results match every word; the others match some of them." in visible(english)
    assert 'class="muted widened"' not in page(client, "/hall?q=钙钛矿")


def test_an_achievement_shows_its_price_ip_files_keywords_and_institution(app: Flask, client: FlaskClient,
                                                                          tmp_path: Path) -> None:
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    with app.app_context():
        people = make_people()
    owner = Owner(app, people["owner"])
    listing_id = create(owner)
    attachment_id = upload(owner, listing_id, PDF, "评价报告.pdf").get_json()["id"]
    assert owner.post(f"/api/v1/listings/{listing_id}/submit").status_code == 200
    admin_decides(app, listing_id, "approve")

    text = page(app.test_client(), f"/hall/listings/{listing_id}")
    words = visible(text)
    assert "<h1>高能量密度固态电池电解质制备技术</h1>" in text
    assert "¥500,000.00" in words and "转让" in words and "普通许可" in words
    assert "发明专利" in words and "CN201710601862.3" in words and "已授权" in words
    assert "固态电池" in words and "invention_patent" not in words and "energy.storage" not in words
    assert "北京市" in words and "110108" not in words
    assert f'href="/institutions/{people["org"]}"' in text
    file_link = f"/api/v1/hall/listings/{listing_id}/attachments/{attachment_id}"
    assert f'href="{file_link}"' in text and "评价报告.pdf" in words
    status, _headers, body = download(client, file_link)
    assert status == 200 and body == PDF
    assert "一种硫化物固态电解质" in description_of(text)
    assert canonical_of(page(client, f"/hall/listings/{listing_id}?utm_source=wechat")) == \
        f"{BASE}/hall/listings/{listing_id}"


def test_a_first_of_kind_product_shows_its_recognition_and_a_negotiable_price_reads_as_words(
        client: FlaskClient, hall_ids: dict[str, int]) -> None:
    words = visible(page(client, f"/hall/listings/{hall_ids['product']}"))
    assert "¥12,000,000.00" in words and "单价" in words
    assert "首台（套）装备" in words and "国内首台" in words and "工信部公告2024年第12号" in words
    assert "中国人民财产保险" in words and "equipment" not in words
    assert "PICC-2024-88" not in words  # the policy number is the institution's and the platform's, not public
    assert "3" in words  # units available
    negotiable = visible(page(client, f"/hall/listings/{hall_ids['perovskite']}"))
    assert "面议" in negotiable and "negotiable" not in negotiable
    english = visible(page(client, f"/hall/listings/{hall_ids['perovskite']}", EN))
    assert "Negotiable" in english and "钙钛矿高效太阳能电池制备工艺" in english  # Chinese-only text falls back


@pytest.mark.parametrize("name", ["draft", "submitted", "withdrawn", "suspended"])
def test_a_listing_the_hall_does_not_show_is_a_404_page(client: FlaskClient, hall_ids: dict[str, int],
                                                        name: str) -> None:
    text = page(client, f"/hall/listings/{hall_ids[name]}", status=404)
    assert "404" in text and "石墨烯钙钛矿脑机接口碳纤维固态电池" not in text
    assert page(client, "/hall/listings/999999", status=404)


def test_the_listings_of_an_institution_that_is_not_verified_are_404(app: Flask, client: FlaskClient,
                                                                     hall_ids: dict[str, int]) -> None:
    assert page(client, f"/hall/listings/{hall_ids['bci']}")
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.is_admin.is_(True))) or UserFactory(is_admin=True)
        institutions.review_institution(admin, db.session.get(Institution, hall_ids["org_b"]), "suspend", "违规")
        db.session.commit()
        db.session.remove()
    page(client, f"/hall/listings/{hall_ids['bci']}", status=404)
    page(client, f"/institutions/{hall_ids['org_b']}", status=404)
    assert f'/hall/listings/{hall_ids["bci"]}"' not in page(client, "/hall")


def test_an_institution_page_shows_its_profile_and_its_published_listings(client: FlaskClient,
                                                                          hall_ids: dict[str, int]) -> None:
    text = page(client, f"/institutions/{hall_ids['org_a']}")
    assert re.search(r"<h1>测试研究所\d+号</h1>", text)
    assert f'/hall/listings/{hall_ids["graphene"]}"' in text and f'/hall/listings/{hall_ids["product"]}"' in text
    assert f'/hall/listings/{hall_ids["bci"]}"' not in text and f'/hall/listings/{hall_ids["draft"]}"' not in text
    assert "科研院所" in visible(text) and "research_institute" not in visible(text)
    assert canonical_of(text) == f"{BASE}/institutions/{hall_ids['org_a']}"
    page(client, f"/institutions/{hall_ids['unverified_org']}", status=404)
    second = page(client, f"/institutions/{hall_ids['org_a']}?per_page=2&page=2")
    assert canonical_of(second) == f"{BASE}/institutions/{hall_ids['org_a']}?page=2"
    assert 'rel="prev"' in second and 'rel="next"' in second


@pytest.fixture
def notice_app(database_url: str) -> Iterator[Flask]:
    with app_with(database_url, PUBLIC_NOTICE_DAYS=15) as application:
        yield application


def test_the_notices_page_lists_negotiated_prices_under_public_notice(notice_app: Flask) -> None:
    visitor = notice_app.test_client()
    assert '<table class="notices">' not in page(visitor, "/notices")  # nothing under notice yet
    with notice_app.app_context():
        parties = make_parties()
        listing_id = publish_achievement(parties, price_mode="negotiable", price_amount=None, state_funded=True)
        db.session.remove()
    buyer, seller = notice_app.test_client(), notice_app.test_client()
    buyer_csrf, seller_csrf = sign_in(buyer, parties.buyer), sign_in(seller, parties.seller)
    order = buyer.post("/api/v1/orders", json={"listing_id": listing_id, "deal_mode": "exclusive_license"},
                       headers={"X-CSRFToken": buyer_csrf}).get_json()
    assert seller.post(f"/api/v1/orders/{order['id']}/quote", json={"amount": 880_000_00},
                       headers={"X-CSRFToken": seller_csrf}).status_code == 200
    assert buyer.post(f"/api/v1/orders/{order['id']}/accept", json={"quote_number": 1},
                      headers={"X-CSRFToken": buyer_csrf}).status_code == 200

    text = page(visitor, "/notices")
    words = visible(text)
    assert "¥880,000.00" in words and "独占许可" in words and "exclusive_license" not in words
    assert f'href="/hall/listings/{listing_id}"' in text and f'href="/institutions/{parties.seller_org}"' in text
    assert "¥880,000.00" in visible(page(visitor, "/"))  # the home page shows open notices too
    assert "Exclusive licence" in visible(page(visitor, "/notices", EN))


def test_the_sitemap_names_public_pages_only_and_robots_keeps_crawlers_out_of_private_ones(
        client: FlaskClient, hall_ids: dict[str, int]) -> None:
    response = client.get("/sitemap.xml")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    xml = response.get_data(as_text=True)
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>') and "sitemaps.org/schemas/sitemap/0.9" in xml
    assert f"<loc>{BASE}/</loc>" in xml and f"<loc>{BASE}/hall</loc>" in xml
    assert f"<loc>{BASE}/hall/listings/{hall_ids['graphene']}</loc>" in xml
    assert f"<loc>{BASE}/institutions/{hall_ids['org_a']}</loc>" in xml
    for hidden in ("draft", "submitted", "withdrawn", "suspended"):
        assert f"/hall/listings/{hall_ids[hidden]}<" not in xml
    assert f"/institutions/{hall_ids['unverified_org']}<" not in xml

    robots = client.get("/robots.txt")
    assert robots.status_code == 200 and robots.mimetype == "text/plain"
    lines = robots.get_data(as_text=True).splitlines()
    assert "Disallow: /admin" in lines and "Disallow: /api/" in lines and "Disallow: /workspace" in lines
    assert f"Sitemap: {BASE}/sitemap.xml" in lines
    assert not any(line in ("Disallow: /", "Disallow: /hall") for line in lines)


def test_every_public_page_has_a_title_a_description_a_canonical_address_and_is_cacheable(
        client: FlaskClient, hall_ids: dict[str, int]) -> None:
    for path in ("/", "/hall", f"/hall/listings/{hall_ids['graphene']}", f"/institutions/{hall_ids['org_a']}",
                 "/notices"):
        response = client.get(path, headers=HTML)
        text = response.get_data(as_text=True)
        assert response.headers["Cache-Control"] == "public, max-age=60", path
        assert "Accept-Language" in response.headers["Vary"], path
        assert re.search(r"<title>[^<]+ · 未来产业成果发布大厅</title>", text), path
        assert description_of(text).strip(), path
        assert canonical_of(text).startswith(BASE + "/"), path
    shuffled = page(client, "/hall?direction=energy&utm_source=newsletter&kind=achievement&sort=newest")
    assert canonical_of(shuffled) == f"{BASE}/hall?kind=achievement&direction=energy"


def test_a_signed_in_person_gets_private_pages(app: Flask, client: FlaskClient, hall_ids: dict[str, int]) -> None:
    with app.app_context():
        email = db.session.get(User, UserFactory().id).email
        db.session.commit()
    sign_in(client, email)
    assert client.get("/hall", headers=HTML).headers["Cache-Control"].startswith("private")


@pytest.mark.parametrize("path", ["/hall?page=0", "/hall?trl=abc", "/hall?trl_min=abc", "/hall?kind=patent",
                                  "/hall?trl_min=7&trl_max=3", "/hall?per_page=500", "/hall?region=999999",
                                  "/notices?page=-1", "/institutions/1?page=x"])
def test_a_bad_query_string_is_a_400_page_not_a_500(client: FlaskClient, path: str) -> None:
    response = client.get(path, headers=HTML)
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert "<html" in response.get_data(as_text=True)
    assert client.get(path).status_code == 400  # whatever the client accepts


def test_a_page_past_the_last_is_404(client: FlaskClient, hall_ids: dict[str, int]) -> None:
    page(client, "/hall?page=50", status=404)


def test_the_search_page_offers_the_directory_with_the_same_filters(client: FlaskClient,
                                                                    hall_ids: dict[str, int]) -> None:
    text = page(client, "/hall?direction=energy&kind=achievement")
    csv_link = link(text, r"/api/v1/hall/directory\?[^\"]*format=csv")
    assert "kind=achievement" in csv_link and "direction=energy" in csv_link
    body = client.get(csv_link).get_data().decode("utf-8-sig")
    assert "高安全固态电池电解质" in body and "石墨烯增强铝基复合材料" not in body
    assert link(text, r"/api/v1/hall/directory\?[^\"]*format=xlsx")


def test_pages_speak_chinese_by_default_and_english_when_asked(client: FlaskClient,
                                                               hall_ids: dict[str, int]) -> None:
    chinese = page(client, "/hall")
    assert '<html lang="zh-CN">' in chinese
    assert "未来能源" in visible(chinese) and "转让" in visible(chinese)
    english = page(client, "/hall", EN)
    assert '<html lang="en">' in english
    words = visible(english)
    assert "Future energy" in words and "Transfer" in words and "Achievement" in words and "未来能源" not in words
    switched = client.get("/language?locale=en&next=/")  # the visitor's language link
    assert switched.status_code == 302
    home = visible(page(client, "/"))
    assert "Future information" in home and "未来信息" not in home


def test_the_hall_and_the_notices_are_in_the_navigation(client: FlaskClient) -> None:
    text = page(client, "/notices")
    nav: Any = re.search(r'<nav aria-label="[^"]+" class="site-nav">(.*?)</nav>', text, re.S)
    assert nav and 'href="/hall"' in nav.group(1) and 'href="/notices" aria-current="page"' in nav.group(1)
