"""Match latency at scale (issue 12: "a benchmark reports match latency at 100k listings × 10k demands").

    .venv/bin/python bench/matching.py [--listings 100000] [--demands 10000] [--backend sqlite|postgresql|both]
                                       [--sample 200] [--seed 20241129] [--time-limit 1200] [--keep]

For each backend: a fresh database (a SQLite file in a temporary directory, or the PostgreSQL database
hall_bench_matching_<pid> on 127.0.0.1:5432, created and dropped here), migrated to head (``flask_migrate.upgrade``).
The listings are bench/generate.py's deterministic bilingual achievements, published and in the hall index
(hall_index and hall_text rows), bulk loaded as bench/search.py does (Core executemany; the full-text index on
hall_text taken down for the load and rebuilt after: FTS5 'rebuild' plus migration 0019's triggers on SQLite, the GIN
index plus VACUUM ANALYZE on PostgreSQL). When both backends
run, each batch is generated once and inserted into both.

The demands are generated here from the same vocabulary (the subjects, applications, problems, metrics, regions and
institutions of bench/generate.py): bilingual titles and descriptions, the subject's direction and field codes (now
and then a second field of the same direction), TRL windows, budgets in fen (sometimes negotiable), deal modes,
regions, bounties and deadlines in the future. Each is published and indexed exactly as
``hall.search.demands.index_demand`` does it (the same ``demand_tokens``, the same demand_index and
demand_index_fields rows), in bulk; the demand full-text index is filled by what migration 0009 installs (the
demand_fts triggers on SQLite, the generated ``search_vector`` column under its GIN index on PostgreSQL).

Then, in one application context (with a test request context, as the pages call it), for a random sample of
``--sample`` demands ``hall.services.docking.matching.match_demand`` and for a random sample of ``--sample`` listings
``hall.services.docking.listing_matches.match_listing``, each call with fresh session state
(``db.session.expire_all()``; the demand, or the listing's index entry and version, are loaded before the clock
starts). Per kind: p50/p95/max ms (wall) and p50 CPU ms of this process, the mean number of candidates (what
``_candidates`` returned, counted by wrapping it here) and of matches returned, and SQL statements per call (a
``before_cursor_execute`` counter). A few untimed calls warm up first. When a kind's p95 is over ``--profile-ms``,
its slowest call is run again under cProfile (top functions to stderr and in the JSON) and once more with each SQL
statement timed.

"load_s" per backend is its inserts (listings and demands) plus the hall's full-text index build; generating and
tokenizing (done once for both backends) are under "data", ANALYZE / VACUUM under "listings_index". "db_size_bytes"
is the database after the load (SQLite: the file after a WAL checkpoint; PostgreSQL: pg_database_size).

Progress goes to stderr; the last line of stdout is one JSON object with the parameters and figures per backend.
Only 127.0.0.1 is used and only the bench's own database; every loop is bounded by --time-limit.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask import Flask  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import create_engine, event, func, insert, select, text  # noqa: E402

from bench import generate  # noqa: E402
from bench import search as search_bench  # noqa: E402
from bench.common import Deadline, drop_database, log, make_database, pct  # noqa: E402
from hall import create_app  # noqa: E402
from hall.extensions import db  # noqa: E402
from hall.models import HallIndexEntry, Institution, ListingVersion, User  # noqa: E402
from hall.models.demands import Demand, DemandIndexEntry, DemandIndexField  # noqa: E402
from hall.models.listings import DEAL_MODES, LANGUAGES, deal_modes_mask  # noqa: E402
from hall.search import count_text_matches  # noqa: E402
from hall.search.demands import count_demand_text_matches, demand_tokens  # noqa: E402
from hall.services.docking import listing_matches, matching  # noqa: E402
from hall.services.docking.demand_hall import public_demand_conditions  # noqa: E402

PROFILE_MS = 200.0
SUBJECTS = generate.BATTERY_SUBJECTS + generate.OTHER_SUBJECTS
FIELDS_BY_DIRECTION: dict[str, list[str]] = {}
for _zh, _en, _field in SUBJECTS:
    FIELDS_BY_DIRECTION.setdefault(_field.split(".")[0], [])
    if _field not in FIELDS_BY_DIRECTION[_field.split(".")[0]]:
        FIELDS_BY_DIRECTION[_field.split(".")[0]].append(_field)
NEEDS = [("解决方案", "solution"), ("关键技术", "key technology"), ("成套装备", "complete equipment"),
         ("工艺优化", "process optimisation"),
         ("产业化合作", "industrialisation partner"), ("检测方法", "testing method")]


# ---------------------------------------------------------------------------------------------------------------
# Demands of the listings' vocabulary

def _demand_zh(rng: random.Random, zh: str, direction: str) -> str:
    problem, metric, app = rng.choice(generate.PROBLEMS)[0], rng.choice(generate.METRICS), rng.choice(
        generate.APPLICATIONS)[0]
    return rng.choice([
        f"我单位在{rng.choice(generate.SCENARIOS[direction])}中面临{problem}的问题，希望引进{zh}相关技术。",
        f"要求{metric[0]}不低于{rng.randint(10, 900)}{metric[2]}，可用于{app}。",
        f"期望合作方具备从{rng.choice(generate.CHAINS)}的能力，已完成{rng.choice(generate.STAGES)[0]}者优先。",
        f"拟与高校、科研院所联合攻关{zh}，共同申报{rng.choice(generate.FUNDING)}。",
        f"需求方为{rng.choice(generate.PARTNERS)}配套企业，年需求量较大，可长期合作。",
    ])


def _demand_en(rng: random.Random, en: str, direction: str) -> str:
    problem, metric, app = rng.choice(generate.PROBLEMS)[1], rng.choice(generate.METRICS), rng.choice(
        generate.APPLICATIONS)[1]
    return rng.choice([
        f"We face {problem} in our production and seek {en} technology.",
        f"The {metric[1]} must reach at least {rng.randint(10, 900)}; the solution is for {app}.",
        f"Partners who completed {rng.choice(generate.STAGES)[1]} of {en} are preferred.",
        f"We look for a university or institute to co-develop {en} for {app}.",
        f"Annual demand is large and a long-term cooperation on {en} is intended.",
    ])


def demand(rng: random.Random, demand_id: int, today: date) -> dict[str, Any]:
    """One published demand: the ``demands`` row (deadline after ``today``)."""
    zh, en, field = rng.choice(SUBJECTS)
    direction = field.split(".")[0]
    fields = [field]
    if rng.random() < 0.3 and len(FIELDS_BY_DIRECTION[direction]) > 1:
        fields.append(rng.choice([f for f in FIELDS_BY_DIRECTION[direction] if f != field]))
    (pre_zh, pre_en), (need_zh, need_en) = rng.choice(generate.PREFIXES), rng.choice(NEEDS)
    app_zh, app_en = rng.choice(generate.APPLICATIONS)
    title_zh, title_en = rng.choice([
        (f"寻求{pre_zh}{zh}{need_zh}", f"Seeking {pre_en} {en} {need_en}"),
        (f"{app_zh}用{zh}{need_zh}需求", f"{en} {need_en} for {app_en}"),
        (f"征集{zh}在{app_zh}中的应用技术", f"Call for {en} applications in {app_en}")])
    bilingual = rng.random() < 0.7
    published = generate.BASE_TIME - timedelta(seconds=rng.randint(0, 365 * 86400))
    windowed = rng.random() < 0.85
    trl_min = rng.randint(1, 8) if windowed else None
    trl_max = rng.randint(trl_min, 9) if trl_min is not None else None
    negotiable = rng.random() < 0.2
    budget_max = None if negotiable and rng.random() < 0.5 else rng.randint(10, 5000) * 10_000_00
    budget_min = budget_max // rng.choice([2, 4]) if budget_max and rng.random() < 0.5 else None
    modes = rng.sample(DEAL_MODES[:7], rng.randint(1, 3)) + (["purchase"] if rng.random() < 0.1 else [])
    return dict(
        id=demand_id, institution_id=rng.randint(1, len(generate.INSTITUTIONS)), status="published",
        lock_version=1, created_by_id=1, created_at=published - timedelta(days=rng.randint(1, 30)),
        updated_at=published, submitted_at=published - timedelta(days=1), published_at=published,
        title_zh=" ".join(title_zh.split()),
        title_en=generate._cap(" ".join(title_en.split())) if bilingual else None,
        description_zh="".join(_demand_zh(rng, zh, direction) for _ in range(rng.randint(2, 4))),
        description_en=" ".join(_demand_en(rng, en, direction) for _ in range(rng.randint(2, 3))) if bilingual
        else None,
        keywords=[zh, en] + ([app_zh] if rng.random() < 0.5 else []), direction_code=direction, field_codes=fields,
        trl_min=trl_min, trl_max=trl_max, budget_min=budget_min, budget_max=budget_max,
        currency="CNY" if rng.random() < 0.95 else "USD", budget_negotiable=negotiable,
        deadline=today + timedelta(days=rng.randint(30, 540)),
        region_code=rng.choices([r for r, _ in generate.REGIONS], [w for _, w in generate.REGIONS])[0],
        deal_modes=modes, bounty_amount=rng.randint(5, 500) * 10_000_00 if rng.random() < 0.1 else None)


class _Demand:
    """Just enough of a Demand for ``demand_tokens`` (no session needed)."""

    def __init__(self, row: dict[str, Any]) -> None:
        self.__dict__.update(row)

    def text(self, name: str, lang: str) -> str | None:
        return self.__dict__.get(f"{name}_{lang}")


def demand_index_rows(row: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The demand_index row and demand_index_fields rows ``index_demand`` writes for this demand."""
    title_tokens, body_tokens = demand_tokens(_Demand(row))  # type: ignore[arg-type]
    entry = dict(demand_id=row["id"], institution_id=row["institution_id"], direction_code=row["direction_code"],
                 region_code=row["region_code"], trl_min=row["trl_min"], trl_max=row["trl_max"],
                 deal_modes_mask=deal_modes_mask(row["deal_modes"] or []), budget_min=row["budget_min"],
                 budget_max=row["budget_max"], currency=row["currency"], budget_negotiable=row["budget_negotiable"],
                 bounty_amount=row["bounty_amount"], deadline=row["deadline"], published_at=row["published_at"],
                 title_tokens=title_tokens, body_tokens=body_tokens)
    fields = [dict(demand_id=row["id"], field_code=code) for code in sorted(set(row["field_codes"] or []))]
    return entry, fields


