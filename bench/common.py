"""What every benchmark shares: the --time-limit deadline, progress lines on stderr, quantiles, and a fresh
database on either backend."""
from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


class Deadline:
    """The --time-limit bound of the whole run."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def passed(self) -> bool:
        return self.left() <= 0

    def timeout(self, cap: float = 60.0) -> float:
        """A socket timeout that never runs far past the deadline (at least 1 s)."""
        return max(1.0, min(cap, self.left()))


def log(message: str) -> None:
    """A progress line on stderr (stdout's last line is the JSON result)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1), interpolated."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def _admin_engine(pg_url: str) -> Any:
    server = make_url(pg_url).set(drivername="postgresql+psycopg")
    assert server.host in ("127.0.0.1", "localhost"), "only a local PostgreSQL server"
    return create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")


def make_database(backend: str, pg_url: str, workdir: Path, stem: str) -> tuple[str, str]:
    """A fresh empty database for a benchmark: a SQLite file ``<stem>.sqlite`` in ``workdir``, or the PostgreSQL
    database ``hall_bench_<stem>_<pid>`` on the local server (dropped first if it exists): (url, name)."""
    if backend == "sqlite":
        path = workdir / f"{stem}.sqlite"
        return f"sqlite:///{path}", str(path)
    name = f"hall_bench_{stem}_{os.getpid()}"
    engine = _admin_engine(pg_url)
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    server = make_url(pg_url).set(drivername="postgresql+psycopg")
    return server.set(database=name).render_as_string(hide_password=False), name


def drop_database(backend: str, pg_url: str, name: str) -> None:
    """Drop a PostgreSQL database ``make_database`` made (a SQLite file goes with its temporary directory)."""
    if backend != "postgresql" or not name:
        return
    engine = _admin_engine(pg_url)
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()
