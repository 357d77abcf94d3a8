"""Server time of every page of the web front and the admin console on the demo data (issue 11: "every page
< 100 ms server time on the demo data").

    .venv/bin/python bench/pages.py [--backend sqlite|postgresql|both] [--repeat 20] [--time-limit 600]
                                    [--pg-url postgresql://postgres@127.0.0.1:5432] [--keep]

For each backend: a fresh database (a SQLite file in a temporary directory, or the PostgreSQL database
hall_bench_pages_<pid> on 127.0.0.1, created and dropped here), migrated to head (``flask db upgrade``), loaded with
the demo data by the function ``make run`` uses (``hall.demo.seed_demo``: institutions, people, an admin, listings,
orders). The app runs with the development settings ``make run`` serves (DEBUG off, full password hashing) and the
fake payment gateway (so the local card page exists), in this process.

The pages are taken from ``app.url_map``, never listed by hand: every GET rule whose endpoint starts with ``web.``
or ``admin.``. Each page is first asked once anonymously; one that sends the visitor to sign in (or refuses with
401/403) is a page for a person: a demo institution member (owner@ssb.demo, buyer of the demo licence order and
owner of listings) for the web front, the demo admin for the console. ``<int:…>`` parts get real ids from the demo
data (a published listing and its institution for the public pages; the member's own listing and order for the
workspace; a published listing of another institution for the order form); a rule whose ids cannot be filled is
listed under "skipped" with the reason. A page answering anything but 200 (redirects are not followed) is listed
under "not_200" and not timed.

Server time is ``time.perf_counter`` around ``client.get`` of Flask's test client: the whole WSGI application
(session load, view, templates, after-request hooks), no socket. Each page is warmed up once and asked once more
to count the SQL statements it runs (a ``before_cursor_execute`` listener); then ``--repeat`` rounds each ask every
page once (interleaved, so a burst of load from elsewhere on the host does not land on one page); per page
p50/p95/max in ms. "target_met" is true when every timed page's p95 is under 100 ms.

Progress goes to stderr; the last line of stdout is one JSON object with the parameters and figures. Only
127.0.0.1 is used; every loop is bounded in count and by --time-limit.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event, func, select  # noqa: E402

from bench.common import Deadline, drop_database, log, make_database, pct  # noqa: E402
from hall import create_app  # noqa: E402
from hall.demo import DEMO_ADMIN_EMAIL, seed_demo  # noqa: E402
from hall.extensions import db  # noqa: E402
from hall.models import AuditEvent, Institution, Listing, ListingAttachment, Order, User  # noqa: E402

TARGET_MS = 100.0
MEMBER_EMAIL = "owner@ssb.demo"  # buyer of the demo's completed licence order, owner of two listings
HTML = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}
_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")


# ---------------------------------------------------------------------------------------------------------------
# Databases

def build_app(url: str, workdir: Path) -> Flask:
    """The development settings ``make run`` serves, on this database, with the fake gateway (its local card page
    is a page too) and the uploads in the temporary directory."""
    return create_app({"HALL_ENV": "development", "SQLALCHEMY_DATABASE_URI": url,
                       "SECRET_KEY": "bench-pages-" + os.urandom(16).hex(), "PAYMENT_GATEWAY": "fake",
                       "UPLOAD_DIR": str(workdir / "uploads")})


def seed(app: Flask) -> dict[str, str]:
    """Migrate and load the demo data; returns the demo passwords by e-mail."""
    with app.app_context():
        upgrade()
        created, published = seed_demo()
        db.session.commit()
        db.session.info.pop("mail_queued", None)  # the demo sends no mail; nothing to deliver
        log(f"  demo data: {len(created)} accounts, {published} listings published")
        db.session.remove()
    return {account.email: account.password for account in created}


# ---------------------------------------------------------------------------------------------------------------
# Ids from the demo data

def demo_ids(app: Flask) -> dict[str, Any]:
    """Real ids for the rules' arguments, by who asks: the public, the member, the admin."""
    with app.app_context():
        member = db.session.scalar(select(User).where(User.email == MEMBER_EMAIL))
        assert member is not None and member.institution_id is not None, f"{MEMBER_EMAIL} is not in the demo data"
        org = member.institution_id
        published = select(Listing).where(Listing.status == "published").order_by(Listing.id)
        public_listing = db.session.scalars(published).first()
        foreign_listing = db.session.scalars(published.where(Listing.institution_id != org)).first()
        own_listing = db.session.scalars(select(Listing).where(Listing.institution_id == org)
                                         .order_by(Listing.id)).first()
        # The orders with the longest history (the demo's completed licence deal): the member's, and any.
        by_history = (select(Order.id).outerjoin(AuditEvent, (AuditEvent.object_type == "order") & (
            AuditEvent.object_id == func.cast(Order.id, db.String))).group_by(Order.id)
            .order_by(func.count(AuditEvent.id).desc(), Order.id).limit(1))
        own_order = db.session.scalar(by_history.where((Order.buyer_institution_id == org) |
                                                       (Order.seller_institution_id == org)))
        any_order = db.session.scalar(by_history)
        own_attachment = db.session.execute(
            select(ListingAttachment.id, Listing.id).join(Listing, Listing.working_version_id ==
                                                          ListingAttachment.version_id)
            .where(Listing.institution_id == org).limit(1)).first()
        any_attachment = db.session.scalar(select(ListingAttachment.id).limit(1))
        any_institution = db.session.scalar(select(Institution.id).where(Institution.id != org)
                                            .order_by(Institution.id).limit(1))
        ids: dict[str, Any] = {
            "public": {"listing_id": public_listing.id if public_listing else None,
                       "institution_id": public_listing.institution_id if public_listing else None},
            "member": {"listing_id": own_listing.id if own_listing else None, "order_id": own_order,
                       "attachment_id": own_attachment[0] if own_attachment else None,
                       "institution_id": org},
            "order_form": {"listing_id": foreign_listing.id if foreign_listing else None},
            "admin": {"listing_id": public_listing.id if public_listing else None, "order_id": any_order,
                      "org_id": any_institution, "attachment_id": any_attachment},
        }
        if own_attachment:
            ids["member"]["attachment_listing_id"] = own_attachment[1]
        db.session.remove()
    return ids