def load_demands(apps: dict[str, Flask], count: int, seed: int, batch: int = 2000) -> dict[str, float]:
    """``count`` demands, generated once, inserted with their index rows into every backend."""
    timing = {"generate_tokenize_s": 0.0, **{backend: 0.0 for backend in apps}}
    engines = {}
    for backend, app in apps.items():
        with app.app_context():
            engines[backend] = db.engine
    today = date.today()
    assert set(LANGUAGES) == {"zh", "en"}
    for first in range(1, count + 1, batch):
        t0 = time.perf_counter()
        rows = [demand(random.Random(seed * 7_000_003 + i), i, today) for i in range(first, min(first + batch,
                                                                                           count + 1))]
        index = [demand_index_rows(row) for row in rows]
        timing["generate_tokenize_s"] += time.perf_counter() - t0
        for backend, engine in engines.items():
            t0 = time.perf_counter()
            with engine.begin() as conn:
                conn.execute(insert(Demand.__table__), rows)
                conn.execute(insert(DemandIndexEntry.__table__), [entry for entry, _fields in index])
                conn.execute(insert(DemandIndexField.__table__), [f for _entry, fields in index for f in fields])
            timing[backend] += time.perf_counter() - t0
    log(f"demands loaded: {count} " + " ".join(f"{k}={v:.1f}s" for k, v in timing.items()))
    return timing


