"""Hall search benchmark: N generated bilingual listings, the public search service against naive LIKE.

    .venv/bin/python bench/search.py --n 200000 [--backends sqlite,postgresql] [--experiments] [--reuse]

Loads the same deterministic listings (bench/generate.py) into a fresh SQLite file and a fresh PostgreSQL database
(both migrated to head), times the full-text index build and the count of the kept facet counts, then runs a
fixed query mix through ``hall.services.publishing.hall.search_hall`` (``hall``: total and page only;
``hall_with_facets``: with the facet counts too, as the API answers by default) and the same queries as
LIKE '%…%' scans; apart from the mix, ``browse_with_facets`` times pages without text and with at most one facet
filter. ``--reuse`` measures the databases an earlier run left instead (upgraded to head first, timed). Progress
goes to stderr; the last line of stdout is one JSON object with the figures.
Only 127.0.0.1 is used and only the named bench database is touched.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import multiprocessing
import os
import resource
import statistics
import sys
import time
from collections import deque
from itertools import islice
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import bindparam, create_engine, event, insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench import generate  # noqa: E402
from bench.common import log, pct  # noqa: E402
from hall import create_app  # noqa: E402
from hall.db import read_only_transactions  # noqa: E402
from hall.extensions import db  # noqa: E402
from hall.models import HallIndexEntry, HallText, Institution, Listing, ListingVersion, User  # noqa: E402
from hall.search import (  # noqa: E402
    COLUMN_WEIGHTS,
    TS_RANK_NORMALIZATION,
    TS_RANK_WEIGHTS,
    count_text_matches,
    rebuild_hall_facets,
)
from hall.search.query import build_query, fts5_expression, tsquery_expression  # noqa: E402
from hall.services.publishing.hall import HallFilter, search_hall  # noqa: E402

# The fixed query mix: (category, HallFilter keyword arguments, sort).
R = "relevance"
MIX: list[tuple[str, dict[str, Any], str]] = [
    ("zh_2char", {"q": "材料"}, R), ("zh_2char", {"q": "芯片"}, R), ("zh_2char", {"q": "激光"}, R),
    ("zh_term", {"q": "钙钛矿"}, R), ("zh_term", {"q": "脑机接口"}, R), ("zh_term", {"q": "量子通信"}, R),
    ("zh_long", {"q": "基于石墨烯复合材料的高能量密度锂离子电池"}, R),
    ("zh_long", {"q": "面向低轨卫星互联网的相控阵天线关键技术"}, R),
    ("en", {"q": "graphene"}, R), ("en", {"q": "quantum"}, R), ("en", {"q": "solid-state electrolyte"}, R),
    ("mixed", {"q": "石墨烯 battery"}, R), ("mixed", {"q": "perovskite 太阳能电池"}, R),
    ("common", {"q": "电池"}, R), ("common", {"q": "battery"}, R),
    ("filters", {"direction": "energy", "trl_min": 6}, R),
    ("filters", {"kind": "first_of_kind", "recognition_level": "national"}, R),
    ("filters", {"region": "440000", "deal_mode": "transfer"}, R),
    ("text_filter", {"q": "电池", "direction": "energy", "trl_min": 6}, R),
    ("sort", {"q": "石墨烯"}, "newest"), ("sort", {"q": "电池"}, "price_asc"),
    ("sort", {"direction": "materials"}, "price_asc"),
]
# Pages without text and with at most one facet filter, timed apart from the mix (their counts are kept per value).
BROWSE: list[tuple[str, dict[str, Any], str]] = [
    ("browse", {}, "newest"), ("browse", {"direction": "energy"}, "newest"), ("browse", {"kind": "first_of_kind"}, R),
    ("browse", {"region": "440000"}, "price_asc"), ("browse", {"deal_mode": "transfer"}, "newest")]
TEXT_COLUMNS = ("title_zh", "title_en", "summary_zh", "summary_en", "description_zh", "description_en")
_spec = importlib.util.spec_from_file_location("migration_0019", ROOT / "migrations/versions/0019_search_text.py")
MIGRATION_0019 = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(MIGRATION_0019)  # type: ignore[union-attr]
# The hall_text triggers exactly as migration 0019 creates them (its statements: table, 3 triggers, rebuild).
FTS_TRIGGERS = {statement.split()[2].rsplit("_", 1)[1]: statement
                for statement in MIGRATION_0019._fts5_statements("hall_text", MIGRATION_0019.COLUMNS, "listing_id")
                if statement.startswith("CREATE TRIGGER")}
LIKE_FILTERS = {  # HallFilter field: (condition on listing_versions v / listings l, parameter value)
    "kind": ("l.kind = :kind", str), "direction": ("v.direction_code = :direction", str),
    "recognition_level": ("v.recognition_level = :recognition_level", str), "trl_min": ("v.trl >= :trl_min", int),
    "region": ("v.region_code LIKE :region", lambda code: code.rstrip("0")[:2] + "%"),
    "deal_mode": ("CAST(v.deal_modes AS TEXT) LIKE :deal_mode", lambda mode: f'%"{mode}"%')}
GIN = "CREATE INDEX ix_hall_text_search_vector ON hall_text USING GIN (search_vector)"  # as migration 0019


def take_down_text_index(conn: Any, backend: str) -> None:
    """For a bulk load: no FTS5 triggers on hall_text (SQLite), no GIN index on hall_text (PostgreSQL)."""
    if backend == "sqlite":
        for trigger in FTS_TRIGGERS:
            conn.exec_driver_sql(f"DROP TRIGGER hall_text_fts_{trigger}")
    else:
        conn.exec_driver_sql("DROP INDEX ix_hall_text_search_vector")


def summary(values: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values]
    return {"p50_ms": round(pct(ms, .5), 2), "p95_ms": round(pct(ms, .95), 2), "max_ms": round(max(ms), 2),
            "runs": len(ms)} if ms else {"runs": 0}


def label(entry: tuple[str, dict[str, Any], str]) -> str:
    category, kwargs, sort = entry
    return f"{category}:{json.dumps(kwargs, ensure_ascii=False, sort_keys=True)}:{sort}"


def database_url(backend: str, args: argparse.Namespace) -> str:
    """The bench database's URL (PostgreSQL: only a local database with "bench" in its name)."""
    if backend == "sqlite":
        return f"sqlite:///{args.sqlite_path}"
    url_obj = make_url(args.pg_url).set(drivername="postgresql+psycopg")
    assert "bench" in (url_obj.database or "") and url_obj.host in ("127.0.0.1", "localhost"), "a local *bench* db"
    return url_obj.render_as_string(hide_password=False)