def fill(rule: Any, ids: dict[str, Any], persona: str) -> tuple[str | None, str | None]:
    """The rule's path with real ids, or (None, reason) when an argument has no id in the demo data."""
    table = dict(ids["admin"] if persona == "admin" else ids["member"] if persona == "member" else ids["public"])
    if rule.endpoint == "web.order_listing":
        table.update(ids["order_form"])
    if "attachment_id" in rule.arguments and table.get("attachment_listing_id"):
        table["listing_id"] = table["attachment_listing_id"]
    missing: list[str] = []

    def value(match: re.Match[str]) -> str:
        name = match.group("name")
        found = table.get(name)
        if found is None:
            missing.append(name)
            return "0"
        return str(found)

    path = _ARGUMENT.sub(value, rule.rule)
    if missing:
        return None, f"no {', '.join(missing)} in the demo data for the {persona}"
    return path, None


def probe_path(rule: Any, ids: dict[str, Any]) -> str:
    """A path to ask anonymously whether the page needs someone signed in (any id does: the guard comes first)."""
    path, _reason = fill(rule, ids, "public")
    return path or _ARGUMENT.sub("1", rule.rule)


# ---------------------------------------------------------------------------------------------------------------
# People

def signed_in(app: Flask, email: str, password: str) -> FlaskClient:
    """A browser signed in through the API (the same server-side session the pages and the console read)."""
    client = app.test_client()
    response = client.post("/api/v1/auth/sign-in", json={"email": email, "password": password})
    if response.status_code != 200:
        raise RuntimeError(f"sign-in of {email} answered {response.status_code}: {response.get_data(as_text=True)}")
    return client


def needs_sign_in(response: Any) -> bool:
    location = response.headers.get("Location", "")
    return response.status_code in (401, 403) or (
        response.status_code in (302, 303) and ("/sign-in" in location))


# ---------------------------------------------------------------------------------------------------------------
# Timing

