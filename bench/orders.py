"""Trading benchmark: buyers racing for the last unit and for one exclusive licence, and a Stripe webhook storm,
over HTTP against gunicorn, on SQLite and on PostgreSQL.

    .venv/bin/python bench/orders.py [--backend sqlite|postgresql|both] [--buyers 20] [--rounds 5]
                                     [--events 1000] [--duplicates 0.3] [--workers 4] [--threads 1]
                                     [--distinct 0] [--sweep 1,2,4]

For each backend: a fresh database (a SQLite file in a temporary directory, or the PostgreSQL database
hall_bench_orders_<pid> on 127.0.0.1), migrated to head; the parties seeded through the services (an admin, a
verified seller, N verified buyer institutions each with a person and a personal access token) with, per round, a
product with stock 1 and an achievement sold under a fixed-price exclusive licence, and one achievement with a
non-exclusive licence for the storm, whose E orders and card payments (the fake gateway's intents) are made through
the services too (in this one process: the fake gateway numbers its intents pi_fake_1, 2, … per process, so
several gunicorn workers would hand out the same ids). Then gunicorn serves ``hall:create_app`` on 127.0.0.1
(HALL_ENV=production, PAYMENT_GATEWAY=fake):

* races: N threads, each with its own connection, released together by a barrier, POST /api/v1/orders for the same
  listing (Bearer tokens). Afterwards the database must show one order per listing, stock 0 (never negative) and
  one active exclusive claim; "oversold" counts anything beyond that.
* storm: E signed payment_intent.succeeded events plus a share of redeliveries of them (same event id), shuffled,
  sent by a pool of client threads to the webhook (skipped with --events 0). Afterwards the database must show E
  provider events, E charges, E platform fees, E order.pay audit events and E paid orders; redeliveries must
  answer outcome "duplicate".
* distinct (--distinct N): for each worker count of --sweep, N fresh one-unit listings each ordered once by
  --clients threads at once (bench/_distinct_orders.py): orders/s per count and the ratio largest/smallest,
  oversold, PostgreSQL deadlocks, and verify-audit afterwards.

Progress goes to stderr; the last line of stdout is one JSON object with the parameters and figures. Only 127.0.0.1
is used; every loop is bounded in count and by --time-limit; gunicorn is stopped at the end, also on errors.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import stripe
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import _distinct_orders as distinct_orders  # noqa: E402
from bench.common import Deadline, drop_database, log, make_database, pct  # noqa: E402
from hall import create_app  # noqa: E402
from hall.db import read_only_transactions
from hall.extensions import db
from hall.models import User
from hall.services.accounts import accounts, institutions, sessions
from hall.services.core.audit import verify_chain
from hall.services.core.validation import credit_code_check_character
from hall.services.publishing import listing_review, listings
from hall.services.trading import orders, payments

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench-orders-Kq7wZp3v"
WEBHOOK_PATH = "/api/v1/payments/stripe/webhook"
# ORDER_CREATE_LIMIT and PAYMENT_CREATE_LIMIT are not read from the environment (hall.config): the limits are
# raised by calling the app factory with overrides, which gunicorn accepts as a literal ("module:factory({...})").
GENEROUS = "1000000 per hour"
APP_SPEC = f"hall:create_app({{'ORDER_CREATE_LIMIT': '{GENEROUS}', 'PAYMENT_CREATE_LIMIT': '{GENEROUS}'}})"


def latency(seconds: list[float]) -> dict[str, float | None]:
    ms = [s * 1000 for s in seconds]
    if not ms:
        return {"p50_ms": None, "p95_ms": None, "max_ms": None}
    return {"p50_ms": round(pct(ms, .5), 1), "p95_ms": round(pct(ms, .95), 1), "max_ms": round(max(ms), 1)}


# ---------------------------------------------------------------------------------------------------------------
# Listing bodies (after tests/support/listing_data.py; bench/ does not import tests/)

def achievement_body(n: int, deal_modes: list[str]) -> dict[str, Any]:
    """A complete achievement draft with a fixed price of 500,000.00 yuan."""
    return {
        "title_zh": f"高能量密度固态电池电解质制备技术（基准 {n}）",
        "title_en": f"Solid-state battery electrolyte with high energy density (bench {n})",
        "summary_zh": "一种硫化物固态电解质及其制备方法，显著提升锂离子电池的能量密度与安全性。",
        "summary_en": "A sulfide solid electrolyte that raises the energy density and safety of lithium-ion batteries.",
        "description_zh": "本技术采用低温合成工艺制备硫化物固态电解质，室温离子电导率达到 10 mS/cm。",
        "description_en": "Low-temperature synthesis of a sulfide electrolyte reaching 10 mS/cm at room temperature.",
        "benefit_zh": "相比液态电解质，不易燃，能量密度提升 40%。",
        "benefit_en": "Unlike liquid electrolytes it does not burn; energy density rises by 40 percent.",
        "scenarios_zh": "电动汽车动力电池、储能电站、消费电子。",
        "scenarios_en": "Electric vehicle batteries, grid storage, consumer electronics.",
        "keywords": ["固态电池", "solid-state battery"],
        "direction_code": "energy", "field_code": "energy.storage", "region_code": "110108", "trl": 6,
        "ip_assets": [{"ip_type": "invention_patent", "number": f"CN2017106{n:05d}.3", "legal_status": "granted",
                       "title": "一种硫化物固态电解质", "expiry_date": "2037-07-10"}],
        "inventors": ["王伟", "李娜"],
        "deal_modes": deal_modes, "price_mode": "fixed", "price_amount": 500_000_00, "currency": "CNY",
        "state_funded": True,
    }


def product_body(n: int, stock: int) -> dict[str, Any]:
    """A complete first-of-kind product draft with ``stock`` units at 12,000,000.00 yuan each."""
    price = 12_000_000_00
    return {
        "title_zh": f"兆瓦级氢燃料电池发电系统（基准 {n}）",
        "summary_zh": "国内首台兆瓦级氢燃料电池分布式发电系统。",
        "description_zh": "系统额定功率 1 MW，发电效率 55%，可在园区和数据中心使用。",
        "benefit_zh": "效率比同类进口设备高 5 个百分点，价格低 30%。",
        "scenarios_zh": "工业园区、数据中心备用电源。",
        "keywords": ["氢燃料电池", "首台套"],
        "direction_code": "energy", "field_code": "energy.hydrogen", "region_code": "440305",
        "deal_modes": ["purchase"], "price_mode": "fixed", "price_amount": price,
        "first_of_kind": {
            "product_kind": "equipment", "recognition_level": "national",
            "catalogue": "首台（套）重大技术装备推广应用指导目录", "catalogue_edition": "2024",
            "catalogue_item": "4.2 氢能装备", "authority": "工业和信息化部",
            "announcement_number": "工信部公告2024年第12号", "announcement_date": "2024-09-01",
            "valid_from": "2024-09-01", "valid_until": "2099-08-31", "certificate_number": f"STT-2024-{n:04d}",
            "model": "HFC-1000", "specifications": "额定功率 1 MW；效率 55%", "stock": stock, "stock_unit": "units",
            "lead_time_days": 120,
            "insurance": {"insurer": "中国人民财产保险", "policy_number": f"PICC-2024-{n:04d}",
                          "insured_amount": price, "premium": 36_000_00, "premium_rate_bp": 300,
                          "period_start": "2024-10-01", "period_end": "2025-09-30",
                          "compensation_status": "qualification"},
        },
    }


# ---------------------------------------------------------------------------------------------------------------
# Databases and seeding (in process, through the services)

def credit_code(n: int) -> str:
    first17 = f"91110108{n:09d}"
    return first17 + credit_code_check_character(first17)


def verified_org(admin: User, n: int, kind: str, name_zh: str, name_en: str) -> Any:
    org = institutions.new_institution(kind=kind, name_zh=name_zh, name_en=name_en, credit_code=credit_code(n),
                                       region_code="110108")
    institutions.review_institution(admin, org, "verify", "benchmark")
    return org


def owner_of(org: Any, email: str, name: str) -> User:
    user = accounts.new_user(email, PASSWORD, name, "zh_CN", confirmed=True)
    user.institution_id, user.institution_role = org.id, "owner"
    db.session.flush()
    return user


def publish(owner: User, admin: User, kind: str, body: dict[str, Any]) -> int:
    listing = listings.create_draft(owner, kind, body)
    listings.submit_listing(owner, listing.id)
    db.session.commit()
    listing_review.decide(admin, listing.id, "approve")
    db.session.commit()
    return listing.id


def seed(app: Any, args: argparse.Namespace, deadline: Deadline) -> dict[str, Any]:
    """Parties, listings, and the storm's orders with their pending card payments; all committed."""
    with app.app_context():
        admin = accounts.grant_admin("admin@orders.bench", display_name="Bench admin", password=PASSWORD)
        seller_org = verified_org(admin, 1, "enterprise", "基准卖方科技有限公司", "Bench Seller Co.")
        seller = owner_of(seller_org, "seller@orders.bench", "卖方")
        db.session.flush()
        parties = {"admin_id": admin.id, "seller_id": seller.id}
        buyers: list[tuple[int, str]] = []
        for i in range(args.buyers):
            org = verified_org(admin, 100 + i, "research_institute", f"基准买方研究所{i}号", f"Bench Buyer {i}")
            person = owner_of(org, f"buyer{i}@orders.bench", f"买方{i}")
            _token, secret = sessions.create_api_token(person, "bench")
            buyers.append((person.id, secret))
        db.session.commit()
        products = [publish(seller, admin, "first_of_kind", product_body(r, stock=1)) for r in range(args.rounds)]
        exclusives = [publish(seller, admin, "achievement", achievement_body(r, ["exclusive_license"]))
                      for r in range(args.rounds)]
        storm_listing = publish(seller, admin, "achievement",
                                achievement_body(args.rounds, ["non_exclusive_license"]))
        log(f"seeded {args.buyers} buyers, {2 * args.rounds + 1} listings")
        storm: list[dict[str, Any]] = []
        people = [db.session.get(User, user_id) for user_id, _ in buyers]
        for i in range(args.events):
            if deadline.passed():
                break
            person = people[i % len(people)]
            # Non-exclusive licences coexist; a term of its own keeps each order apart from the buyer's others.
            order, created = orders.create_order(person, storm_listing, {
                "deal_mode": "non_exclusive_license", "field_of_use": "energy.storage", "territory": "CN",
                "term_end": date.today() + timedelta(days=365 + i)})
            assert created
            payment, _extra = payments.start_payment(person, order.id, "stripe")
            storm.append({"order_id": order.id, "intent": payment.provider_reference, "amount": payment.amount,
                          "currency": payment.currency.lower()})
            if i % 100 == 99:
                db.session.commit()
                db.session.info.pop("mail_queued", None)
        db.session.commit()
        db.session.info.pop("mail_queued", None)
        db.session.remove()
    log(f"seeded {len(storm)} storm orders with pending card payments")
    return {"tokens": [secret for _, secret in buyers], "products": products, "exclusives": exclusives,
            "storm": storm, **parties}


