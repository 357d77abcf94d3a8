"""Several instances of the app as production runs them, for the scale-out test: each a gunicorn of its own (its
own process group) on a free port of 127.0.0.1, all with the same settings (SECRET_KEY, DATABASE_URL, Redis for
the rate limits, one shared UPLOAD_DIR) but each with an instance directory of its own, as separate machines would
have. Requests reach them as through a reverse proxy (``TRUSTED_PROXIES=1``): every request carries the proxy's
X-Forwarded-For/-Proto/-Host headers, so the app sees the client's address and an https origin.

A Secure session cookie is never sent over plain http by a cookie jar, so callers carry the cookie themselves
(``Visitor``), which is also the point: the very same cookie is shown to either instance.
"""
from __future__ import annotations

import http.cookies
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
PUBLIC_HOST = "hall.example.cn"  # the name the proxy serves
START_TIMEOUT_S = 45  # gunicorn imports the app, then /readyz must answer 200
STOP_TIMEOUT_S = 10
HTTP_TIMEOUT_S = 30
# Variables of the test runner that must not leak into a production-like instance.
SCRUBBED = ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_API_BASE", "STRIPE_WEBHOOK_SECRET",
            "PAYMENT_GATEWAY", "MAIL_BACKEND", "TEST_DATABASE_URL", "FLASK_DEBUG", "AUDIT_CHECKPOINT_KEY")


@dataclass
class Instance:
    """One running gunicorn (master and workers in their own process group)."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@dataclass
class Visitor:
    """A client behind the proxy, from ``address``: carries its session cookie and CSRF token by hand."""

    address: str
    cookie: str | None = None
    csrf: str | None = None
    token: str | None = None  # a personal access token (Bearer) instead of a session
    http: requests.Session = field(default_factory=requests.Session)

    def headers(self, method: str) -> dict[str, str]:
        headers = {"X-Forwarded-For": self.address, "X-Forwarded-Proto": "https", "X-Forwarded-Host": PUBLIC_HOST,
                   "Accept-Language": "en"}
        if self.cookie:
            headers["Cookie"] = f"hall_session={self.cookie}"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if method not in {"GET", "HEAD", "OPTIONS"}:
            headers["Referer"] = f"https://{PUBLIC_HOST}/"  # Flask-WTF checks it on https requests
            if self.csrf:
                headers["X-CSRFToken"] = self.csrf
        return headers

    def call(self, instance: Instance, method: str, path: str, body: Any = None) -> requests.Response:
        """One request to ``instance``, as the proxy forwards it."""
        return self.http.request(method, instance.url + path, json=body, headers=self.headers(method),
                                 timeout=HTTP_TIMEOUT_S, allow_redirects=False)

    def sign_in(self, instance: Instance, email: str, password: str) -> requests.Response:
        """POST /auth/sign-in; on 200 keep the new session cookie (from Set-Cookie) and the CSRF token."""
        response = self.call(instance, "POST", "/api/v1/auth/sign-in", {"email": email, "password": password})
        if response.status_code == 200:
            self.cookie = session_cookie(response)
            self.csrf = response.json()["csrf_token"]
        return response

    def close(self) -> None:
        self.http.close()


def session_cookie(response: requests.Response) -> str:
    """The value of ``hall_session`` in the response's Set-Cookie header (which must mark it Secure)."""
    header = response.headers.get("Set-Cookie", "")
    assert "hall_session=" in header and "Secure" in header, header
    jar: http.cookies.SimpleCookie = http.cookies.SimpleCookie()
    jar.load(header)
    return jar["hall_session"].value


def free_port() -> int:
    """A port of 127.0.0.1 nobody listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def production_environment(settings: dict[str, str]) -> dict[str, str]:
    """This process's environment without the test runner's own settings, plus ``settings``."""
    env = {key: value for key, value in os.environ.items() if key not in SCRUBBED}
    env.update(HALL_ENV="production", FLASK_APP="wsgi", **settings)
    return env


def start(name: str, settings: dict[str, str], workdir: Path, threads: int = 4) -> Instance:
    """Start ``gunicorn wsgi:app`` (one gthread worker with ``threads`` threads) on a free port, with its own
    instance directory under ``workdir``; returns at once (``wait_ready`` waits)."""
    port = free_port()
    instance_dir = workdir / f"instance-{name}"
    instance_dir.mkdir(parents=True, exist_ok=True)
    env = production_environment({**settings, "HALL_INSTANCE_DIR": str(instance_dir)})
    command = [sys.executable, "-m", "gunicorn", "--bind", f"{HOST}:{port}", "--workers", "1",
               "--worker-class", "gthread", "--threads", str(threads), "--timeout", "60", "--graceful-timeout", "5",
               "--no-control-socket", "wsgi:app"]
    log_path = workdir / f"gunicorn-{name}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    return Instance(name, port, process, log_path)


def wait_ready(instance: Instance) -> None:
    """Poll /readyz until it answers 200; fail with the server's log if it exits or takes too long."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if instance.process.poll() is not None:
            raise AssertionError(f"instance {instance.name} exited with {instance.process.returncode}:\n"
                                 f"{instance.log()[-4000:]}")
        try:
            if requests.get(instance.url + "/readyz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"instance {instance.name} not ready after {START_TIMEOUT_S} s:\n"
                                 f"{instance.log()[-4000:]}")
        time.sleep(0.1)


def stop(instance: Instance) -> None:
    """Stop the gunicorn we started: its whole process group, SIGINT (gunicorn's quick shutdown: the test is over)
    then, if it lingers, SIGKILL."""
    process = instance.process
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT_S)
    except ProcessLookupError:
        pass


@contextmanager
def running(names: list[str], settings: dict[str, str], workdir: Path) -> Iterator[list[Instance]]:
    """Start one instance per name with the same ``settings``; stop them all when the block ends (also on
    failure, and also those that started when another did not)."""
    with ExitStack() as stack:
        instances = []
        for name in names:
            instance = start(name, settings, workdir)
            stack.callback(stop, instance)
            instances.append(instance)
        for instance in instances:
            wait_ready(instance)
        yield instances
