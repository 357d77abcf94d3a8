"""Browse throughput of the hall API over HTTP, as a ratio of a hello-world Flask JSON app's (issue 14).

    .venv/bin/python bench/http_load.py [--backend sqlite|postgresql|both] [--workers 2] [--connections 8]
                                   [--duration 10] [--baseline-root DIR] [--time-limit 900]
                                   [--pg-url postgresql://postgres@127.0.0.1:5432] [--database-url URL]

Everything runs on 127.0.0.1 on free ports, under gunicorn with ``--workers`` sync workers:
- a hello-world Flask app (one route answering a small JSON object), written to a temporary directory: the ceiling
  of this host, this gunicorn and this worker count;
- the platform (``wsgi:app``, production settings, rate limits in memory) on a fresh database per backend (a SQLite
  file, or the PostgreSQL database ``hall_bench_http_<pid>``, created and dropped here), migrated and loaded with
  the demo data by the commands the README gives (``flask db upgrade``, ``flask hall seed-demo``);
- with ``--database-url URL`` instead, an existing database (say the 1M listings ``bench/search.py`` leaves),
  upgraded to head, neither seeded nor dropped;
- with ``--baseline-root DIR``, the same for another source tree (e.g. ``git archive <base commit>`` unpacked, with
  its translations compiled), on its own fresh databases, so before and after are measured in the same run.

Each target is loaded for ``--duration`` seconds with ``--connections`` connections by wrk (Debian's ``wrk``; its
Lua ``done`` hook prints the figures as JSON): the hello-world app (at the start and again at the end: the ceiling
is their mean), ``/healthz``, ``/api/v1/hall/listings``, ``?q=电池``, ``?direction=energy&sort=newest``, a
listing's detail, and the browse and the detail with ``If-None-Match`` set to the ETag they answered (304s, when the
tree sends ETags) and with a cookie (``*_flask``: answered by Flask, not by the recent answers kept in front of
it). Per target: requests/s, mean and p95 latency, answers that were not 2xx/3xx, and the ratio to
the ceiling; per platform target also the SQL statements one request runs, counted in a separate process through
the test client on the same database (a ``before_cursor_execute`` listener; SQLite's BEGIN not counted), the first
time ("cold") and again ("warm", when the tree keeps results per hall version).

The targets of issue 14 at demo size: browse and search >= 40 % of the ceiling, detail >= 60 %. Progress goes to
stderr; the last line of stdout is one JSON object with the parameters and figures. Every loop is bounded in time;
the servers are stopped at the end, also on errors.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Deadline, drop_database, log, make_database  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {  # name → path (the detail's id is filled in from the browse)
    "healthz": "/healthz",
    "browse": "/api/v1/hall/listings",
    "search": "/api/v1/hall/listings?q=" + quote("电池"),
    "direction": "/api/v1/hall/listings?direction=energy&sort=newest",
    "detail": "/api/v1/hall/listings/{listing_id}",
}
CONDITIONAL = ("browse", "detail")  # loaded again with If-None-Match
# loaded again with a cookie: an anonymous caller with one (a language, a consent) is answered by Flask, never by the
# recent answers kept in front of it (hall.recent_answers)
THROUGH_FLASK = ("browse", "detail")
GOALS = {"browse": 0.40, "search": 0.40, "direction": 0.40, "detail": 0.60}

HELLO_APP = '''from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/")
def hello():
    return jsonify(hello="world")
'''

WRK_SCRIPT = '''done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "mean_us": %.1f, "p50_us": %d, "p95_us": %d, "p99_us": %d, ' ..
    '"socket_errors": %d, "status_errors": %d}\\n',
    summary.requests, summary.duration, latency.mean, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), errors, summary.errors.status))
end
'''

STATEMENTS_SCRIPT = '''import json, sys
from sqlalchemy import event
from hall import create_app
from hall.extensions import db
url, paths = sys.argv[1], json.loads(sys.argv[2])
app = create_app({"HALL_ENV": "development", "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-http"})
client = app.test_client()
counts = {}
for name, path in paths.items():
    seen = []
    for _ in range(2):
        statements = []
        def record(_c, _k, statement, *_a):
            if statement.strip().upper() != "BEGIN":
                statements.append(statement)
        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", record)
            try:
                status = client.get(path).status_code
            finally:
                event.remove(db.engine, "before_cursor_execute", record)
        seen.append(len(statements))
    counts[name] = {"cold": seen[0], "warm": seen[1], "status": status}
print(json.dumps(counts))
'''


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tree_env(root: Path, url: str, workdir: Path, port: int) -> dict[str, str]:
    """The environment the platform of source tree ``root`` runs in: production settings, this database."""
    env = dict(os.environ)
    for key in ("STRIPE_SECRET_KEY", "STRIPE_API_BASE", "TRUSTED_PROXIES", "FLASK_APP"):
        env.pop(key, None)
    env.update(PYTHONPATH=f"{root / 'platform'}:{root}", FLASK_APP="wsgi", HALL_ENV="production", DATABASE_URL=url,
               SECRET_KEY=secrets.token_urlsafe(48), PAYMENT_GATEWAY="fake", ALLOW_FAKE_PAYMENTS="1",
               RATELIMIT_STORAGE_URI="memory://", MAIL_BACKEND="log", HALL_INSTANCE_DIR=str(workdir / "instance"),
               UPLOAD_DIR=str(workdir / "uploads"), PUBLIC_BASE_URL=f"http://127.0.0.1:{port}")
    return env


def flask_command(root: Path, env: dict[str, str], *args: str, timeout: float) -> None:
    done = subprocess.run([sys.executable, "-m", "flask", *args], cwd=root, env=env, capture_output=True,
                          timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed: {done.stderr.decode()[-2000:]}")


def start_gunicorn(app_spec: str, cwd: Path, env: dict[str, str], port: int, workers: int,
                   log_path: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
               "--timeout", "60", "--graceful-timeout", "5", "--backlog", "2048", "--no-control-socket", app_spec]
    with open(log_path, "wb") as handle:
        return subprocess.Popen(command, cwd=cwd, env=env, stdout=handle, stderr=subprocess.STDOUT,
                                start_new_session=True)


def stop(proc: subprocess.Popen[bytes] | None) -> None:
    """Stop a gunicorn this run started (its own process group: master and workers)."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def wait_ready(proc: subprocess.Popen[bytes], port: int, path: str, limit: float = 60) -> None:
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            if get(port, path)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn on {port} did not answer {path} in time")