def fresh_products(app: Any, seeded: dict[str, Any], count: int) -> list[int]:
    """Publish ``count`` new one-unit products (numbered after every listing made so far)."""
    start = seeded.setdefault("next_number", 1000)
    seeded["next_number"] = start + count
    with app.app_context():
        admin, seller = db.session.get(User, seeded["admin_id"]), db.session.get(User, seeded["seller_id"])
        ids = [publish(seller, admin, "first_of_kind", product_body(start + n, stock=1)) for n in range(count)]
        db.session.remove()
    return ids


# ---------------------------------------------------------------------------------------------------------------
# gunicorn

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(url: str, port: int, args: argparse.Namespace, workdir: Path, webhook_secret: str,
                 log_path: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    for key in ("STRIPE_SECRET_KEY", "STRIPE_API_BASE", "TRUSTED_PROXIES"):
        env.pop(key, None)
    env.update(HALL_ENV="production", DATABASE_URL=url, SECRET_KEY=secrets.token_urlsafe(48),
               STRIPE_WEBHOOK_SECRET=webhook_secret, PAYMENT_GATEWAY="fake", ALLOW_FAKE_PAYMENTS="1",
               RATELIMIT_STORAGE_URI="memory://",
               MAIL_BACKEND="log", HALL_INSTANCE_DIR=str(workdir / "instance"),
               PUBLIC_BASE_URL=f"http://127.0.0.1:{port}")
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers),
               "--worker-class", "gthread" if args.threads > 1 else "sync", "--threads", str(args.threads),
               "--timeout", "60", "--graceful-timeout", "5", "--backlog", "2048", "--no-control-socket", APP_SPEC]
    handle = open(log_path, "wb")
    try:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
                                start_new_session=True)
    finally:
        handle.close()


