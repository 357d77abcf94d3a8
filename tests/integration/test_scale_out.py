"""Scale-out proof: two instances of the app — two separate gunicorn processes, configured as production runs them —
on one PostgreSQL database and one Redis, reached over real HTTP as through a reverse proxy.

* A session made by signing in on instance A is valid on instance B, and signing out on B ends it on A; a file
  uploaded through A (to the shared UPLOAD_DIR) downloads through B.
* Rate limits are shared: the sign-in throttle and the thread-creation limit refuse at the same total count whether
  the requests all go to one instance or alternate between the two.
* Zero oversell: buyers race for the last units of a first-of-kind product, half through A and half through B;
  exactly ``stock`` orders are taken, the rest answer 409, the database agrees and the audit chain verifies.

PostgreSQL only (two processes on one SQLite file is not a deployment we offer); skipped when Redis does not
answer on 127.0.0.1:6379. The instances keep their rate-limit counters in Redis database ``REDIS_DB`` (emptied
before and after); the database is made from the suite's migrated template and dropped at the end.
"""
from __future__ import annotations

import secrets
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis
import requests
from flask import Flask
from limits import parse
from sqlalchemy import func, select

from hall.config import ProductionConfig
from hall.extensions import db
from hall.models import Listing, Order, User
from hall.services.accounts import sessions
from hall.services.publishing import listings
from tests import conftest
from tests.conftest import make_app
from tests.support.app_instances import ROOT, Instance, Visitor, production_environment, running
from tests.support.factories import PASSWORD
from tests.support.listing_data import achievement
from tests.support.listings import PDF
from tests.support.races import make_buyers
from tests.support.trading import make_parties, publish_product

pytestmark = pytest.mark.postgres_only

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
REDIS_DB = 13  # this test's own Redis database: flushed before and after
STOCK = 3
RACERS = 12  # half through each instance
THREAD_CREATE_LIMIT = 3
ORDER = {"deal_mode": "purchase", "quantity": 1, "end_user_declared": True}
VERIFY_TIMEOUT_S = 60


@dataclass
class Cluster:
    """The two running instances, the database they share (read through ``app``) and the Redis they share."""

    a: Instance
    b: Instance
    app: Flask
    settings: dict[str, str]
    store: redis.Redis
    product: int
    session_user: str
    throttled_accounts: list[str]
    thread_tokens: list[str]
    racer_tokens: list[str]
    draft: int  # the seller's draft listing
    seller_token: str


def redis_or_skip() -> redis.Redis:
    """Our Redis database, or skip the module with the reason."""
    store = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB, socket_connect_timeout=1)
    try:
        store.ping()
    except redis.exceptions.RedisError as error:
        store.close()
        pytest.skip(f"the scale-out test needs Redis on {REDIS_HOST}:{REDIS_PORT} ({type(error).__name__}: {error})")
    return store


def tokens_for(emails: list[str]) -> list[str]:
    """A personal access token for each person (committed)."""
    secrets_out = []
    for email in emails:
        user = db.session.scalar(select(User).where(User.email == email))
        assert user is not None
        secrets_out.append(sessions.create_api_token(user, "scale-out")[1])
    db.session.commit()
    return secrets_out


