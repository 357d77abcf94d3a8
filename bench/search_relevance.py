"""Hall search relevance: a hand-judged bilingual corpus and query set, scored as precision@1, recall@10 and MRR.

    .venv/bin/python bench/search_relevance.py [--backends sqlite,postgresql] [--limit N] [--json-out FILE]

Loads bench/relevance/corpus.json into a fresh database per backend (migrated to head; listings published through
the ORM and indexed by ``hall.search.index_listing``), runs every query of bench/relevance/queries.json through
``hall.services.publishing.hall.search_hall`` (relevance order) and compares the results with the judgments:
precision@1 (rank 1 is the query's ``best``), recall@10 (share of its ``relevant`` in the top 10), MRR of ``best``,
the same per category, and the queries whose rank 1 is wrong. Progress goes to stderr; the last line of stdout is
one JSON object with the parameters and figures. Only 127.0.0.1 is used and only the named *bench* database.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.common import log  # noqa: E402
from bench.relevance import (  # noqa: E402
    CORPUS_PATH,
    QUERIES_PATH,
    evaluate,
    load_listings,
    read_corpus,
    read_queries,
    structure_problems,
)
from hall import create_app  # noqa: E402
from hall.extensions import db  # noqa: E402

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/hall_bench_relevance"


def _pg_admin(url: str) -> tuple[Any, str]:
    """The server's maintenance engine (AUTOCOMMIT) and the bench database's name, after the safety checks."""
    url_obj = make_url(url).set(drivername="postgresql+psycopg")
    name = url_obj.database or ""
    assert "bench" in name and url_obj.host in ("127.0.0.1", "localhost"), "only a local *bench* database"
    return create_engine(url_obj.set(database="postgres"), isolation_level="AUTOCOMMIT"), name


def database_url(backend: str, args: argparse.Namespace) -> str:
    """A fresh empty database for ``backend``: the SQLite file (removed first) or the PostgreSQL bench database
    (dropped and created again). Returns its URL."""
    if backend == "sqlite":
        path = Path(args.sqlite_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return f"sqlite:///{path}"
    admin, name = _pg_admin(args.pg_url)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return make_url(args.pg_url).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def drop_database(backend: str, args: argparse.Namespace) -> None:
    """Drop the PostgreSQL bench database after the run (the SQLite file is left for inspection)."""
    if backend != "postgresql":
        return
    admin, name = _pg_admin(args.pg_url)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def run_backend(backend: str, corpus: list[dict[str, Any]], queries: list[dict[str, Any]],
                args: argparse.Namespace) -> dict[str, Any]:
    """Load the corpus into a fresh ``backend`` database, run the queries and return their figures."""
    url = database_url(backend, args)
    app = create_app({"HALL_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url})
    try:
        with app.app_context():
            t0 = time.perf_counter()
            upgrade()
            keys = load_listings(corpus)
            log(f"{backend}: {len(keys)} listings loaded and indexed in {time.perf_counter() - t0:.1f}s")
            t0 = time.perf_counter()
            figures = evaluate(queries, keys)
            figures["query_s"] = round(time.perf_counter() - t0, 2)
            db.session.remove()
            db.engine.dispose()
    finally:
        drop_database(backend, args)
    log(f"{backend}: p@1={figures['p_at_1']} recall@10={figures['recall_at_10']} mrr={figures['mrr']} "
        f"failing={len(figures['failing'])}")
    return figures


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default="sqlite", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N queries (the run's size)")
    parser.add_argument("--sqlite-path", default="/tmp/hall_bench_relevance/relevance.sqlite")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="a local database whose name contains 'bench'")
    parser.add_argument("--json-out", default=None, help="also write the result JSON to this file")
    args = parser.parse_args(argv)
    args.backend_list = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(args.backend_list) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown backends: {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> None:
    """Run the relevance set on every backend asked for; print the JSON result as stdout's last line."""
    args = parse_args(argv)
    started = time.perf_counter()
    corpus, queries = read_corpus(), read_queries(limit=args.limit)
    problems = structure_problems(corpus, queries)
    if problems:
        raise SystemExit("the relevance set is inconsistent:\n" + "\n".join(problems))
    log(f"{len(corpus)} listings, {len(queries)} queries, backends {args.backend_list}")
    result: dict[str, Any] = {
        "benchmark": "search_relevance",
        "params": {"backends": args.backend_list, "limit": args.limit, "queries": len(queries),
                   "listings": len(corpus), "corpus": str(CORPUS_PATH.name), "queries_file": str(QUERIES_PATH.name)},
    }
    for backend in args.backend_list:
        result[backend] = run_backend(backend, corpus, queries, args)
    result["summary"] = {b: {k: result[b][k] for k in ("p_at_1", "recall_at_10", "mrr")} for b in args.backend_list}
    result["elapsed_s"] = round(time.perf_counter() - started, 1)
    line = json.dumps(result, ensure_ascii=False)
    if args.json_out:
        Path(args.json_out).write_text(line + "\n", encoding="utf-8")
    print(line)


if __name__ == "__main__":
    main()