def stop_server(proc: subprocess.Popen[bytes] | None) -> None:
    """Stop the gunicorn we started (its own process group: master and workers)."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGINT)  # gunicorn's quick shutdown: the measurements are over
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass


def wait_ready(proc: subprocess.Popen[bytes], port: int, deadline: Deadline, limit: float = 60) -> float:
    started = time.monotonic()
    while time.monotonic() - started < min(limit, max(deadline.left(), 1)):
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                conn.close()
                return time.monotonic() - started
            conn.close()
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("gunicorn did not answer /readyz in time")


def warm_up(port: int, tokens: list[str], args: argparse.Namespace, deadline: Deadline) -> dict[str, int]:
    """Let every worker load what the measured routes need: an authenticated read, an order POST refused by its
    schema (422, nothing created) and a webhook with a bad signature (400, nothing changed), several at once."""
    statuses: dict[str, int] = {}
    lock = threading.Lock()
    calls = [("GET", "/api/v1/me", None, True), ("POST", "/api/v1/orders", "{}", True),
             ("POST", WEBHOOK_PATH, '{"id": "evt_warm_up"}', False)]

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=deadline.timeout(10))
        try:
            for method, path, body, auth in calls:
                headers = {"Content-Type": "application/json"}
                if auth:
                    headers["Authorization"] = f"Bearer {tokens[i % len(tokens)]}"
                else:
                    headers["Stripe-Signature"] = "t=1,v1=00"
                try:
                    conn.request(method, path, body, headers)
                    response = conn.getresponse()
                    response.read()
                    key = f"{method} {path} {response.status}"
                except OSError as error:
                    key = f"{method} {path} error:{type(error).__name__}"
                    conn.close()
                with lock:
                    statuses[key] = statuses.get(key, 0) + 1
        finally:
            conn.close()

    for _ in range(3):
        threads = [threading.Thread(target=client, args=(i,), daemon=True)
                   for i in range(2 * args.workers * args.threads)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(deadline.timeout(10) * len(calls) + 5)
    return statuses


def server_log_summary(log_path: Path) -> dict[str, Any]:
    lines = log_path.read_text(errors="replace").splitlines() if log_path.exists() else []
    problems = [line for line in lines if "Traceback" in line or " ERROR " in line or "[ERROR]" in line
                or "CRITICAL" in line or "WORKER TIMEOUT" in line]
    return {"lines": len(lines), "tracebacks": sum("Traceback" in line for line in lines),
            "error_lines": len(problems), "first_errors": problems[:5]}


class LockSampler:
    """PostgreSQL only: every 50 ms, what the app's server sessions (application_name 'hall') are doing: how many
    run a statement and how many wait for a lock, by lock type. Shows where concurrent requests queue."""

    QUERY = text("SELECT coalesce(wait_event_type, 'CPU'), coalesce(wait_event, '-'), count(*) FROM pg_stat_activity "
                 "WHERE datname = current_database() AND application_name = 'hall' AND state = 'active' "
                 "GROUP BY 1, 2")

    def __init__(self, url: str | None, deadline: Deadline, interval: float = 0.05) -> None:
        self.url, self.deadline, self.interval = url, deadline, interval
        self.stop_flag = threading.Event()
        self.samples: list[dict[str, int]] = []
        self.thread: threading.Thread | None = None

    def __enter__(self) -> LockSampler:
        if self.url:
            self.thread = threading.Thread(target=self._run, daemon=True)
            self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop_flag.set()
        if self.thread is not None:
            self.thread.join(5)

    def _run(self) -> None:
        engine = create_engine(self.url or "", isolation_level="AUTOCOMMIT", pool_size=1)
        try:
            with engine.connect() as conn:
                while not self.stop_flag.is_set() and not self.deadline.passed() and len(self.samples) < 100_000:
                    rows = conn.execute(self.QUERY).all()
                    self.samples.append({f"{kind}:{event}": int(n) for kind, event, n in rows})
                    self.stop_flag.wait(self.interval)
        finally:
            engine.dispose()

    def figures(self) -> dict[str, Any] | None:
        if not self.url or not self.samples:
            return None
        n = len(self.samples)
        keys = sorted({key for sample in self.samples for key in sample})
        mean = {key: round(sum(s.get(key, 0) for s in self.samples) / n, 2) for key in keys}
        waiting = [sum(v for k, v in s.items() if k.startswith("Lock:")) for s in self.samples]
        return {"samples": n, "mean_active_sessions": round(sum(sum(s.values()) for s in self.samples) / n, 2),
                "mean_waiting_for_lock": round(sum(waiting) / n, 2),
                "share_of_samples_with_lock_wait": round(sum(1 for w in waiting if w) / n, 2),
                "mean_by_wait_event": dict(sorted(mean.items(), key=lambda kv: -kv[1])[:6])}


# ---------------------------------------------------------------------------------------------------------------
# Races

def race(port: int, tokens: list[str], body: dict[str, Any], deadline: Deadline) -> dict[str, Any]:
    """Every buyer POSTs the same order at once (one connection each, released by a barrier)."""
    n = len(tokens)
    barrier = threading.Barrier(n)
    results: list[tuple[Any, float, float, str] | None] = [None] * n
    payload = json.dumps(body)
    timeout = deadline.timeout()

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        headers = {"Authorization": f"Bearer {tokens[i]}", "Content-Type": "application/json",
                   "X-Request-ID": f"bench-race-{i:04d}-{secrets.token_hex(4)}"}
        t0 = time.perf_counter()
        try:
            conn.connect()
            barrier.wait(timeout)
            t0 = time.perf_counter()
            conn.request("POST", "/api/v1/orders", payload, headers)
            response = conn.getresponse()
            data = response.read()
            results[i] = (response.status, t0, time.perf_counter(), data[:300].decode(errors="replace"))
        except Exception as error:  # noqa: BLE001 - a client failure is a figure, not a crash
            barrier.abort()
            results[i] = (f"error:{type(error).__name__}", t0, time.perf_counter(), str(error)[:300])
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout + 5)
    done = [r for r in results if r is not None]
    statuses: dict[str, int] = {}
    for status, *_ in done:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    wall = (max(r[2] for r in done) - min(r[1] for r in done)) if done else 0.0
    odd = [r[3] for r in done if r[0] not in (201, 409)]
    return {"statuses": statuses, "wall_s": wall, "latencies": [r[2] - r[1] for r in done if isinstance(r[0], int)],
            "unfinished": n - len(done), "odd_bodies": odd[:3]}


def check_race(app: Any, listing_id: int, kind: str) -> dict[str, Any]:
    """What the database says about one raced listing."""
    with app.app_context(), read_only_transactions():
        row = db.session.execute(text(
            "SELECT (SELECT count(*) FROM orders WHERE listing_id = :id), "
            "(SELECT count(*) FROM orders WHERE listing_id = :id AND status = 'accepted'), "
            "(SELECT stock FROM listings WHERE id = :id), "
            "(SELECT count(*) FROM exclusive_claims WHERE listing_id = :id AND released_at IS NULL)"),
            {"id": listing_id}).one()
        db.session.rollback()
        db.session.remove()
    order_count, accepted, stock, claims = row
    limit = 1  # one unit of stock, or one exclusive licence
    oversold = max(0, order_count - limit) + (max(0, -stock) if stock is not None else 0)
    if kind == "exclusive":
        oversold += max(0, claims - limit)
    ok = order_count == 1 and accepted == 1 and (stock == 0 if kind == "stock" else claims == 1)
    return {"orders": order_count, "stock": stock, "active_claims": claims, "oversold": oversold, "ok": ok}


def merged_activity(samplers: list[LockSampler]) -> dict[str, Any] | None:
    if not samplers:
        return None
    merged = LockSampler(samplers[0].url, samplers[0].deadline)
    merged.samples = [sample for sampler in samplers for sample in sampler.samples]
    return merged.figures()


def run_races(app: Any, port: int, seeded: dict[str, Any], args: argparse.Namespace, deadline: Deadline,
              pg_url: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind, listing_ids, body in (
            ("stock", seeded["products"], {"deal_mode": "purchase", "quantity": 1, "end_user_declared": True}),
            ("exclusive", seeded["exclusives"], {"deal_mode": "exclusive_license"})):
        winners, conflicts, walls, lat, checks = [], [], [], [], []
        samplers: list[LockSampler] = []
        statuses: dict[str, int] = {}
        odd: list[str] = []
        for r, listing_id in enumerate(listing_ids):
            if deadline.passed():
                break
            with LockSampler(pg_url, deadline) as sampler:
                result = race(port, seeded["tokens"], {"listing_id": listing_id, **body}, deadline)
            samplers.append(sampler)
            check = check_race(app, listing_id, kind)
            winners.append(result["statuses"].get("201", 0))
            conflicts.append(result["statuses"].get("409", 0))
            walls.append(result["wall_s"])
            lat.extend(result["latencies"])
            checks.append(check)
            odd.extend(result["odd_bodies"])
            for status, count in result["statuses"].items():
                statuses[status] = statuses.get(status, 0) + count
            log(f"  race {kind} #{r + 1}: {result['statuses']} in {result['wall_s'] * 1000:.0f} ms; db {check}")
        requests_done = sum(statuses.values())
        out[kind] = {
            "races": len(winners), "requests": requests_done,
            "orders_per_s": round(requests_done / sum(walls), 1) if walls and sum(walls) > 0 else None,
            "race_wall_ms": [round(w * 1000, 1) for w in walls], **latency(lat),
            "winners_per_race": winners, "conflicts_per_race": conflicts, "statuses": statuses,
            "oversold": sum(c["oversold"] for c in checks),
            "db_orders_per_listing": [c["orders"] for c in checks],
            "db_stock_after": [c["stock"] for c in checks] if kind == "stock" else None,
            "db_active_claims": [c["active_claims"] for c in checks] if kind == "exclusive" else None,
            "db_ok": all(c["ok"] for c in checks) and len(checks) == len(listing_ids),
            "unexpected_bodies": odd[:3],
            "pg_activity": merged_activity(samplers),
        }
    return out


# ---------------------------------------------------------------------------------------------------------------
# Webhook storm

def intent_succeeded(event_id: str, item: dict[str, Any]) -> str:
    return json.dumps({
        "id": event_id, "object": "event", "type": "payment_intent.succeeded", "created": int(time.time()),
        "livemode": False, "api_version": "2024-06-20",
        "data": {"object": {"id": item["intent"], "object": "payment_intent", "amount": item["amount"],
                            "amount_received": item["amount"], "currency": item["currency"], "status": "succeeded",
                            "latest_charge": f"ch_bench_{item['intent']}"}}})


def storm(port: int, seeded: dict[str, Any], args: argparse.Namespace, secret: str, deadline: Deadline,
          rng: random.Random) -> dict[str, Any]:
    """E events plus redeliveries, shuffled, sent by --clients threads; outcomes as the webhook answered them."""
    items = seeded["storm"]
    bodies = [intent_succeeded(f"evt_bench_{i:06d}", item) for i, item in enumerate(items)]
    n_dup = round(len(items) * args.duplicates)
    dups = rng.sample(range(len(items)), min(n_dup, len(items))) + \
        [rng.randrange(len(items)) for _ in range(max(0, n_dup - len(items)))] if items else []
    plan = list(range(len(items))) + dups
    rng.shuffle(plan)
    results: list[tuple[Any, str | None, float, float] | None] = [None] * len(plan)
    cursor = iter(range(len(plan)))
    lock = threading.Lock()
    timeout = deadline.timeout()

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        while not deadline.passed():
            with lock:
                slot = next(cursor, None)
            if slot is None:
                break
            body = bodies[plan[slot]]
            headers = {"Content-Type": "application/json", "Stripe-Signature":
                       stripe.WebhookSignature.generate_signature_header(body, secret)}
            t0 = time.perf_counter()
            try:
                conn.request("POST", WEBHOOK_PATH, body, headers)
                response = conn.getresponse()
                data = response.read()
                outcome = None
                try:
                    outcome = json.loads(data).get("outcome")
                except ValueError:
                    pass
                results[slot] = (response.status, outcome, t0, time.perf_counter())
            except Exception as error:  # noqa: BLE001 - a client failure is a figure, not a crash
                results[slot] = (f"error:{type(error).__name__}", None, t0, time.perf_counter())
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(max(1, args.clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(1.0, deadline.left()) + timeout + 5)
    done = [r for r in results if r is not None]
    statuses: dict[str, int] = {}
    outcomes: dict[str, int] = {}
    for status, outcome, *_ in done:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
        outcomes[str(outcome)] = outcomes.get(str(outcome), 0) + 1
    wall = (max(r[3] for r in done) - min(r[2] for r in done)) if done else 0.0
    distinct = len({plan[slot] for slot, r in enumerate(results) if r is not None})
    return {"events": len(items), "redeliveries": len(dups), "requests": len(plan), "sent": len(done),
            "distinct_events_sent": distinct, "redeliveries_sent": len(done) - distinct,
            "wall_s": round(wall, 2), "events_per_s": round(len(done) / wall, 1) if wall > 0 else None,
            **latency([r[3] - r[2] for r in done]), "statuses": statuses, "outcomes": outcomes,
            "applied": outcomes.get("applied", 0), "duplicates": outcomes.get("duplicate", 0),
            "truncated": len(done) < len(plan)}


def check_storm(app: Any, figures: dict[str, Any]) -> dict[str, Any]:
    """Counts from the database: every event sent stored once, its order paid once, one charge and one fee each;
    every redelivery answered "duplicate"."""
    e = figures["distinct_events_sent"]  # all E unless --time-limit cut the storm short
    with app.app_context(), read_only_transactions():
        def count(sql: str) -> int:
            return int(db.session.execute(text(sql)).scalar() or 0)
        got = {
            "provider_events": count("SELECT count(*) FROM provider_events"),
            "provider_events_applied": count("SELECT count(*) FROM provider_events WHERE outcome = 'applied'"),
            "ledger_charges": count("SELECT count(*) FROM ledger_entries WHERE kind = 'charge'"),
            "platform_fees": count("SELECT count(*) FROM ledger_entries WHERE kind = 'platform_fee'"),
            "order_pay_events": count("SELECT count(*) FROM audit_events WHERE action = 'order.pay'"),
            "orders_paid": count("SELECT count(*) FROM orders WHERE status = 'paid' AND paid_amount = amount"),
            "orders_overpaid": count("SELECT count(*) FROM orders WHERE paid_amount > amount"),
            "payments_succeeded": count("SELECT count(*) FROM payments WHERE status = 'succeeded'"),
            "orders_with_two_charges": count("SELECT count(*) FROM (SELECT order_id FROM ledger_entries WHERE "
                                             "kind = 'charge' GROUP BY order_id HAVING count(*) > 1) AS t"),
        }
        db.session.rollback()
        chain = verify_chain()
        got["audit_events"], got["audit_chain_intact"] = chain.events_checked, chain.intact
        if db.engine.dialect.name == "postgresql":
            row = db.session.execute(text("SELECT deadlocks, xact_rollback FROM pg_stat_database "
                                          "WHERE datname = current_database()")).one()
            got["pg_deadlocks"], got["pg_rollbacks"] = int(row[0]), int(row[1])  # rollbacks: 4xx answers too
        db.session.rollback()
        db.session.remove()
    exactly = all(got[k] == e for k in ("provider_events", "provider_events_applied", "ledger_charges",
                                        "platform_fees", "order_pay_events", "orders_paid", "payments_succeeded"))
    exactly = exactly and got["orders_overpaid"] == 0 and got["orders_with_two_charges"] == 0 \
        and got["audit_chain_intact"] and figures["applied"] == e \
        and figures["duplicates"] == figures["redeliveries_sent"]
    return {"db": got, "exactly_once": bool(exactly)}


# ---------------------------------------------------------------------------------------------------------------

def run_sweep(app: Any, url: str, seeded: dict[str, Any], args: argparse.Namespace, deadline: Deadline,
              workdir: Path, webhook_secret: str, pg_url: str | None) -> dict[str, Any]:
    """The distinct-listings phase (bench/_distinct_orders.py) for each worker count of --sweep."""
    def serve(workers: int) -> tuple[subprocess.Popen[bytes], int]:
        port = args.port or free_port()
        run_args = argparse.Namespace(**{**vars(args), "workers": workers})
        proc = start_server(url, port, run_args, workdir, webhook_secret, workdir / f"gunicorn-{workers}.log")
        try:
            wait_ready(proc, port, deadline)
            warm_up(port, seeded["tokens"], run_args, deadline)
        except Exception:
            stop_server(proc)
            raise
        return proc, port

    log(f"distinct listings: {args.distinct} per run, {args.clients} clients, workers {args.sweep}")
    return distinct_orders.sweep(app=app, db=db, counts=args.sweep, listings_per_count=args.distinct,
                                 tokens=seeded["tokens"], clients=args.clients,
                                 make_listings=lambda n: fresh_products(app, seeded, n), serve=serve,
                                 stop=stop_server, deadline=deadline, pg_url=pg_url, verify_chain=verify_chain)


def run_backend(backend: str, args: argparse.Namespace, deadline: Deadline, rng: random.Random) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"hall_bench_orders_{backend}_"))
    out: dict[str, Any] = {}
    proc: subprocess.Popen[bytes] | None = None
    name = ""
    app = None
    log_path = workdir / "gunicorn.log"
    try:
        t0 = time.perf_counter()
        url, name = make_database(backend, args.pg_url, workdir, "orders")
        app = create_app({"HALL_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            upgrade()
        log(f"{backend}: migrated {name}")
        seeded = seed(app, args, deadline)
        out["setup_s"] = round(time.perf_counter() - t0, 1)
        if deadline.passed():
            raise RuntimeError("--time-limit reached while seeding")
        port = args.port or free_port()
        webhook_secret = "whsec_bench_" + secrets.token_hex(16)
        proc = start_server(url, port, args, workdir, webhook_secret, log_path)
        out["server_ready_s"] = round(wait_ready(proc, port, deadline), 2)
        log(f"{backend}: gunicorn ({args.workers} workers × {args.threads} threads) ready on 127.0.0.1:{port}")
        out["warm_up"] = warm_up(port, seeded["tokens"], args, deadline)
        pg_url = url if backend == "postgresql" else None
        out["races"] = run_races(app, port, seeded, args, deadline, pg_url)
        log(f"{backend}: storm of {len(seeded['storm'])} events + {args.duplicates:.0%} redeliveries, "
            f"{args.clients} clients")
        if seeded["storm"]:
            with LockSampler(pg_url, deadline) as sampler:
                figures = storm(port, seeded, args, webhook_secret, deadline, rng)
            figures["pg_activity"] = sampler.figures()
            figures.update(check_storm(app, figures))
            out["storm"] = figures
            log(f"{backend}: storm {figures['events_per_s']} events/s, p50 {figures['p50_ms']} ms, "
                f"p95 {figures['p95_ms']} ms, statuses {figures['statuses']}, outcomes {figures['outcomes']}, "
                f"exactly_once={figures['exactly_once']}")
        stop_server(proc)
        if args.distinct:
            out["distinct"] = run_sweep(app, url, seeded, args, deadline, workdir, webhook_secret, pg_url)
    except Exception as error:  # noqa: BLE001 - report it in the JSON and carry on with the next backend
        log(f"{backend}: FAILED {type(error).__name__}: {error}")
        out["error"] = f"{type(error).__name__}: {error}"
    finally:
        stop_server(proc)
        out["server_log"] = server_log_summary(log_path)
        if app is not None:
            with app.app_context():
                db.engine.dispose()
        if args.keep:
            out["kept"] = {"database": name, "workdir": str(workdir)}
            log(f"{backend}: kept {name} and {workdir}")
        else:
            try:
                if name:
                    drop_database(backend, args.pg_url, name)
            finally:
                shutil.rmtree(workdir, ignore_errors=True)
    out["truncated"] = deadline.passed()
    return out


def summary_line(result: dict[str, Any]) -> None:
    for backend in ("sqlite", "postgresql"):
        figures = result.get(backend)
        if not figures or "races" not in figures:
            continue
        for kind, race_figures in figures["races"].items():
            log(f"{backend} race {kind}: {race_figures['orders_per_s']} orders/s, p50 {race_figures['p50_ms']} ms, "
                f"p95 {race_figures['p95_ms']} ms, winners {race_figures['winners_per_race']}, "
                f"oversold {race_figures['oversold']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--buyers", type=int, default=20, help="buyers racing for each listing (≥ 2)")
    parser.add_argument("--rounds", type=int, default=5, help="races of each kind, each on a fresh listing")
    parser.add_argument("--events", type=int, default=1000, help="distinct payment_intent.succeeded events")
    parser.add_argument("--duplicates", type=float, default=0.3, help="redeliveries, as a share of --events")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (> 1: gthread workers)")
    parser.add_argument("--clients", type=int, default=16, help="client threads sending the webhook storm")
    parser.add_argument("--time-limit", type=float, default=900, help="seconds for the whole run")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432",
                        help="the local PostgreSQL server (a database hall_bench_orders_<pid> is made on it)")
    parser.add_argument("--seed", type=int, default=20261129, help="shuffle of the storm")
    parser.add_argument("--keep", action="store_true", help="keep the databases and the gunicorn log")
    parser.add_argument("--distinct", type=int, default=0,
                        help="listings ordered once each, all at once, per worker count of --sweep (0: skip)")
    parser.add_argument("--sweep", type=lambda v: [int(x) for x in v.split(",")], default=None,
                        help="worker counts for the distinct-listings phase, e.g. 1,2,4 (default: --workers)")
    args = parser.parse_args()
    args.sweep = args.sweep or [args.workers]
    if args.buyers < 2 or args.rounds < 0 or args.events < 0 or not 0 <= args.duplicates <= 10 \
            or args.workers < 1 or args.threads < 1 or args.clients < 1 or args.buyers > 1000 or args.events > 10**6:
        parser.error("need 2 ≤ buyers ≤ 1000, rounds ≥ 0, 0 ≤ events ≤ 1e6, 0 ≤ duplicates ≤ 10, workers, "
                     "threads and clients ≥ 1")

    def stop(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, stop)

    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    deadline = Deadline(args.time_limit)
    started = time.perf_counter()
    result: dict[str, Any] = {"bench": "orders", "params": {
        "backends": backends, "buyers": args.buyers, "rounds": args.rounds, "events": args.events,
        "duplicates": args.duplicates, "workers": args.workers, "threads": args.threads,
        "worker_class": "gthread" if args.threads > 1 else "sync", "clients": args.clients,
        "time_limit_s": args.time_limit, "seed": args.seed, "distinct": args.distinct, "sweep": args.sweep,
        "app": APP_SPEC, "hall_env": "production",
        "payment_gateway": "fake"},
        "host": {"cpus": os.cpu_count(), "loadavg_at_start": [round(x, 2) for x in os.getloadavg()]}}
    rng = random.Random(args.seed)
    for backend in backends:
        log(f"{backend}: starting")
        result[backend] = run_backend(backend, args, deadline, rng)
    summary_line(result)
    result["host"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    result["elapsed_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