class StatementCounter:
    """Counts the SQL statements the engine sends (a ``before_cursor_execute`` listener)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.count = 0

    def __enter__(self) -> StatementCounter:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any) -> None:
        self.count += 1


def warm_up(client: FlaskClient, path: str, counter: StatementCounter) -> dict[str, Any]:
    """Ask once to warm up, then once more counting the SQL statements; the status and size of the second."""
    client.get(path, headers=HTML).close()
    counter.count = 0
    with client.get(path, headers=HTML) as response:
        return {"status": response.status_code, "location": response.headers.get("Location"),
                "sql": counter.count, "bytes": len(response.get_data())}


def time_rounds(plan: dict[str, dict[str, Any]], clients: dict[str, FlaskClient], repeat: int,
                deadline: Deadline) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """``repeat`` rounds, each asking every planned page once (interleaved, so a burst of load on a shared host
    spreads over the pages instead of landing on one); seconds per page. A page that stops answering 200 is
    marked in its plan and left out of the following rounds. Also this process's CPU seconds per request (a
    diagnostic: on a busy host the wall time grows with the wait for a CPU, the CPU time much less; the database
    server's own work is not in it)."""
    seconds: dict[str, list[float]] = {rule: [] for rule in plan}
    cpu: dict[str, list[float]] = {rule: [] for rule in plan}
    for _ in range(repeat):
        if deadline.passed():
            break
        for rule, entry in plan.items():
            if entry["status"] != 200:
                continue
            client = clients[entry["persona"]]
            t0, c0 = time.perf_counter(), time.process_time()
            response = client.get(entry["path"], headers=HTML)
            seconds[rule].append(time.perf_counter() - t0)
            cpu[rule].append(time.process_time() - c0)
            response.close()
            if response.status_code != 200:
                entry["status"], entry["location"] = response.status_code, response.headers.get("Location")
    return seconds, cpu


def figures_of(seconds: list[float]) -> dict[str, Any]:
    ms = [s * 1000 for s in seconds] or [0.0]
    return {"runs": len(seconds), "p50_ms": round(pct(ms, .5), 1), "p95_ms": round(pct(ms, .95), 1),
            "max_ms": round(max(ms), 1)}