# ---------------------------------------------------------------------------------------------------------------
# Databases

def prepare(backend: str, url: str) -> Flask:
    """Migrate; take the hall's full-text index down for the bulk load (as bench/search.py); the institutions and
    the creator."""
    app = create_app({"HALL_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        with db.engine.begin() as conn:
            search_bench.take_down_text_index(conn, backend)  # hall_text's FTS5 triggers / GIN index
            conn.execute(insert(Institution.__table__), generate.institutions())
            conn.execute(insert(User.__table__), [generate.creator()])
        db.session.remove()
    return app


def finish(backend: str, app: Flask) -> dict[str, Any]:
    """After the demands: refresh the planner's statistics, and the database's size."""
    out: dict[str, Any] = {}
    with app.app_context():
        engine = db.engine
        t0 = time.perf_counter()
        if backend == "sqlite":
            with engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
                conn.exec_driver_sql("INSERT INTO demand_fts(demand_fts) VALUES('optimize')")
            raw = engine.raw_connection()
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            raw.close()
            path = engine.url.database or ""
            out["db_size_bytes"] = sum(os.path.getsize(path + s) for s in ("", "-wal") if os.path.exists(path + s))
        else:
            maintenance = create_engine(engine.url, isolation_level="AUTOCOMMIT")
            with maintenance.connect() as conn:
                conn.exec_driver_sql("VACUUM ANALYZE demands")
                conn.exec_driver_sql("VACUUM ANALYZE demand_index")
                conn.exec_driver_sql("VACUUM ANALYZE demand_index_fields")
                out["db_size_bytes"] = conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar()
            maintenance.dispose()
        out["demand_analyze_s"] = round(time.perf_counter() - t0, 2)
        db.session.remove()
    out["db_size_mb"] = round(out["db_size_bytes"] / 2**20, 1)
    return out


# ---------------------------------------------------------------------------------------------------------------
# Timing

class StatementCounter:
    """Counts the SQL statements the engine sends (a ``before_cursor_execute`` listener); with ``timed``, also
    each statement's seconds."""

    def __init__(self, engine: Any, timed: bool = False) -> None:
        self.engine, self.timed = engine, timed
        self.count = 0
        self.statements: list[list[Any]] = []

    def __enter__(self) -> StatementCounter:
        event.listen(self.engine, "before_cursor_execute", self._before)
        if self.timed:
            event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        if self.timed:
            event.remove(self.engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        self.count += 1
        if self.timed:
            self.statements.append([statement, time.perf_counter()])

    def _after(self, *_args: Any) -> None:
        self.statements[-1][1] = time.perf_counter() - self.statements[-1][1]


class CandidateCounter:
    """Wraps a module's ``_candidates`` to remember how many candidates the last call produced."""

    def __init__(self, module: Any) -> None:
        self.module, self.inner, self.last = module, module._candidates, 0

    def __enter__(self) -> CandidateCounter:
        def counted(*args: Any, **kwargs: Any) -> Any:
            found = self.inner(*args, **kwargs)
            self.last = len(found)
            return found
        self.module._candidates = counted
        return self

    def __exit__(self, *exc: object) -> None:
        self.module._candidates = self.inner


def load_demand(demand_id: int) -> tuple[Any, ...]:
    found = db.session.get(Demand, demand_id)
    assert found is not None
    found.field_codes, found.deal_modes  # noqa: B018 - loaded before the clock starts
    return (found,)


def load_listing(listing_id: int) -> tuple[Any, ...]:
    entry = db.session.get(HallIndexEntry, listing_id)
    assert entry is not None
    version = db.session.get(ListingVersion, entry.version_id)
    assert version is not None
    return entry, version


KINDS = {"match_demand": (matching, load_demand, lambda *a: matching.match_demand(*a)),
         "match_listing": (listing_matches, load_listing, lambda *a: listing_matches.match_listing(*a))}


def one_call(kind: str, item_id: int, counter: StatementCounter, candidates: CandidateCounter) -> dict[str, Any]:
    """Fresh session state, the subject loaded, then one timed call."""
    _module, loader, call = KINDS[kind]
    db.session.rollback()
    db.session.expire_all()
    subject = loader(item_id)
    counter.count = 0
    t0, c0 = time.perf_counter(), time.process_time()
    matches = call(*subject)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"id": item_id, "s": seconds, "cpu_s": cpu, "sql": counter.count, "candidates": candidates.last,
            "matches": len(matches), "top_score": matches[0].score if matches else None}


def summarize(calls: list[dict[str, Any]]) -> dict[str, Any]:
    if not calls:
        return {"runs": 0}
    ms = [c["s"] * 1000 for c in calls]
    cpu = [c["cpu_s"] * 1000 for c in calls]
    sql = [c["sql"] for c in calls]
    return {"runs": len(calls), "p50_ms": round(pct(ms, .5), 1), "p95_ms": round(pct(ms, .95), 1),
            "max_ms": round(max(ms), 1), "mean_ms": round(statistics.fmean(ms), 1),
            "cpu_p50_ms": round(pct(cpu, .5), 1), "cpu_p95_ms": round(pct(cpu, .95), 1),
            "mean_candidates": round(statistics.fmean(c["candidates"] for c in calls), 1),
            "mean_matches": round(statistics.fmean(c["matches"] for c in calls), 1),
            "zero_matches": sum(1 for c in calls if not c["matches"]),
            "sql_per_call": {"min": min(sql), "p50": round(pct([float(s) for s in sql], .5), 1), "max": max(sql)}}


def profile(kind: str, item_id: int, engine: Any) -> dict[str, Any]:
    """The call under cProfile (top functions by own and by cumulative time, file:line), then once more with each
    SQL statement timed."""
    _module, loader, call = KINDS[kind]
    db.session.rollback()
    db.session.expire_all()
    subject = loader(item_id)
    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    profiler.enable()
    call(*subject)
    profiler.disable()
    wall = time.perf_counter() - t0
    stats = pstats.Stats(profiler)
    rows = []
    for (path, line, name), (_cc, calls, own, cumulative, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append({"where": f"{_short(path)}:{line}({name})", "calls": calls, "own_ms": round(own * 1000, 1),
                     "cum_ms": round(cumulative * 1000, 1)})
    buffer = io.StringIO()
    pstats.Stats(profiler, stream=buffer).sort_stats("cumulative").print_stats(30)
    log(f"cProfile {kind} id={item_id} ({wall * 1000:.0f} ms under the profiler):\n{buffer.getvalue()}")
    db.session.rollback()
    db.session.expire_all()
    subject = loader(item_id)
    with StatementCounter(engine, timed=True) as timer:
        t0 = time.perf_counter()
        call(*subject)
        wall_sql = time.perf_counter() - t0
    groups: dict[str, dict[str, Any]] = {}  # the statements by their text (bound parameters aside)
    for statement, seconds in timer.statements:
        group = groups.setdefault(" ".join(statement.split())[:200], {"count": 0, "ms": 0.0, "max_ms": 0.0})
        group["count"] += 1
        group["ms"] += seconds * 1000
        group["max_ms"] = max(group["max_ms"], seconds * 1000)
    statements = sorted(({"sql": sql, "count": g["count"], "ms": round(g["ms"], 1), "max_ms": round(g["max_ms"], 1)}
                         for sql, g in groups.items()), key=lambda g: -g["ms"])
    sql_ms = sum(t for _s, t in timer.statements) * 1000
    log(f"{kind} id={item_id}: {wall_sql * 1000:.0f} ms, of which SQL {sql_ms:.0f} ms in {len(timer.statements)} "
        "statements:\n  " + "\n  ".join(f"{s['count']:4d} × {s['ms']:8.1f} ms (max {s['max_ms']:.1f})  "
                                         f"{s['sql'][:160]}" for s in statements))
    # How much the any-word text query has to rank: every match gets a bm25 / ts_rank score before the LIMIT.
    if kind == "match_demand":
        terms = matching.demand_terms(subject[0])
        text_matches = count_text_matches(terms, "any")
    else:
        terms = listing_matches.listing_terms(subject[1])
        text_matches = count_demand_text_matches(terms, "any")
    log(f"{kind} id={item_id}: {len(terms)} terms {terms}, any-word text matches: {text_matches}")
    db.session.rollback()
    return {"id": item_id, "terms": terms, "text_matches": text_matches,
            "profiled_ms": round(wall * 1000, 1), "unprofiled_ms": round(wall_sql * 1000, 1),
            "sql_ms": round(sql_ms, 1), "python_ms": round(wall_sql * 1000 - sql_ms, 1),
            "top_cumulative": sorted(rows, key=lambda r: -r["cum_ms"])[:25],
            "top_own": sorted(rows, key=lambda r: -r["own_ms"])[:15],
            "statements": len(timer.statements), "statement_groups": statements[:8]}


def _short(path: str) -> str:
    for marker in ("/platform/", "/site-packages/", "/lib/python"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


def measure(backend: str, app: Flask, args: argparse.Namespace, deadline: Deadline) -> dict[str, Any]:
    rng = random.Random(args.seed)
    samples = {"match_demand": rng.sample(range(1, args.demands + 1), min(args.sample, args.demands)),
               "match_listing": rng.sample(range(1, args.listings + 1), min(args.sample, args.listings))}
    out: dict[str, Any] = {}
    with app.app_context(), app.test_request_context():
        engine = db.engine
        for kind, ids in samples.items():
            module = KINDS[kind][0]
            calls: list[dict[str, Any]] = []
            with StatementCounter(engine) as counter, CandidateCounter(module) as candidates:
                for item_id in ids[:3]:  # warm-up: the taxonomy, translations, statement caches
                    one_call(kind, item_id, counter, candidates)
                for item_id in ids:
                    if deadline.passed():
                        break
                    calls.append(one_call(kind, item_id, counter, candidates))
            out[kind] = summarize(calls)
            out[kind]["truncated"] = len(calls) < len(ids)
            log(f"{backend} {kind}: {out[kind]}")
            if calls and out[kind]["p95_ms"] > args.profile_ms and not deadline.passed():
                slowest = max(calls, key=lambda c: c["s"])
                p95_call = sorted(calls, key=lambda c: c["s"])[min(len(calls) - 1, int(len(calls) * .95))]
                out[kind]["profile_slowest"] = profile(kind, slowest["id"], engine)
                if p95_call["id"] != slowest["id"] and not deadline.passed():
                    out[kind]["profile_p95"] = profile(kind, p95_call["id"], engine)
        db.session.remove()
    return out


# ---------------------------------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--demands", type=int, default=10_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--sample", type=int, default=200, help="demands and listings timed (each)")
    parser.add_argument("--seed", type=int, default=20241129)
    parser.add_argument("--time-limit", type=float, default=1200, help="seconds for the whole run")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432",
                        help="the local PostgreSQL server (a database hall_bench_matching_<pid> is made on it)")
    parser.add_argument("--batch", type=int, default=5000, help="listings per insert transaction")
    parser.add_argument("--workers", type=int, default=1, help="processes generating and tokenizing listings")
    parser.add_argument("--profile-ms", type=float, default=PROFILE_MS,
                        help="profile the slowest call of a kind whose p95 is above this")
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    args = parser.parse_args()
    if args.listings < 1 or args.demands < 1 or args.sample < 1:
        parser.error("need at least one listing, demand and sample")
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    deadline = Deadline(args.time_limit)
    started = time.perf_counter()
    result: dict[str, Any] = {"bench": "matching", "params": {
        "listings": args.listings, "demands": args.demands, "backends": backends, "sample": args.sample,
        "seed": args.seed, "time_limit_s": args.time_limit, "batch": args.batch, "workers": args.workers,
        "profile_ms": args.profile_ms, "limit": 20, "text_candidates": matching.TEXT_CANDIDATES,
        "field_candidates": matching.FIELD_CANDIDATES, "max_terms": matching.MAX_TERMS,
        "timing": "perf_counter around match_demand / match_listing in one app + test request context, "
                  "session.expire_all() before each call"},
        "host": {"cpus": os.cpu_count(), "loadavg_at_start": [round(x, 2) for x in os.getloadavg()]}}
    workdir = Path(tempfile.mkdtemp(prefix="hall_bench_matching_"))
    names: dict[str, str] = {}
    apps: dict[str, Flask] = {}
    try:
        for backend in backends:
            t0 = time.perf_counter()
            url, names[backend] = make_database(backend, args.pg_url, workdir, "matching")
            apps[backend] = prepare(backend, url)
            result[backend] = {"migrate_s": round(time.perf_counter() - t0, 1)}
        log(f"migrated {backends}; loading {args.listings} listings")
        load_args = SimpleNamespace(n=args.listings, batch=args.batch, seed=args.seed, workers=args.workers)
        timing = search_bench.load(apps, load_args)  # type: ignore[arg-type]
        result["data"] = {"listings_generate_s": round(timing["generate_s"], 1),
                          "listings_tokenize_s": round(timing["tokenize_s"], 1),
                          "battery_share": timing["common_share"]}
        for backend, app in apps.items():
            log(f"{backend}: building the hall's full-text index")
            result[backend].update(listings_insert_s=round(timing[backend], 1),
                                   listings_index=search_bench.build_index(backend, app))
        generate.use_memo_stemmer()
        demand_timing = load_demands(apps, args.demands, args.seed)
        result["data"]["demands_generate_tokenize_s"] = round(demand_timing["generate_tokenize_s"], 1)
        for backend, app in apps.items():
            figures = result[backend]
            figures["demands_insert_s"] = round(demand_timing[backend], 1)
            figures.update(finish(backend, app))
            figures["load_s"] = round(figures["listings_insert_s"] + figures["listings_index"]["index_build_s"]
                                      + figures["demands_insert_s"], 1)
            with app.app_context():
                figures["rows"] = {table: db.session.execute(text(f"SELECT count(*) FROM {table}")).scalar()
                                   for table in ("hall_index", "hall_text", "demand_index",
                                                 "demand_index_fields")}
                figures["rows"]["public_demands"] = db.session.scalar(
                    select(func.count()).select_from(DemandIndexEntry).where(*public_demand_conditions()))
                db.session.remove()
            log(f"{backend}: loaded in {figures['load_s']} s, {figures['db_size_mb']} MB, rows {figures['rows']}")
        for backend, app in apps.items():
            if deadline.passed():
                result[backend]["skipped"] = "--time-limit reached before timing"
                continue
            result[backend].update(measure(backend, app, args, deadline))
    finally:
        for app in apps.values():
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        if args.keep:
            result["kept"] = {"databases": names, "workdir": str(workdir)}
        else:
            for backend, name in names.items():
                drop_database(backend, args.pg_url, name)
            shutil.rmtree(workdir, ignore_errors=True)
    result["truncated"] = deadline.passed()
    result["host"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    result["elapsed_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
