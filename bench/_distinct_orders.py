"""The distinct-listings phase of bench/orders.py: many buyers each ordering a different listing at once, so that
nothing but the write path itself (the audit trail, the pool, the CPU) makes them wait; measured for several
gunicorn worker counts in turn (``--sweep 1,2,4``), each on fresh listings of one unit, with the throughput ratio
of the largest to the smallest count. Afterwards the database must show one order per listing and no negative
stock ("oversold" counts anything else), PostgreSQL's deadlock counter must not have moved, and the audit trail
must verify intact.
"""
from __future__ import annotations

import http.client
import json
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import create_engine, text

from bench.common import Deadline, log, pct


def _deadlocks(pg_url: str | None) -> int | None:
    """PostgreSQL's count of deadlocks detected in the benchmark's database so far."""
    if pg_url is None:
        return None
    engine = create_engine(pg_url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_stat_clear_snapshot()"))
            return int(conn.execute(text("SELECT deadlocks FROM pg_stat_database "
                                         "WHERE datname = current_database()")).scalar_one())
    finally:
        engine.dispose()


def order_all(port: int, tokens: list[str], listing_ids: list[int], clients: int,
              deadline: Deadline) -> dict[str, Any]:
    """``clients`` threads POST one order each for their share of ``listing_ids`` (a new connection per request)."""
    statuses: dict[str, int] = {}
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients)
    timeout = deadline.timeout()
    body = {"deal_mode": "purchase", "quantity": 1, "end_user_declared": True}

    def client(c: int) -> None:
        try:
            barrier.wait(timeout)
        except threading.BrokenBarrierError:
            return
        for n in range(c, len(listing_ids), clients):
            if deadline.passed():
                return
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
            headers = {"Authorization": f"Bearer {tokens[n % len(tokens)]}", "Content-Type": "application/json",
                       "X-Request-ID": f"bench-distinct-{n:05d}-{secrets.token_hex(4)}"}
            t0 = time.perf_counter()
            try:
                conn.request("POST", "/api/v1/orders", json.dumps({"listing_id": listing_ids[n], **body}), headers)
                response = conn.getresponse()
                response.read()
                key = str(response.status)
            except OSError as error:
                key = f"error:{type(error).__name__}"
            finally:
                conn.close()
            with lock:
                statuses[key] = statuses.get(key, 0) + 1
                latencies.append(time.perf_counter() - t0)

    threads = [threading.Thread(target=client, args=(c,), daemon=True) for c in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout * len(listing_ids) + 5)
    wall = time.perf_counter() - started
    ms = sorted(x * 1000 for x in latencies)
    return {"requests": len(latencies), "statuses": statuses, "wall_s": round(wall, 2),
            "orders_per_s": round(statuses.get("201", 0) / wall, 1) if wall > 0 else None,
            "p50_ms": round(pct(ms, .5), 1) if ms else None, "p95_ms": round(pct(ms, .95), 1) if ms else None}


def check_distinct(app: Any, db: Any, listing_ids: list[int]) -> dict[str, Any]:
    """Orders and stock of the ordered listings: one order each, stock never below zero."""
    with app.app_context():
        rows = db.session.execute(text(
            "SELECT l.id, l.stock, (SELECT count(*) FROM orders o WHERE o.listing_id = l.id) FROM listings l "
            "WHERE l.id IN (" + ",".join(str(int(i)) for i in listing_ids) + ")")).all()
        db.session.rollback()
        db.session.remove()
    oversold = sum(max(0, count - 1) + max(0, -(stock or 0)) for _id, stock, count in rows)
    return {"listings": len(rows), "orders": sum(r[2] for r in rows), "oversold": oversold}


def verify_audit(app: Any, db: Any, verify_chain: Callable[[], Any]) -> dict[str, Any]:
    """The audit trail's verdict after the runs."""
    with app.app_context():
        verdict = verify_chain()
        db.session.remove()
    return {"intact": verdict.intact, "events_checked": verdict.events_checked, "problem": verdict.problem}


def sweep(*, app: Any, db: Any, counts: list[int], listings_per_count: int, tokens: list[str], clients: int,
          make_listings: Callable[[int], list[int]], serve: Callable[[int], tuple[Any, int]],
          stop: Callable[[Any], None], deadline: Deadline, pg_url: str | None,
          verify_chain: Callable[[], Any]) -> dict[str, Any]:
    """Run the distinct-listings phase once per worker count; ``serve(workers)`` starts gunicorn and returns
    (process, port) once it is warm; ``make_listings(n)`` publishes n fresh one-unit listings."""
    runs: dict[str, Any] = {}
    deadlocks_before = _deadlocks(pg_url)
    for workers in counts:
        if deadline.passed():
            break
        listing_ids = make_listings(listings_per_count)
        proc, port = serve(workers)
        try:
            figures = order_all(port, tokens, listing_ids, clients, deadline)
        finally:
            stop(proc)
        figures.update(check_distinct(app, db, listing_ids))
        runs[str(workers)] = figures
        log(f"  distinct, {workers} worker(s): {figures['orders_per_s']} orders/s, statuses {figures['statuses']}, "
            f"p50 {figures['p50_ms']} ms, oversold {figures['oversold']}")
    deadlocks_after = _deadlocks(pg_url)
    rates = {int(w): r["orders_per_s"] for w, r in runs.items() if r["orders_per_s"]}
    ratio = round(rates[max(rates)] / rates[min(rates)], 2) if len(rates) >= 2 else None
    return {"listings_per_run": listings_per_count, "clients": clients, "runs": runs,
            "orders_per_s_by_workers": {str(w): rates.get(w) for w in sorted(rates)},
            f"ratio_{max(rates, default=0)}_to_{min(rates, default=0)}_workers": ratio,
            "oversold": sum(r["oversold"] for r in runs.values()),
            "deadlocks": None if deadlocks_before is None or deadlocks_after is None
            else deadlocks_after - deadlocks_before,
            "audit": verify_audit(app, db, verify_chain)}