@pytest.fixture(scope="module")
def cluster(test_databases: conftest.TestDatabases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Seed a fresh database (through the services), start instances A and B on it, and stop and drop everything
    afterwards, also when something fails half-way."""
    store = redis_or_skip()
    store.flushdb()
    url, name = test_databases.create()
    workdir = tmp_path_factory.mktemp("scale-out")
    (workdir / "uploads").mkdir()
    secret = secrets.token_urlsafe(48)
    settings = {
        "DATABASE_URL": url, "SECRET_KEY": secret,
        "RATELIMIT_STORAGE_URI": f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}",
        "UPLOAD_DIR": str(workdir / "uploads"),  # shared storage (one directory here)
        "TRUSTED_PROXIES": "1", "PUBLIC_BASE_URL": "https://hall.example.cn",
        "PAYMENT_GATEWAY": "fake", "ALLOW_FAKE_PAYMENTS": "1", "MAIL_BACKEND": "log",
        "THREAD_CREATE_LIMIT": f"{THREAD_CREATE_LIMIT} per hour",
    }
    app = make_app(url, SECRET_KEY=secret)  # the same key: audit checkpoints signed while seeding verify later
    try:
        with app.app_context():
            parties = make_parties()
            product = publish_product(parties, stock=STOCK)
            throttled = make_buyers(2)
            thread_tokens = tokens_for(make_buyers(2))
            racer_tokens = tokens_for(make_buyers(RACERS))
            seller_token = tokens_for([parties.seller])[0]
            seller = db.session.get(User, parties.seller_id)
            body = achievement()
            draft = listings.create_draft(seller, body.pop("kind"), body).id
            db.session.commit()
            db.session.remove()
        with running(["a", "b"], settings, workdir) as (a, b):
            yield Cluster(a, b, app, settings, store, product, parties.buyer, throttled, thread_tokens, racer_tokens,
                          draft, seller_token)
    finally:
        with app.app_context():
            db.engine.dispose()
        test_databases.drop(name)
        store.flushdb()
        store.close()


@pytest.fixture
def visitors() -> Iterator[Callable[..., Visitor]]:
    """Make visitors (each from its own address unless told); their connections close after the test."""
    made: list[Visitor] = []

    def make(address: str | None = None, token: str | None = None) -> Visitor:
        visitor = Visitor(address or f"198.51.100.{len(made) + 1}", token=token)
        made.append(visitor)
        return visitor

    yield make
    for visitor in made:
        visitor.close()


def statuses_until_refused(send: Callable[[int], requests.Response], at_most: int) -> list[int]:
    """Send request 0, 1, … until one answers 429 (or ``at_most`` were sent); their statuses."""
    statuses: list[int] = []
    for n in range(at_most):
        statuses.append(send(n).status_code)
        if statuses[-1] == 429:
            break
    return statuses


# ---------------------------------------------------------------------------------------------------- sessions

def test_a_session_made_on_one_instance_is_valid_on_the_other(cluster: Cluster,
                                                              visitors: Callable[..., Visitor]) -> None:
    browser = visitors()
    assert browser.sign_in(cluster.a, cluster.session_user, PASSWORD).status_code == 200
    for instance in (cluster.a, cluster.b):
        me = browser.call(instance, "GET", "/api/v1/me")
        assert me.status_code == 200, (instance.name, me.text)
        assert me.json()["email"] == cluster.session_user

    # The CSRF token issued by A is accepted by B, and signing out on B ends the session everywhere.
    assert browser.call(cluster.b, "POST", "/api/v1/auth/sign-out").status_code == 204
    for instance in (cluster.a, cluster.b):
        assert browser.call(instance, "GET", "/api/v1/me").status_code == 401, instance.name


def test_a_cookie_signed_with_another_key_is_refused_by_both(cluster: Cluster,
                                                           visitors: Callable[..., Visitor]) -> None:
    """The instances trust the one shared SECRET_KEY, not any key: a forged cookie reads nothing on either."""
    browser = visitors()
    assert browser.sign_in(cluster.a, cluster.session_user, PASSWORD).status_code == 200
    contents = cluster.app.session_interface.get_signing_serializer(cluster.app).loads(  # type: ignore[attr-defined]
        browser.cookie)
    forger = Flask("forger")
    forger.secret_key = "another key entirely"
    browser.cookie = forger.session_interface.get_signing_serializer(forger).dumps(  # type: ignore[attr-defined]
        contents)
    for instance in (cluster.a, cluster.b):
        assert browser.call(instance, "GET", "/api/v1/me").status_code == 401, instance.name


def test_a_file_uploaded_through_one_instance_downloads_through_the_other(cluster: Cluster,
                                                                         visitors: Callable[..., Visitor]) -> None:
    seller = visitors(token=cluster.seller_token)
    path = f"/api/v1/listings/{cluster.draft}/attachments"
    uploaded = seller.http.post(cluster.a.url + path, files={"file": ("report.pdf", PDF, "application/pdf")},
                                data={"role": "attachment"}, headers=seller.headers("POST"), timeout=30)
    assert uploaded.status_code == 201, uploaded.text
    download = seller.call(cluster.b, "GET", f"{path}/{uploaded.json()['id']}")
    assert download.status_code == 200 and download.content == PDF


# ------------------------------------------------------------------------------------------------- rate limits

def test_failed_sign_ins_are_counted_once_across_instances(cluster: Cluster,
                                                          visitors: Callable[..., Visitor]) -> None:
    allowed = parse(ProductionConfig.SIGN_IN_LIMIT_PER_ACCOUNT_AND_ADDRESS).amount  # 5 failures per 15 minutes
    alone, alternating = cluster.throttled_accounts
    guesser = visitors()
    on_one = statuses_until_refused(lambda n: guesser.sign_in(cluster.a, alone, f"wrong {n}"), allowed + 3)
    roamer = visitors()
    on_both = statuses_until_refused(
        lambda n: roamer.sign_in((cluster.a, cluster.b)[n % 2], alternating, f"wrong {n}"), allowed + 3)

    assert on_one == [401] * allowed + [429]
    assert on_both == on_one  # not twice as many: the two instances share one count
    for instance in (cluster.a, cluster.b):  # even the right password waits now, on either instance
        refused = roamer.sign_in(instance, alternating, PASSWORD)
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0, instance.name
    assert cluster.store.keys("*sign-in/pair/*"), "the counters are not in the shared Redis"


def test_the_thread_creation_limit_is_shared_across_instances(cluster: Cluster,
                                                              visitors: Callable[..., Visitor]) -> None:
    body = {"listing_id": cluster.product, "body": "请问可以提供试用吗？"}
    first, second = (visitors(token=token) for token in cluster.thread_tokens)
    on_one = statuses_until_refused(lambda n: first.call(cluster.a, "POST", "/api/v1/threads", body),
                                    THREAD_CREATE_LIMIT + 3)
    on_both = statuses_until_refused(
        lambda n: second.call((cluster.b, cluster.a)[n % 2], "POST", "/api/v1/threads", body),
        THREAD_CREATE_LIMIT + 3)

    # The first opens the thread, the next ones find it open (200) and still count; then 429.
    assert on_one == [201] + [200] * (THREAD_CREATE_LIMIT - 1) + [429]
    assert on_both == on_one
    for instance in (cluster.a, cluster.b):
        assert second.call(instance, "POST", "/api/v1/threads", body).status_code == 429, instance.name
    assert cluster.store.keys("*thread-create*"), "the counters are not in the shared Redis"


# ---------------------------------------------------------------------------------------------------- oversell

def race_for_the_last_units(cluster: Cluster) -> list[tuple[str, int, Any]]:
    """Every racer POSTs an order for the product at once (released by a barrier), even ones through A, odd ones
    through B, each on its own connection: (instance, status, body) per racer."""
    barrier = threading.Barrier(len(cluster.racer_tokens))
    results: list[Any] = [None] * len(cluster.racer_tokens)

    def racer(i: int) -> None:
        instance = (cluster.a, cluster.b)[i % 2]
        buyer = Visitor(f"192.0.2.{i + 1}", token=cluster.racer_tokens[i])
        try:
            buyer.call(instance, "GET", "/api/v1/me")  # connect (and warm up) before the barrier
            barrier.wait(timeout=30)
            response = buyer.call(instance, "POST", "/api/v1/orders", {"listing_id": cluster.product, **ORDER})
            results[i] = (instance.name, response.status_code, response.json())
        except Exception as error:  # noqa: BLE001 - reported by the assertion on results
            barrier.abort()
            results[i] = (instance.name, f"error: {type(error).__name__}: {error}", None)
        finally:
            buyer.close()

    threads = [threading.Thread(target=racer, args=(i,), name=f"racer-{i}") for i in range(len(results))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not any(thread.is_alive() for thread in threads), "a racer hung"
    return results


def test_the_last_units_are_never_oversold_across_instances(cluster: Cluster) -> None:
    results = race_for_the_last_units(cluster)

    statuses = Counter(status for _, status, _ in results)
    assert statuses == {201: STOCK, 409: RACERS - STOCK}, results
    assert {name for name, _, _ in results} == {"a", "b"}
    assert all(body["quantity"] == 1 for _, status, body in results if status == 201)
    with cluster.app.app_context():
        stock = db.session.scalar(select(Listing.stock).where(Listing.id == cluster.product))
        taken = db.session.scalar(select(func.count()).select_from(Order)
                                  .where(Order.listing_id == cluster.product))
        db.session.remove()
    assert (stock, taken) == (0, STOCK)

    verdict = subprocess.run([sys.executable, "-m", "flask", "hall", "verify-audit"], cwd=ROOT,
                             env=production_environment(cluster.settings), capture_output=True, text=True,
                             timeout=VERIFY_TIMEOUT_S)
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr
    assert "Audit chain intact" in verdict.stdout
    for instance in (cluster.a, cluster.b):
        assert "Traceback" not in instance.log(), instance.log()[-4000:]
