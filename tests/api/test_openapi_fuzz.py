"""Property-based fuzzing of the JSON API against its own OpenAPI document (schemathesis over WSGI, in-process).

Every operation of /api/v1/openapi.json gets generated requests, valid and invalid ones, twice: from an anonymous
caller, and from the owner of a verified institution with a personal access token (the API's Bearer credential,
which needs no CSRF token). Each (operation, caller) pair is its own pytest test with its own freshly migrated
database (the suite's ``app`` fixture), seeded so that small ids name real rows. Every answer must not be a server
error (5xx) and must match the document: status code, content type, documented headers and body schema.

Deterministic and bounded: a fixed seed, derandomized Hypothesis, MAX_EXAMPLES generated requests per test, no
example database, no deadline. Nothing is tolerated: the first run's findings (undeclared XLSX and stored-file
media types, the upload's multipart body) were fixed in the document, and ``tests/api/test_api_docs.py`` keeps
them fixed. Cites TOOL-01."""
from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from hall.extensions import db
from hall.models import Institution, User
from hall.services.accounts import institutions, sessions
from hall.services.docking import threads
from hall.services.publishing import attachments, listing_review, listings
from hall.services.trading import orders
from tests.conftest import make_app
from tests.support.factories import UserFactory
from tests.support.listing_data import achievement, first_of_kind
from tests.support.listings import PDF
from tests.support.trading import make_parties, publish

OPENAPI_PATH = "/api/v1/openapi.json"
MAX_EXAMPLES = 20  # generated requests per (operation, caller); 110 tests in about a minute on SQLite
SEED = 20240601

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]

CONFIG = schemathesis.Config.from_dict({
    "seed": SEED,
    # "all": schema-valid requests and deliberately invalid ones (wrong types, out-of-range ids, missing fields)
    "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
    # The document has no examples, and the coverage phase's boundary cases (hundreds per operation) do not fit the
    # time budget; stateful runs need links the document does not have.
    "phases": {"examples": {"enabled": False}, "coverage": {"enabled": False}, "fuzzing": {"enabled": True},
               "stateful": {"enabled": False}},
})

# Flask-Limiter's per-hour limits would answer 429 to most of an operation's examples (their 429s are tested in
# test_request_limits.py, test_order_authz.py and test_auth.py); the sign-in throttle (documented) stays as it is.
LIFTED_RATE_LIMITS = ("REGISTRATION_LIMIT", "MAIL_REQUEST_LIMIT", "PASSWORD_CHANGE_LIMIT", "DIRECTORY_LIMIT",
                      "ORDER_CREATE_LIMIT", "PAYMENT_CREATE_LIMIT", "THREAD_CREATE_LIMIT", "THREAD_MESSAGE_LIMIT")

def load_schema() -> Any:
    """The document as the app serves it, read from a throwaway app (serving it touches no table)."""
    docs_app = make_app("sqlite://")
    loaded = schemathesis.openapi.from_wsgi(OPENAPI_PATH, docs_app, config=CONFIG)
    loaded.app = None  # every call names the test's own app (and database); a call without one fails loudly
    return loaded


schema = load_schema()
ROW_IDS = st.sampled_from([1, 2, 3])  # ids the seeded world has rows for (see seed_world)


@schema.hook
def before_generate_path_parameters(context: Any, strategy: Any) -> Any:
    """About half of the generated path ids name rows that exist, so that requests get past the 404 into the views;
    the other half are whatever schemathesis generates (out-of-range and malformed ids included)."""
    names = re.findall(r"{(\w+)}", context.operation.path)
    return st.one_of(strategy, st.fixed_dictionaries({name: ROW_IDS for name in names}))


def seed_world(app: Flask) -> str:
    """A small world whose ids 1-3 are real rows of most kinds; returns the caller's personal access token.

    Institutions 1-4 are verified, each with an owner (users 1-4); user 5 is a platform admin, user 6 a member of
    institution 1. The caller is user 1, owner of institution 1. Listing 1: institution 1's published achievement
    with attachment 1 (a PDF); listing 2: institution 2's published product; listing 3: institution 1's draft.
    Order 1: institution 1 buys listing 2 (the caller is the buyer); order 2: institution 2 buys listing 1 (the
    caller is the seller). Thread 1: institution 1 asks about listing 2 (message 1). Invitation 1: to institution
    1. Token 1: the caller's."""
    with app.app_context():
        parties = make_parties()
        owner, admin = db.session.get(User, parties.seller_id), db.session.get(User, parties.admin_id)
        UserFactory(institution=db.session.get(Institution, parties.seller_org), institution_role="member")
        body = achievement(deal_modes=["transfer", "exclusive_license", "non_exclusive_license"])
        published = listings.create_draft(owner, body.pop("kind"), body)
        attachments.add_attachment(owner, published.id, io.BytesIO(PDF), "report.pdf", "attachment")
        listings.submit_listing(owner, published.id)
        db.session.commit()
        listing_review.decide(admin, published.id, "approve")
        db.session.commit()
        product = publish(parties.buyer_id, parties.admin_id, first_of_kind())
        body = achievement()
        listings.create_draft(owner, body.pop("kind"), body)
        orders.create_order(owner, product, {"deal_mode": "purchase", "quantity": 1, "end_user_declared": True})
        orders.create_order(db.session.get(User, parties.buyer_id), published.id, {"deal_mode": "transfer"})
        threads.open_thread(owner, listing_id=product, body="Is a second unit available?")  # thread 1, message 1
        institutions.invite_member(owner, parties.seller_org, "invitee@example.cn", "member")
        _token, secret = sessions.create_api_token(owner, "fuzz")
        db.session.commit()
        db.session.remove()
    return secret


@pytest.fixture(params=["anonymous", "owner"])
def caller_headers(request: pytest.FixtureRequest, app: Flask, tmp_path: Path) -> dict[str, str]:
    """The seeded test app, and the headers of the caller: nobody, or the owner's ``Authorization: Bearer``."""
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    app.config.update({name: "100000 per hour" for name in LIFTED_RATE_LIMITS})
    secret = seed_world(app)
    return {} if request.param == "anonymous" else {"Authorization": f"Bearer {secret}"}


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None, print_blob=False,
          phases=[Phase.explicit, Phase.generate, Phase.shrink],
          # One database per (operation, caller), shared by its examples: what one example writes (a token, a draft)
          # the next may see, which is fine for these checks.
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_api_conforms_to_its_openapi_document(case: Any, app: Flask, caller_headers: dict[str, str]) -> None:
    # buffered: the test client reads and closes file downloads (send_file) at once, leaving no file open.
    transport = {"app": app, "headers": caller_headers, "buffered": True}
    response = case.call(**transport)
    case.validate_response(response, checks=CHECKS, headers=caller_headers,
                           transport_kwargs=transport)