def run_backend(backend: str, args: argparse.Namespace, deadline: Deadline) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"hall_bench_pages_{backend}_"))
    out: dict[str, Any] = {}
    name = ""
    app: Flask | None = None
    try:
        t0 = time.perf_counter()
        url, name = make_database(backend, args.pg_url, workdir, "pages")
        app = build_app(url, workdir)
        passwords = seed(app)
        out["setup_s"] = round(time.perf_counter() - t0, 1)
        ids = demo_ids(app)
        out["ids"] = ids
        clients = {"anonymous": app.test_client(),
                   "member": signed_in(app, MEMBER_EMAIL, passwords[MEMBER_EMAIL]),
                   "admin": signed_in(app, DEMO_ADMIN_EMAIL, passwords[DEMO_ADMIN_EMAIL])}
        who = {"anonymous": "anonymous", "member": MEMBER_EMAIL, "admin": DEMO_ADMIN_EMAIL}
        pages: dict[str, Any] = {}
        not_200: dict[str, Any] = {}
        skipped: dict[str, str] = {}
        rules = sorted((rule for rule in app.url_map.iter_rules()
                        if rule.endpoint.startswith(("web.", "admin.")) and "GET" in (rule.methods or set())),
                       key=lambda rule: rule.rule)
        with app.app_context():
            engine = db.engine
        plan: dict[str, dict[str, Any]] = {}
        with StatementCounter(engine) as counter:
            for rule in rules:
                if deadline.passed():
                    skipped[rule.rule] = "--time-limit reached"
                    continue
                with app.test_client().get(probe_path(rule, ids), headers=HTML) as probe:
                    persona = "anonymous"
                    if needs_sign_in(probe):
                        persona = "admin" if rule.endpoint.startswith("admin.") else "member"
                path, reason = fill(rule, ids, "public" if persona == "anonymous" else persona)
                if path is None:
                    skipped[rule.rule] = f"{rule.endpoint}: {reason}"
                    log(f"  skip {rule.rule}: {reason}")
                    continue
                plan[rule.rule] = {"endpoint": rule.endpoint, "path": path, "as": who[persona], "persona": persona,
                                   **warm_up(clients[persona], path, counter)}
        log(f"  {len(plan)} pages warmed up; {args.repeat} rounds of every page")
        seconds, cpu = time_rounds(plan, clients, args.repeat, deadline)
        for key, entry in plan.items():
            entry.pop("persona")
            if entry["status"] != 200:
                not_200[key] = entry
                log(f"  {entry['path']} as {entry['as']}: {entry['status']} {entry.get('location') or ''}")
                continue
            entry.pop("location")
            cpu_ms = sorted(c * 1000 for c in cpu[key]) or [0.0]
            pages[key] = {**entry, **figures_of(seconds[key]), "cpu_p50_ms": round(pct(cpu_ms, .5), 1)}
            log(f"  {entry['path']} as {entry['as']}: p50 {pages[key]['p50_ms']} ms, "
                f"p95 {pages[key]['p95_ms']} ms, {entry['sql']} SQL")
        out["pages"] = pages
        out["not_200"] = not_200
        out["skipped"] = skipped
        timed = sorted(pages.items(), key=lambda item: item[1]["p95_ms"], reverse=True)
        out["slowest"] = [{"rule": rule, "p95_ms": figures["p95_ms"], "sql": figures["sql"]}
                          for rule, figures in timed[:5]]
        out["most_sql"] = [{"rule": rule, "sql": figures["sql"], "p95_ms": figures["p95_ms"]}
                           for rule, figures in sorted(pages.items(), key=lambda item: item[1]["sql"],
                                                       reverse=True)[:5]]
        out["over_target"] = [rule for rule, figures in timed if figures["p95_ms"] >= TARGET_MS]
        out["target_met"] = bool(pages) and not out["over_target"]
        out["rules"] = len(rules)
    except Exception as error:  # noqa: BLE001 - report it in the JSON and carry on with the next backend
        log(f"{backend}: FAILED {type(error).__name__}: {error}")
        out["error"] = f"{type(error).__name__}: {error}"
        out["target_met"] = False
    finally:
        if app is not None:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        if args.keep:
            out["kept"] = {"database": name, "workdir": str(workdir)}
        else:
            try:
                drop_database(backend, args.pg_url, name)
            finally:
                shutil.rmtree(workdir, ignore_errors=True)
    out["truncated"] = deadline.passed()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per page after one warm-up")
    parser.add_argument("--time-limit", type=float, default=600, help="seconds for the whole run")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432",
                        help="the local PostgreSQL server (a database hall_bench_pages_<pid> is made on it)")
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    args = parser.parse_args()
    if not 1 <= args.repeat <= 10_000:
        parser.error("need 1 ≤ repeat ≤ 10000")
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    deadline = Deadline(args.time_limit)
    started = time.perf_counter()
    result: dict[str, Any] = {"bench": "pages", "params": {
        "backends": backends, "repeat": args.repeat, "time_limit_s": args.time_limit, "target_ms": TARGET_MS,
        "member": MEMBER_EMAIL, "admin": DEMO_ADMIN_EMAIL, "hall_env": "development", "payment_gateway": "fake",
        "timing": "perf_counter around FlaskClient.get (in process), rounds interleaved over the pages"},
        "host": {"cpus": os.cpu_count(), "loadavg_at_start": [round(x, 2) for x in os.getloadavg()]}}
    for backend in backends:
        log(f"{backend}: starting")
        result[backend] = run_backend(backend, args, deadline)
        figures = result[backend]
        if "slowest" in figures:
            log(f"{backend}: slowest {figures['slowest'][:3]}; target_met={figures['target_met']}")
    result["target_met"] = all(result[backend].get("target_met") for backend in backends)
    result["host"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    # More runnable processes than CPUs: the wall times include waiting for a CPU (compare cpu_p50_ms).
    result["host"]["busy"] = max(result["host"]["loadavg_at_start"][0], result["host"]["loadavg_at_end"][0]) \
        > (os.cpu_count() or 1)
    result["elapsed_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
