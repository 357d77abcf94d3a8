"""The search relevance set: a hand-written bilingual corpus of hall listings (corpus.json), queries judged by hand
(queries.json), and what both the benchmark (bench/search_relevance.py) and its test share: loading the corpus
into the current app's database through the ORM and ``hall.search.index_listing``, running the queries through
``search_hall`` and scoring them (precision@1, recall@10, MRR of the best listing, per category).

Everything here runs inside an application context; ``load_listings`` commits.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from hall.extensions import db
from hall.models import Institution, Listing, ListingVersion, User
from hall.search import index_listing
from hall.services.core.validation import credit_code_check_character
from hall.services.publishing.hall import HallFilter, search_hall

HERE = Path(__file__).resolve().parent
CORPUS_PATH, QUERIES_PATH = HERE / "corpus.json", HERE / "queries.json"
TOP = 10  # recall is measured on the first TOP results
LISTING_FIELDS = ("title_zh", "title_en", "summary_zh", "summary_en")
INSTITUTION = ("research_institute", "未来产业成果评测研究院", "Future Industries Evaluation Institute", "110108")


def read_corpus(path: Path = CORPUS_PATH) -> list[dict[str, Any]]:
    """The corpus listings, in file order (each with a unique ``key``)."""
    return list(json.loads(path.read_text(encoding="utf-8")))


def read_queries(path: Path = QUERIES_PATH, limit: int | None = None) -> list[dict[str, Any]]:
    """The judged queries, in file order; the first ``limit`` of them when given."""
    queries = list(json.loads(path.read_text(encoding="utf-8")))
    return queries[:limit] if limit else queries


def _version(item: dict[str, Any], author: User, n: int) -> ListingVersion:
    version = ListingVersion(
        number=1, review_status="approved", created_by_id=author.id, keywords=list(item.get("keywords", [])),
        direction_code=item["direction_code"], field_code=item["field_code"], region_code=INSTITUTION[3],
        trl=None if item["kind"] == "first_of_kind" else 3 + n % 7, evaluation=None, ip_assets=[], inventors=[],
        deal_modes=["purchase"] if item["kind"] == "first_of_kind" else ["transfer"], price_mode="negotiable",
        price_amount=None, currency="CNY", state_funded=False, funding_source=None,
        **{name: item.get(name) for name in LISTING_FIELDS})
    if item["kind"] == "first_of_kind":
        fok = item.get("first_of_kind") or {}
        version.product_kind = fok.get("product_kind", "equipment")
        version.recognition_level = fok.get("recognition_level", "national")
        version.first_of_kind = {"product_kind": version.product_kind, "recognition_level": version.recognition_level,
                                 **{name: fok.get(name) for name in ("model", "catalogue", "catalogue_item",
                                                                     "specifications")}}
    return version


def load_listings(corpus: list[dict[str, Any]], now: datetime | None = None) -> dict[int, str]:
    """Publish every corpus listing (one verified institution, one author) and index it; commits. Returns the
    corpus key of each listing id. Listings are published one minute apart in file order (the newest last)."""
    now = now or datetime.now(timezone.utc)
    kind, name_zh, name_en, region = INSTITUTION
    first17 = f"12{region}MB0000001"
    institution = Institution(kind=kind, name_zh=name_zh, name_en=name_en, region_code=region,
                              credit_code=first17 + credit_code_check_character(first17),
                              verification_status="verified")
    author = User(email="relevance@hall.bench", display_name="相关性评测", password_hash="!", locale="zh_CN",
                  status="active", is_admin=False, password_changed_at=now)
    db.session.add_all([institution, author])
    db.session.flush()
    keys: dict[int, str] = {}
    start = now - timedelta(days=30)
    for n, item in enumerate(corpus):
        published = start + timedelta(minutes=n)
        listing = Listing(institution_id=institution.id, kind=item["kind"], status="published", lock_version=1,
                          created_by_id=author.id, created_at=published, updated_at=published,
                          submitted_at=published, published_at=published, expires_at=now + timedelta(days=365))
        db.session.add(listing)
        db.session.flush()
        version = _version(item, author, n)
        version.listing_id = listing.id
        db.session.add(version)
        db.session.flush()
        listing.published_version_id, listing.working_version_id = version.id, version.id
        listing.published_version = version
        index_listing(listing)
        keys[listing.id] = item["key"]
    db.session.commit()
    return keys


def ranked_keys(q: str, keys: dict[int, str], top: int = TOP) -> list[str]:
    """The corpus keys of the first ``top`` results of ``search_hall`` for ``q`` (relevance order)."""
    page = search_hall(HallFilter(q=q), sort="relevance", page=1, per_page=top, with_facets=False)
    db.session.rollback()
    return [keys[entry.listing_id] for entry, _version, _score in page.rows]


def _figures(results: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(results)
    if not n:
        return {"queries": 0}
    return {"queries": n,
            "p_at_1": round(sum(r["hit_at_1"] for r in results) / n, 4),
            "recall_at_10": round(sum(r["recall"] for r in results) / n, 4),
            "mrr": round(sum(r["reciprocal_rank"] for r in results) / n, 4)}


def evaluate(queries: list[dict[str, Any]], keys: dict[int, str]) -> dict[str, Any]:
    """Run every query and score it: overall and per-category precision@1 (rank-1 is ``best``), recall@10 (share
    of ``relevant`` in the top 10, averaged), MRR of ``best`` (0 when outside the top 10), and the failures
    (queries whose rank-1 is not ``best``) with the top three keys found."""
    results = []
    for query in queries:
        found = ranked_keys(query["q"], keys)
        relevant = set(query["relevant"]) | {query["best"]}
        rank = found.index(query["best"]) + 1 if query["best"] in found else 0
        results.append({"q": query["q"], "category": query["category"], "best": query["best"], "top3": found[:3],
                        "hit_at_1": rank == 1, "reciprocal_rank": 1 / rank if rank else 0.0,
                        "recall": len(relevant & set(found)) / len(relevant)})
    categories = sorted({r["category"] for r in results})
    return {**_figures(results),
            "by_category": {c: _figures([r for r in results if r["category"] == c]) for c in categories},
            "failing": [{"q": r["q"], "category": r["category"], "expected": r["best"], "got_top3": r["top3"]}
                        for r in results if not r["hit_at_1"]]}


def structure_problems(corpus: list[dict[str, Any]], queries: list[dict[str, Any]]) -> list[str]:
    """What is wrong with the set itself: duplicate keys, judged keys missing from the corpus, a ``best`` not
    among its query's ``relevant``."""
    keys = [item["key"] for item in corpus]
    problems = [f"duplicate key {k}" for k in sorted({k for k in keys if keys.count(k) > 1})]
    for query in queries:
        for key in [query["best"], *query["relevant"]]:
            if key not in keys:
                problems.append(f"{query['q']!r}: unknown key {key}")
        if query["best"] not in query["relevant"]:
            problems.append(f"{query['q']!r}: best {query['best']} not in relevant")
    return problems