def load(port: int, path: str, args: argparse.Namespace, script: Path, deadline: Deadline,
         headers: dict[str, str] | None = None) -> dict[str, Any]:
    """wrk on one target for --duration seconds: req/s, mean/p95 latency (ms), failed answers."""
    duration = max(1, min(args.duration, int(deadline.left())))
    command = ["wrk", "-t", str(min(args.connections, 2)), "-c", str(args.connections), "-d", f"{duration}s",
               "--timeout", "10s", "-s", str(script)]
    for key, value in (headers or {}).items():
        command += ["-H", f"{key}: {value}"]
    done = subprocess.run([*command, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True,
                          timeout=duration + 30, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed: {done.stdout[-1000:]} {done.stderr[-1000:]}")
    raw = json.loads(lines[-1])
    seconds = raw["duration_us"] / 1e6
    return {"rps": round(raw["requests"] / seconds, 1), "requests": raw["requests"],
            "mean_ms": round(raw["mean_us"] / 1000, 2), "p95_ms": round(raw["p95_us"] / 1000, 2),
            "failed": raw["socket_errors"] + raw["status_errors"]}


def hello_world(workdir: Path, args: argparse.Namespace, script: Path, deadline: Deadline) -> dict[str, Any]:
    hello_dir = workdir / "hello"
    hello_dir.mkdir(exist_ok=True)
    (hello_dir / "hello_app.py").write_text(HELLO_APP)
    port = free_port()
    proc = start_gunicorn("hello_app:app", hello_dir, dict(os.environ), port, args.workers, workdir / "hello.log")
    try:
        wait_ready(proc, port, "/")
        figures = load(port, "/", args, script, deadline)
    finally:
        stop(proc)
    log(f"hello-world: {figures['rps']} req/s")
    return figures


def count_statements(root: Path, env: dict[str, str], url: str, paths: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", STATEMENTS_SCRIPT, url, json.dumps(paths)], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        return {"error": done.stderr[-500:]}
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def platform(tree: str, root: Path, backend: str, workdir: Path, args: argparse.Namespace, script: Path,
             deadline: Deadline) -> dict[str, Any]:
    """Seed a fresh database for ``root``, serve it, load every target; the figures by target."""
    stem = f"http_{tree}"
    if args.database_url:
        url, name = args.database_url, None
    else:
        url, name = make_database(backend, args.pg_url, workdir, stem)
    port = free_port()
    env = tree_env(root, url, workdir / stem, port)
    proc = None
    try:
        flask_command(root, env, "db", "upgrade", timeout=3600)
        if name is not None:
            flask_command(root, env, "hall", "seed-demo", "--credentials", str(workdir / f"{stem}-credentials.txt"),
                          timeout=300)
        proc = start_gunicorn("wsgi:app", root, env, port, args.workers, workdir / f"{stem}-{backend}.log")
        wait_ready(proc, port, "/healthz")
        status, _headers, body = get(port, TARGETS["browse"] + "?sort=newest")
        listings = json.loads(body)
        paths = dict(TARGETS, detail=TARGETS["detail"].format(listing_id=listings["items"][0]["id"]))
        figures: dict[str, Any] = {"listings": listings["total"]}
        for target, path in paths.items():
            status, headers, _body = get(port, path)
            assert status == 200, (target, status)
            figures[target] = load(port, path, args, script, deadline)
            if target in CONDITIONAL and headers.get("ETag"):
                # the ETag of now: a search's names the minute (max-age period) it was made in
                conditional = {"If-None-Match": get(port, path)[1]["ETag"]}
                assert get(port, path, conditional)[0] == 304, target
                figures[f"{target}_304"] = load(port, path, args, script, deadline, conditional)
            if target in THROUGH_FLASK:
                figures[f"{target}_flask"] = load(port, path, args, script, deadline, {"Cookie": "bench=1"})
            log(f"{tree}/{backend} {target}: {figures[target]['rps']} req/s")
        stop(proc)
        proc = None
        statements = count_statements(root, env, url, {k: v for k, v in paths.items() if k != "healthz"})
        for target, counted in statements.items():
            if target in figures:
                figures[target]["statements"] = counted
        return figures
    finally:
        stop(proc)
        if name is not None:
            drop_database(backend, args.pg_url, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--duration", type=int, default=10, help="seconds per target")
    parser.add_argument("--baseline-root", type=Path, help="another source tree to measure in the same run")
    parser.add_argument("--time-limit", type=float, default=900)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--database-url", help="serve this existing database (upgraded to head, not seeded, not "
                                               "dropped; e.g. the one bench/search.py left) with --backend its kind")
    args = parser.parse_args()
    if args.database_url and (args.baseline_root or args.backend == "both"):
        sys.exit("--database-url measures one tree on one backend")
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk")
    deadline = Deadline(args.time_limit)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    trees = {"current": ROOT}
    if args.baseline_root:
        trees = {"baseline": args.baseline_root.resolve(), **trees}
    workdir = Path(tempfile.mkdtemp(prefix="bench-http-"))
    script = workdir / "report.lua"
    script.write_text(WRK_SCRIPT)
    try:
        hello_before = hello_world(workdir, args, script, deadline)
        runs = {f"{tree}/{backend}": platform(tree, root, backend, workdir, args, script, deadline)
                for tree, root in trees.items() for backend in backends if not deadline.passed()}
        hello_after = hello_world(workdir, args, script, deadline)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    ceiling = (hello_before["rps"] + hello_after["rps"]) / 2
    print(f"{'run':24} {'target':12} {'req/s':>9} {'mean ms':>8} {'p95 ms':>8} {'ratio':>7} {'stmts':>10}")
    print(f"{'hello-world':24} {'(start/end)':12} {ceiling:9.1f}")
    summary: dict[str, Any] = {}
    for run, figures in runs.items():
        for target, value in figures.items():
            if not isinstance(value, dict):
                continue
            value["ratio"] = round(value["rps"] / ceiling, 3) if ceiling else None
            counted = value.get("statements", {})
            stmts = f"{counted.get('cold', '-')}/{counted.get('warm', '-')}"
            print(f"{run:24} {target:12} {value['rps']:9.1f} {value['mean_ms']:8.2f} {value['p95_ms']:8.2f} "
                  f"{value['ratio']:7.3f} {stmts:>10}")
        summary[run] = {target: figures[target]["ratio"] for target in GOALS if target in figures}
        summary[run]["goals_met"] = all(figures[t]["ratio"] >= goal for t, goal in GOALS.items() if t in figures)
    print(json.dumps({"benchmark": "http", "workers": args.workers, "connections": args.connections,
                      "duration_s": args.duration, "load_generator": "wrk", "backends": backends,
                      "trees": {tree: str(root) for tree, root in trees.items()},
                      "hello_world": {"start": hello_before, "end": hello_after, "ceiling_rps": round(ceiling, 1)},
                      "goals": GOALS, "runs": runs, "ratios": summary}, ensure_ascii=False))


if __name__ == "__main__":
    main()
