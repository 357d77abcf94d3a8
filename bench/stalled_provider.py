"""Orders while Stripe stalls: other buyers' order latency with card payments stuck in a slow provider call.

    .venv/bin/python bench/stalled_provider.py [--backend sqlite|postgresql|both] [--stall 2.0] [--payers 4]
                                               [--orders 60] [--time-limit 300]

For each backend: a fresh migrated database (a SQLite file, or the PostgreSQL database hall_bench_stall_<pid> on
127.0.0.1, dropped afterwards), parties and a product seeded through the services, the testing app with the fake
gateway. Phase "baseline": two client threads place --orders product orders (each a distinct quantity, so each is a
new order) through the API. Phase "stalled": the same while --payers threads keep starting card payments whose
create_intent call takes --stall seconds (the fake gateway made slow, as a stalled Stripe). If a provider call held
the transaction (SQLite's write lock, PostgreSQL's row locks), every order would wait for the stall or fail with
503 after the lock timeout. Figures: order latency p50/p95 in both phases, their ratio, answers other than 201.
The last line of stdout is one JSON object. Only in-process test clients are used; loops are bounded by count and
by --time-limit.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[1] / "platform")]

from sqlalchemy import create_engine, text  # noqa: E402

from hall.extensions import db  # noqa: E402
from tests.conftest import make_app, migrate_to_head  # noqa: E402
from tests.support.factories import sign_in  # noqa: E402
from tests.support.trading import fake_gateway, make_parties, publish_product  # noqa: E402

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def pct(values: list[float], q: float) -> float | None:
    """The q-quantile in milliseconds (nearest rank)."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)


def make_database(backend: str, workdir: str) -> tuple[str, str]:
    if backend == "sqlite":
        path = os.path.join(workdir, "stall.sqlite")
        return f"sqlite:///{path}", path
    name = f"hall_bench_stall_{os.getpid()}"
    engine = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return PG_SERVER.rsplit("/", 1)[0] + f"/{name}", name


def drop_database(backend: str, name: str) -> None:
    if backend == "postgresql":
        engine = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def place_orders(app: Any, email: str, quantities: list[int], listing_id: int, deadline: float,
                 latencies: list[float], failures: list[int]) -> None:
    client = app.test_client()
    csrf = sign_in(client, email)
    for quantity in quantities:
        if time.monotonic() > deadline:
            return
        started = time.monotonic()
        response = client.post("/api/v1/orders", headers={"X-CSRFToken": csrf}, json={
            "listing_id": listing_id, "deal_mode": "purchase", "quantity": quantity, "end_user_declared": True})
        latencies.append(time.monotonic() - started)
        if response.status_code != 201:
            failures.append(response.status_code)


def keep_paying(app: Any, email: str, order_ids: list[int], stop: threading.Event, deadline: float,
                started: list[int]) -> None:
    client = app.test_client()
    csrf = sign_in(client, email)
    for order_id in order_ids:
        if stop.is_set() or time.monotonic() > deadline:
            return
        response = client.post(f"/api/v1/orders/{order_id}/payments", headers={"X-CSRFToken": csrf},
                               json={"method": "stripe"})
        started.append(response.status_code)


def run_phase(app: Any, parties: Any, listing_id: int, args: argparse.Namespace, offset: int, payer_orders:
              list[list[int]] | None, deadline: float) -> dict[str, Any]:
    latencies: list[float] = []
    failures: list[int] = []
    stop = threading.Event()
    payments: list[int] = []
    payers = [threading.Thread(target=keep_paying, args=(app, parties.buyer_b, ids, stop, deadline, payments))
              for ids in (payer_orders or [])]
    for thread in payers:
        thread.start()
    half = args.orders // 2
    buyers = [threading.Thread(target=place_orders, args=(
        app, parties.buyer, list(range(offset + 1 + i * half, offset + 1 + (i + 1) * half)), listing_id, deadline,
        latencies, failures)) for i in range(2)]
    began = time.monotonic()
    for thread in buyers:
        thread.start()
    for thread in buyers:
        thread.join(max(deadline - time.monotonic(), 1))
    elapsed = time.monotonic() - began
    stop.set()
    for thread in payers:
        thread.join(max(deadline - time.monotonic(), 1) + args.stall)
    return {"orders": len(latencies), "not_201": len(failures), "not_201_codes": sorted(set(failures)),
            "seconds": round(elapsed, 2),
            "p50_ms": pct(latencies, 0.5), "p95_ms": pct(latencies, 0.95),
            "mean_ms": round(statistics.fmean(latencies) * 1000, 1) if latencies else None,
            "card_payments_started": len(payments), "card_payments_201": payments.count(201)}


def run_backend(backend: str, args: argparse.Namespace, deadline: float) -> dict[str, Any]:
    workdir = tempfile.mkdtemp(prefix="hall-stall-")
    url, name = make_database(backend, workdir)
    try:
        migrate_to_head(url)
        app = make_app(url, ORDER_CREATE_LIMIT="100000 per minute", PAYMENT_CREATE_LIMIT="100000 per minute")
        with app.app_context():
            parties = make_parties()
            listing_id = publish_product(parties, stock=10**8, price=100_00)
            db.session.remove()
        # The payer's orders, made beforehand; each payment's intent is created once (then the stall applies).
        payer = app.test_client()
        csrf = sign_in(payer, parties.buyer_b)
        rounds = max(int(args.time_limit / max(args.stall, 0.1)), 1)
        order_ids = [payer.post("/api/v1/orders", headers={"X-CSRFToken": csrf}, json={
            "listing_id": listing_id, "deal_mode": "purchase", "quantity": q, "end_user_declared": True})
            .get_json()["id"] for q in range(1, args.payers * min(rounds, 20) + 1)]
        payer_orders = [order_ids[i::args.payers] for i in range(args.payers)]
        baseline = run_phase(app, parties, listing_id, args, 0, None, deadline)
        fake = fake_gateway(app)
        create = fake.create_intent

        def slow_create(**kwargs: Any) -> Any:
            time.sleep(args.stall)
            return create(**kwargs)
        fake.create_intent = slow_create  # type: ignore[method-assign]
        stalled = run_phase(app, parties, listing_id, args, 1_000, payer_orders, deadline)
        with app.app_context():
            db.engine.dispose()
        ratio = (stalled["p95_ms"] / baseline["p95_ms"]) if baseline["p95_ms"] and stalled["p95_ms"] else None
        return {"baseline": baseline, "stalled": stalled, "p95_ratio": round(ratio, 2) if ratio else None}
    finally:
        drop_database(backend, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--stall", type=float, default=2.0, help="seconds each create_intent call takes")
    parser.add_argument("--payers", type=int, default=4, help="threads starting card payments meanwhile")
    parser.add_argument("--orders", type=int, default=60, help="orders placed per phase (two threads)")
    parser.add_argument("--time-limit", type=float, default=300, help="seconds for the whole run")
    args = parser.parse_args()
    deadline = time.monotonic() + args.time_limit
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    results = {}
    for backend in backends:
        print(f"== {backend}", file=sys.stderr)
        results[backend] = run_backend(backend, args, deadline)
        print(json.dumps(results[backend]), file=sys.stderr)
    print(json.dumps({"benchmark": "stalled_provider", "stall_s": args.stall, "payers": args.payers,
                      "orders": args.orders, "results": results}))


if __name__ == "__main__":
    main()