def reuse(backend: str, args: argparse.Namespace) -> tuple[Any, float]:
    """The database a previous run left, migrated to head (which fills what a newer migration adds): the app and
    the seconds the upgrade took."""
    app = create_app({"HALL_ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_url(backend, args)})
    with app.app_context():
        found = db.session.scalar(text("SELECT count(*) FROM hall_index"))
        db.session.rollback()
        if found != args.n:
            sys.exit(f"--reuse: the {backend} bench database holds {found} listings in the hall, not --n {args.n}")
        t0 = time.perf_counter()
        upgrade()
        return app, time.perf_counter() - t0


def prepare(backend: str, args: argparse.Namespace) -> Any:
    """A freshly created, migrated database with the full-text index taken down for the bulk load; the app."""
    url = database_url(backend, args)
    if backend == "sqlite":
        path = Path(args.sqlite_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    else:
        url_obj = make_url(url)
        name = url_obj.database or ""
        admin = create_engine(url_obj.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    app = create_app({"HALL_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        with db.engine.begin() as conn:
            take_down_text_index(conn, backend)
            conn.execute(insert(Institution.__table__), generate.institutions())
            conn.execute(insert(User.__table__), [generate.creator()])
    return app


def load(apps: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """Generate and tokenize N listings in a worker process while inserting each batch into every backend
    (Core executemany, one transaction per batch per backend; the same rows everywhere)."""
    timing = {"generate_s": 0.0, "tokenize_s": 0.0, **{b: 0.0 for b in apps}}
    engines = {}
    for backend, app in apps.items():
        with app.app_context():
            engines[backend] = db.engine
    tasks = iter([(first, min(args.batch, args.n - first + 1), args.seed)
                  for first in range(1, args.n + 1, args.batch)])
    done = common = 0
    with multiprocessing.get_context("fork").Pool(args.workers, initializer=generate.use_memo_stemmer) as pool:
        pending = deque(pool.apply_async(generate.make_batch, (task,)) for task in islice(tasks, args.workers + 2))
        while pending:  # a few batches ahead of the inserts, no more (memory)
            batch, index, gen_s, tok_s = pending.popleft().get()
            pending.extend(pool.apply_async(generate.make_batch, (task,)) for task in islice(tasks, 1))
            timing["generate_s"] += gen_s
            timing["tokenize_s"] += tok_s
            common += sum(1 for row in index if generate.COMMON_TERM[0] in " ".join(
                row[column] for column in generate.TEXT_COLUMNS).split())
            index_rows, text_rows = zip(*map(generate.split_index_row, index))
            low, high = batch[0]["listing"]["id"], batch[-1]["listing"]["id"]
            for backend, engine in engines.items():
                t0 = time.perf_counter()
                with engine.begin() as conn:
                    conn.execute(insert(Listing.__table__), [item["listing"] for item in batch])
                    conn.execute(insert(ListingVersion.__table__), [item["version"] for item in batch])
                    conn.execute(insert(HallIndexEntry.__table__), list(index_rows))
                    conn.execute(insert(HallText.__table__), list(text_rows) if backend == "sqlite" else
                                 [dict(row, facet_tokens="") for row in text_rows])  # (as index_listing writes)
                    conn.execute(text("UPDATE listings SET published_version_id = id, working_version_id = id "
                                      "WHERE id BETWEEN :low AND :high"), {"low": low, "high": high})
                timing[backend] += time.perf_counter() - t0
            done += len(batch)
            if done % (args.batch * 20) == 0 or done == args.n:
                log(f"loaded {done}/{args.n} " + " ".join(f"{k}={v:.0f}s" for k, v in timing.items()))
    timing["common_share"] = round(common / args.n, 3)
    return timing


def build_index(backend: str, app: Any) -> dict[str, Any]:
    """SQLite: rebuild FTS5 from hall_text and put the triggers back. PostgreSQL: CREATE the GIN index, then
    VACUUM ANALYZE. Returns timings and the database size."""
    out: dict[str, Any] = {}
    with app.app_context():
        t0 = time.perf_counter()  # what `flask hall rebuild-facets` does after a bulk load
        out["facet_count_rows"] = rebuild_hall_facets()
        db.session.commit()
        out["facet_counts_s"] = round(time.perf_counter() - t0, 2)
        engine = db.engine
        if backend == "sqlite":
            t0 = time.perf_counter()
            with engine.begin() as conn:
                conn.exec_driver_sql("INSERT INTO hall_fts(hall_fts) VALUES('rebuild')")
                for statement in FTS_TRIGGERS.values():
                    conn.exec_driver_sql(statement)
            out["index_build_s"] = round(time.perf_counter() - t0, 2)
            t0 = time.perf_counter()  # what `flask hall optimize-db` does (PostgreSQL's twin: VACUUM ANALYZE)
            with engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
                conn.exec_driver_sql("INSERT INTO hall_fts(hall_fts) VALUES('optimize')")
            out["analyze_optimize_s"] = round(time.perf_counter() - t0, 2)
            raw = engine.raw_connection()  # autocommit at the driver: a checkpoint cannot run inside BEGIN
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            raw.close()
            with engine.connect() as conn:
                path = engine.url.database or ""
                out["db_size_bytes"] = sum(os.path.getsize(path + s) for s in ("", "-wal") if os.path.exists(path + s))
                try:
                    parts: dict[str, int] = {}
                    for name, size in conn.exec_driver_sql("SELECT name, pgsize FROM dbstat WHERE aggregate=TRUE"):
                        key = "hall_fts" if name.startswith("hall_fts") else name
                        parts[key] = parts.get(key, 0) + size
                    out["size_parts_bytes"] = {k: parts[k] for k in ("hall_fts", "hall_text", "hall_index",
                                                                         "listing_versions")}
                except Exception as exc:  # dbstat is a compile-time option
                    out["size_parts_bytes"] = f"unavailable: {exc}"
        else:
            maintenance = create_engine(engine.url, isolation_level="AUTOCOMMIT")
            with maintenance.connect() as conn:
                t0 = time.perf_counter()
                conn.exec_driver_sql(GIN)
                out["index_build_s"] = round(time.perf_counter() - t0, 2)
                t0 = time.perf_counter()
                conn.exec_driver_sql("VACUUM ANALYZE")
                out["vacuum_analyze_s"] = round(time.perf_counter() - t0, 2)
                out["db_size_bytes"] = conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar()
                out["size_parts_bytes"] = {name: conn.exec_driver_sql(f"SELECT {fn}('{name}')").scalar() for fn, name in
                                           (("pg_table_size", "hall_text"),  # without its indexes
                                            ("pg_relation_size", "ix_hall_text_search_vector"),
                                            ("pg_total_relation_size", "hall_index"),
                                            ("pg_total_relation_size", "listing_versions"))}
            maintenance.dispose()
    return out


def run_hall(entry: tuple[str, dict[str, Any], str], facets: bool = False) -> int:
    _category, kwargs, sort = entry
    # version=None: no result kept per hall version, every run computes
    page = search_hall(HallFilter(**kwargs), sort=sort, page=1, per_page=20, with_facets=facets, version=None)
    db.session.rollback()
    return page.total


def like_sql(entry: tuple[str, dict[str, Any], str], dialect: str) -> tuple[str, str, dict[str, Any]]:
    """The naive equivalent: LIKE '%word%' over the texts (every word of q), filters on listing_versions."""
    _category, kwargs, sort = entry
    op = "ILIKE" if dialect == "postgresql" else "LIKE"
    where, params = ["l.status = 'published'"], {}
    for i, word in enumerate((kwargs.get("q") or "").split()):
        params[f"w{i}"] = f"%{word}%"
        where.append("(" + " OR ".join(f"v.{c} {op} :w{i}" for c in TEXT_COLUMNS) + ")")
    for key, (condition, value) in LIKE_FILTERS.items():
        if key in kwargs:
            where.append(condition)
            params[key] = value(kwargs[key])
    base = f"FROM listing_versions v JOIN listings l ON l.published_version_id = v.id WHERE {' AND '.join(where)}"
    order = ("v.price_amount IS NULL, v.price_amount, l.published_at DESC" if sort == "price_asc"
             else "l.published_at DESC, l.id DESC")
    return f"SELECT count(*) {base}", f"SELECT v.*, l.published_at {base} ORDER BY {order} LIMIT 20", params


def run_like(entry: tuple[str, dict[str, Any], str], dialect: str) -> int:
    count_sql, page_sql, params = like_sql(entry, dialect)
    total = db.session.execute(text(count_sql), params).scalar() or 0
    db.session.execute(text(page_sql), params).all()
    db.session.rollback()
    return total


def hall_mix(repeat: int, facets: bool = False,
             mix: list[tuple[str, dict[str, Any], str]] = MIX) -> tuple[list[int], dict[int, list[float]]]:
    """One warm-up round of the mix through search_hall (gives the totals), then ``repeat`` timed rounds; with
    ``facets``, each search also counts its facets, as the API's answer does by default."""
    totals = [run_hall(entry, facets) for entry in mix]
    times: dict[int, list[float]] = {i: [] for i in range(len(mix))}
    for _ in range(repeat):
        for i, entry in enumerate(mix):
            t0 = time.perf_counter()
            run_hall(entry, facets)
            times[i].append(time.perf_counter() - t0)
    return totals, times


def mix_summary(times: dict[int, list[float]]) -> dict[str, Any]:
    out = summary([t for ts in times.values() for t in ts])
    out["by_category"] = {c: summary([t for i, e in enumerate(MIX) if e[0] == c for t in times[i]])
                          for c in dict.fromkeys(e[0] for e in MIX)}
    out["text_only"] = summary([t for i, e in enumerate(MIX) if e[1].get("q") for t in times[i]])
    return out


def measure(backend: str, app: Any, args: argparse.Namespace) -> dict[str, Any]:
    """Hall search (warm-up round, then ``repeat`` rounds of the mix) and the LIKE baseline (time-limited)."""
    out: dict[str, Any] = {}
    like_times: dict[int, list[float]] = {i: [] for i in range(len(MIX))}
    with app.app_context(), read_only_transactions():
        totals, hall_times = hall_mix(args.repeat)
        _totals, facet_times = hall_mix(args.repeat, facets=True)
        _totals, browse_times = hall_mix(args.repeat, facets=True, mix=BROWSE)
        log(f"{backend}: hall mix done (without and with facets)")
        dialect = db.engine.dialect.name
        db.session.execute(text("SELECT count(*) FROM listing_versions WHERE description_en LIKE '%zzqx%'"))
        db.session.rollback()
        like_totals: list[int | None] = [None] * len(MIX)
        started, truncated = time.perf_counter(), False
        for _ in range(min(args.repeat, args.like_runs)):
            for i, entry in enumerate(MIX):
                if time.perf_counter() - started > args.time_limit:
                    truncated = True
                    break
                t0 = time.perf_counter()
                like_totals[i] = run_like(entry, dialect)
                like_times[i].append(time.perf_counter() - t0)
            if truncated:
                break
        log(f"{backend}: LIKE baseline done in {time.perf_counter() - started:.0f}s (truncated={truncated})")
        out["hall"], out["like"] = mix_summary(hall_times), mix_summary(like_times)
        out["hall_with_facets"] = mix_summary(facet_times)
        out["browse_with_facets"] = summary([t for ts in browse_times.values() for t in ts])
        out["like"].update(truncated=truncated, time_limit_s=args.time_limit, runs_per_query=args.like_runs)
        if out["like"]["text_only"]["runs"]:
            out["speedup_p95"] = round(out["like"]["p95_ms"] / out["hall"]["p95_ms"], 1)
            out["speedup_text_p95"] = round(out["like"]["text_only"]["p95_ms"] / out["hall"]["text_only"]["p95_ms"], 1)
        out["queries"] = [{"query": label(e), "total": totals[i], "like_total": like_totals[i],
                           "hall_p50_ms": round(pct(hall_times[i], .5) * 1000, 2),
                           "hall_p95_ms": round(pct(hall_times[i], .95) * 1000, 2),
                           "like_p50_ms": round(pct(like_times[i], .5) * 1000, 1) if like_times[i] else None}
                          for i, e in enumerate(MIX)]
        slowest = max(range(len(MIX)), key=lambda i: pct(hall_times[i], .95))
        out["slowest"] = explain(MIX[slowest], dialect)
    return out


def capture(entry: tuple[str, dict[str, Any], str]) -> list[tuple[str, Any, float]]:
    """Run one hall query once; return each SELECT it sent with its parameters and seconds."""
    captured: list[list[Any]] = []

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        captured.append([statement, parameters, time.perf_counter()])

    def after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        captured[-1][2] = time.perf_counter() - captured[-1][2]

    event.listen(db.engine, "before_cursor_execute", before)
    event.listen(db.engine, "after_cursor_execute", after)
    try:
        run_hall(entry)
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
        event.remove(db.engine, "after_cursor_execute", after)
    return [(s, p, t) for s, p, t in captured if s.lstrip().upper().startswith("SELECT") and s.strip() != "SELECT 1"]


def explain(entry: tuple[str, dict[str, Any], str], dialect: str) -> dict[str, Any]:
    """The statements of one hall query, timed, each with its plan (EXPLAIN ANALYZE on PostgreSQL) to stderr."""
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if dialect == "postgresql" else "EXPLAIN QUERY PLAN "
    result: dict[str, Any] = {"query": label(entry), "statements": []}
    for statement, params, seconds in capture(entry):
        rows = db.session.connection().exec_driver_sql(prefix + statement, params).all()
        db.session.rollback()
        plan = [" | ".join(str(c) for c in row) for row in rows]
        log(f"{dialect} {label(entry)} {seconds * 1000:.1f} ms\n  SQL: {' '.join(statement.split())}\n  PARAMS: "
            f"{str(params)[:300]}\n  PLAN:\n    " + "\n    ".join(plan))
        result["statements"].append({"sql": " ".join(statement.split())[:100], "ms": round(seconds * 1000, 2),
                                     "plan": plan if dialect == "sqlite" else [p for p in plan if "actual" in p][:8]})
    return result


def experiments(backend: str) -> dict[str, Any]:
    """EXPERIMENT, not the app: scratch rewrites of the slow statements of search_hall over hall_text (joined to
    hall_index for filters), timed on the same data (median of 3 runs, ms) next to the app's own statements: what
    the rank window and the join cost."""
    def ms(sql: str, params: dict[str, Any], fetch_rows: bool = False) -> float:
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            rows = db.session.execute(text(sql), params).all()
            if fetch_rows:  # deferred join: the 20 full rows by id
                db.session.execute(text("SELECT * FROM hall_index h JOIN listing_versions v ON v.id = h.version_id "
                                        "WHERE h.listing_id IN :ids").bindparams(bindparam("ids", expanding=True)),
                                   {"ids": [r[0] for r in rows] or [0]}).all()
            times.append(time.perf_counter() - t0)
            db.session.rollback()
        return round(statistics.median(times) * 1000, 1)

    pg, out = backend == "postgresql", {}
    for entry in (MIX[0], MIX[6], MIX[13], MIX[18]):  # 材料, the long phrase, 电池, 电池 + filters
        units = build_query(entry[1]["q"])
        mode = "all" if count_text_matches(units, "all") else "any"  # search_hall's any-word fallback
        db.session.rollback()
        runs = [capture(entry) for _ in range(3)]
        app = [round(statistics.median(r[i][2] for r in runs) * 1000, 1) for i in range(len(runs[0]))]
        flt = " AND h.direction_code = 'energy' AND h.trl >= 6" if "direction" in entry[1] else ""
        if pg:
            p = {"q": tsquery_expression(units, mode)}
            q, src = "to_tsquery('simple', :q)", "hall_text t JOIN hall_index h ON h.listing_id = t.listing_id"
            rank = f"ts_rank('{TS_RANK_WEIGHTS}'::float4[], t.search_vector, {q}, {TS_RANK_NORMALIZATION})"
            variants = {
                "count": f"SELECT count(*) FROM {src if flt else 'hall_text t'} WHERE t.search_vector @@ {q}{flt}",
                "page_ids_ranked_unwindowed_then_fetch": f"SELECT h.listing_id FROM {src} WHERE t.search_vector @@ "
                                                         f"{q}{flt} ORDER BY {rank} DESC, h.listing_id DESC LIMIT 20",
                "page_ids_unranked_newest": f"SELECT t.listing_id FROM {src} WHERE t.search_vector @@ {q}{flt} "
                                            "ORDER BY t.listing_id DESC LIMIT 20"}
        else:
            p = {"q": fts5_expression(units, mode)}
            bm25 = f"bm25(hall_fts, {', '.join(map(str, COLUMN_WEIGHTS))})"
            variants = {
                "count": "SELECT count(*) FROM hall_fts WHERE hall_fts MATCH :q" if not flt else
                         "SELECT count(*) FROM hall_index h WHERE h.listing_id IN "
                         f"(SELECT rowid FROM hall_fts WHERE hall_fts MATCH :q){flt}",
                "page_ids_ranked_unwindowed_then_fetch": "SELECT h.listing_id FROM hall_fts JOIN hall_index h ON "
                                                         f"h.listing_id = hall_fts.rowid WHERE hall_fts MATCH :q{flt} "
                                                         f"ORDER BY {bm25}, h.listing_id DESC LIMIT 20",
                "rank_only_fts_unwindowed": f"SELECT rowid FROM hall_fts WHERE hall_fts MATCH :q ORDER BY {bm25} "
                                            "LIMIT 20"}
        out[label(entry)] = {"mode": mode, "app_statements_ms": app,
                             "variants_ms": {k: ms(v, p, fetch_rows="then_fetch" in k) for k, v in variants.items()}}
        log(f"EXPERIMENT {backend} {label(entry)}: {out[label(entry)]}")
    return out


def memory() -> dict[str, float]:
    """Peak resident set size (MB) of this process and of its largest finished child (the generating workers)."""
    return {"peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "workers_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/hall_bench_search")
    parser.add_argument("--sqlite-path", default="/tmp/hall_bench/search.sqlite")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each hall query")
    parser.add_argument("--like-runs", type=int, default=3, help="timed runs of each LIKE query (≤ repeat)")
    parser.add_argument("--time-limit", type=float, default=900, help="seconds for the LIKE baseline per backend")
    parser.add_argument("--seed", type=int, default=20241129)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=1, help="processes generating and tokenizing listings")
    parser.add_argument("--experiments", action="store_true", help="also time labelled scratch query variants")
    parser.add_argument("--reuse", action="store_true",
                        help="measure the databases an earlier run left (of the same --n), upgraded to head")
    args = parser.parse_args()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    started = time.perf_counter()
    result: dict[str, Any] = {"bench": "hall_search", "params": {
        "n": args.n, "seed": args.seed, "repeat": args.repeat, "like_runs": args.like_runs, "batch": args.batch,
        "workers": args.workers, "time_limit_s": args.time_limit, "backends": backends, "mix_size": len(MIX)}}
    result["tokenizer"] = generate.tokenizer_cost(args.seed)
    result["tokenizer"]["app_projected_s"] = round(result["tokenizer"]["app_us_per_listing"] * args.n / 1e6)
    log(f"tokenizer: {result['tokenizer']}")
    upgraded: dict[str, float] = {}
    if args.reuse:
        apps = {}
        for backend in backends:
            apps[backend], upgraded[backend] = reuse(backend, args)
    else:
        apps = {backend: prepare(backend, args) for backend in backends}
        timing = load(apps, args)
        result["data"] = {"generate_s": round(timing["generate_s"], 1), "tokenize_s": round(timing["tokenize_s"], 1),
                          "common_term": generate.COMMON_TERM[0], "common_share": timing["common_share"]}
    result["memory"] = {"after_load": memory()}
    for backend, app in apps.items():
        if args.reuse:
            figures: dict[str, Any] = {"reused": True, "upgrade_s": round(upgraded[backend], 1)}
        else:
            log(f"{backend}: building the full-text index")
            figures = {"load_s": round(timing[backend], 1), **build_index(backend, app)}
        figures.update(measure(backend, app, args))
        if args.experiments:
            with app.app_context():
                figures["experiments"] = experiments(backend)
        result[backend] = figures
        log(f"{backend}: hall p50={figures['hall']['p50_ms']} p95={figures['hall']['p95_ms']} ms; "
            f"LIKE p95={figures['like'].get('p95_ms')} ms")
        with app.app_context():
            db.engine.dispose()
    if "sqlite" in result and "postgresql" in result:
        pg, lite = result["postgresql"]["hall"]["p95_ms"], result["sqlite"]["hall"]["p95_ms"]
        result["pg_over_sqlite_p95"] = round(pg / lite, 2)
    lite_figures = result.get("sqlite", {"hall": {}})
    result["targets"] = {"sqlite_p95_le_50ms": lite_figures["hall"].get("p95_ms", 1e9) <= 50,
                         "sqlite_like_speedup_ge_20x": lite_figures.get("speedup_p95", 0) >= 20,
                         "pg_within_2x_of_sqlite": result.get("pg_over_sqlite_p95", 1e9) <= 2}
    result["memory"].update(memory())
    result["elapsed_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
