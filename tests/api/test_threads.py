"""Enquiry threads (issue 12): a buyer asks about a listing, a seller answers a demand; the thread belongs to the
two institutions (AUTHZ-01 both ways: no third institution, no anonymous caller, no admin until a party reports
it), messages go both ways with per-person unread counts and files checked as listing attachments are (FILE-01),
either party closes it, new threads and messages are throttled per person (RATE-01), and the asking institution
can start an order from a thread about a listing."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from hall.extensions import db
from hall.models import AuditEvent, Order, ThreadMessage
from tests.support.listings import PDF, PNG, download
from tests.support.orders import MISSING, Party, app_with
from tests.support.threads import (
    THREADS,
    Talk,
    events,
    notifications_of,
    open_talk,
    open_thread,
    send_file,
    started,
    thread_row,
    unread_of,
    user_id_of,
    write,
)

TEXT = b"This is plain text, not a PDF at all.\n" * 4


@pytest.fixture
def talk(app: Flask, tmp_path: Path) -> Talk:
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    return open_talk(app)


def message_count(app: Flask) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(ThreadMessage))
        db.session.remove()
    return int(count or 0)


# --- opening --------------------------------------------------------------------------------------------------------

def test_a_buyer_opens_a_thread_on_a_listing_and_the_sellers_members_are_told(app: Flask, talk: Talk) -> None:
    response = open_thread(talk.buyer, talk.listing, body="请问是否支持独家许可？")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["about"] == "listing" and body["listing_id"] == talk.listing and body["demand_id"] is None
    assert body["status"] == "open" and body["side"] == "opener" and body["unread_count"] == 0
    assert body["opener"]["id"] == talk.market.parties.buyer_org
    assert body["counterpart"]["id"] == talk.market.parties.seller_org
    assert body["subject"]  # the listing's title when none is given
    assert [m["body"] for m in body["messages"]] == ["请问是否支持独家许可？"]
    assert body["messages"][0]["side"] == "opener" and body["messages"][0]["attachment"] is None
    link = f"/workspace/threads/{body['id']}"
    for seller in (talk.market.parties.seller_id, talk.seller_colleague_id):
        told = notifications_of(app, seller, "thread.opened")
        assert len(told) == 1 and told[0]["group"] == "messages" and told[0]["link"] == link
        assert told[0]["title_en"].startswith("New enquiry") and "asked about your listing" in told[0]["body_en"]
        assert told[0]["body_en"].startswith("Test Institute")  # the asking institution, by name
    assert notifications_of(app, talk.market.parties.buyer_id, "thread.opened") == []  # the author is never told
    assert notifications_of(app, talk.buyer_colleague_id, "thread.opened") == []
    assert events(app, "thread.open") == 1


def test_a_subject_can_be_given(talk: Talk) -> None:
    response = open_thread(talk.buyer, talk.listing, subject="  Licence terms for Guangdong  ")
    assert response.status_code == 201 and response.get_json()["subject"] == "Licence terms for Guangdong"


def test_opening_again_returns_the_open_thread_until_it_is_closed(app: Flask, talk: Talk) -> None:
    first = started(talk.buyer, talk.listing)
    again = open_thread(talk.buyer, talk.listing, body="Anyone there?")
    assert again.status_code == 200 and again.get_json()["id"] == first
    colleague = open_thread(talk.buyer_colleague, talk.listing)  # the same institution: the same thread
    assert colleague.status_code == 200 and colleague.get_json()["id"] == first
    assert message_count(app) == 1  # nothing was added by opening again
    other_buyer = started(talk.market.buyer_b, talk.listing)  # another institution has its own thread
    assert other_buyer != first
    assert talk.buyer.post(f"{THREADS}/{first}/close").status_code == 200
    assert started(talk.buyer, talk.listing) not in (first, other_buyer)  # a closed thread makes room for a new one


def test_an_institution_does_not_enquire_about_its_own_listing(app: Flask, talk: Talk) -> None:
    response = open_thread(talk.seller, talk.listing)
    assert response.status_code == 422 and "listing_id" in response.get_json()["errors"]
    assert message_count(app) == 0


def test_only_members_of_verified_institutions_open_threads(app: Flask, talk: Talk) -> None:
    assert open_thread(talk.unverified, talk.listing).status_code == 403
    assert open_thread(talk.loner, talk.listing).status_code == 403
    anonymous = talk.market.app.test_client().post(THREADS, json={"listing_id": talk.listing, "body": "hi"})
    assert anonymous.status_code == 401
    assert message_count(app) == 0


@pytest.mark.parametrize(("payload", "field"), [
    ({"body": "hi"}, "listing_id"),  # neither a listing nor a demand
    ({"listing_id": 1, "demand_id": 1, "body": "hi"}, "listing_id"),  # both
    ({"listing_id": 1}, "body"),
    ({"listing_id": 1, "body": ""}, "body"),
    ({"listing_id": 1, "body": "x" * 10_001}, "body"),
    ({"listing_id": 1, "body": "hi", "subject": "s" * 201}, "subject"),
    ({"listing_id": "1", "body": "hi"}, "listing_id"),
    ({"listing_id": 1, "body": "hi", "opener_institution_id": 3}, "opener_institution_id"),  # AUTHZ-03
])
def test_bad_input_names_the_field(talk: Talk, payload: dict[str, Any], field: str) -> None:
    response = talk.buyer.post(THREADS, payload)
    assert response.status_code == 422 and field in response.get_json()["errors"], response.get_json()


def test_a_listing_that_is_not_in_the_hall_is_404(talk: Talk) -> None:
    assert open_thread(talk.buyer, MISSING).status_code == 404
    assert open_thread(talk.buyer, demand_id=MISSING).status_code == 404


def test_a_seller_answers_a_demand_and_the_demanding_institution_is_told(app: Flask, talk: Talk) -> None:
    response = open_thread(talk.seller, demand_id=talk.demand, body="我们的固态隔膜已中试，可以满足。")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["about"] == "demand" and body["demand_id"] == talk.demand and body["listing_id"] is None
    assert body["opener"]["id"] == talk.market.parties.seller_org  # the answering side asks
    assert body["counterpart"]["id"] == talk.market.parties.buyer_org
    told = notifications_of(app, talk.market.parties.buyer_id, "thread.opened")
    assert len(told) == 1 and told[0]["title_en"].startswith("An answer to your demand")
    again = open_thread(talk.seller_colleague, demand_id=talk.demand)
    assert again.status_code == 200 and again.get_json()["id"] == body["id"]
    own = open_thread(talk.buyer, demand_id=talk.demand)  # the demanding institution does not answer itself
    assert own.status_code == 422 and "demand_id" in own.get_json()["errors"]
    assert open_thread(talk.unverified, demand_id=talk.demand).status_code == 403


# --- messages and unread counts -----------------------------------------------------------------------------------

def test_messages_go_both_ways_with_unread_counts_per_person(app: Flask, talk: Talk) -> None:
    tid = started(talk.buyer, talk.listing)
    assert unread_of(talk.buyer, tid) == 0  # one's own messages never count
    assert unread_of(talk.seller, tid) == 1 and unread_of(talk.seller_colleague, tid) == 1

    read = talk.seller.get(f"{THREADS}/{tid}")
    assert read.status_code == 200 and read.get_json()["unread_count"] == 1 and read.get_json()["side"] == "counterpart"
    assert unread_of(talk.seller, tid) == 0
    assert unread_of(talk.seller_colleague, tid) == 1  # per person: a colleague's reading is not mine

    answer = write(talk.seller, tid, "可以，独家许可价格另议。")
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["side"] == "counterpart"
    assert answer.get_json()["author_id"] == talk.market.parties.seller_id
    assert unread_of(talk.buyer, tid) == 1 and unread_of(talk.buyer_colleague, tid) == 1
    # what one's own institution writes never counts as unread
    assert unread_of(talk.seller, tid) == 0 and unread_of(talk.seller_colleague, tid) == 1
    assert write(talk.buyer_colleague, tid, "谢谢，我们内部讨论。").status_code == 201
    assert unread_of(talk.buyer, tid) == 1 and unread_of(talk.seller_colleague, tid) == 2

    page = talk.buyer.get(f"{THREADS}/{tid}").get_json()
    assert [m["side"] for m in page["messages"]] == ["opener", "counterpart", "opener"]
    assert page["unread_count"] == 1 and unread_of(talk.buyer, tid) == 0

    unread_only = talk.seller.get(THREADS, query_string={"unread": "true"}).get_json()
    assert [t["id"] for t in unread_only] == [tid]
    assert talk.buyer.get(THREADS, query_string={"unread": "true"}).get_json() == []

    told = notifications_of(app, talk.market.parties.buyer_id, "thread.message")
    assert len(told) == 1 and told[0]["link"] == f"/workspace/threads/{tid}"  # the seller's answer
    assert len(notifications_of(app, talk.market.parties.seller_id, "thread.message")) == 1  # the colleague's
    assert notifications_of(app, talk.buyer_colleague_id, "thread.message") == [told[0]]  # not their own
    assert events(app, "thread.message") == 2


def test_the_list_is_filtered_and_paged(talk: Talk) -> None:
    on_listing = started(talk.buyer, talk.listing)
    on_product = started(talk.buyer, talk.market.product)
    on_demand = started(talk.seller, demand_id=talk.demand)
    everything = talk.buyer.get(THREADS)
    assert [t["id"] for t in everything.get_json()] == [on_demand, on_product, on_listing]  # latest first
    assert json.loads(everything.headers["X-Pagination"])["total"] == 3
    assert [t["id"] for t in talk.buyer.get(THREADS, query_string={"listing_id": talk.listing}).get_json()] \
        == [on_listing]
    assert [t["id"] for t in talk.buyer.get(THREADS, query_string={"demand_id": talk.demand}).get_json()] \
        == [on_demand]
    second = talk.buyer.get(THREADS, query_string={"page": 2, "page_size": 2})
    assert [t["id"] for t in second.get_json()] == [on_listing]
    assert talk.buyer.post(f"{THREADS}/{on_product}/close").status_code == 200
    closed = talk.buyer.get(THREADS, query_string={"status": "closed"}).get_json()
    assert [t["id"] for t in closed] == [on_product]
    assert talk.outsider.get(THREADS).get_json() == [] and talk.loner.get(THREADS).get_json() == []
    assert talk.buyer.get(THREADS, query_string={"colour": "red"}).status_code == 422


def test_a_message_needs_a_body(talk: Talk) -> None:
    tid = started(talk.buyer, talk.listing)
    for payload in ({}, {"body": ""}, {"body": "   "}, {"body": "x" * 10_001}):
        response = talk.buyer.post(f"{THREADS}/{tid}/messages", payload)
        assert response.status_code == 422 and "body" in response.get_json()["errors"], payload


# --- files --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("content", "name", "mime"), [(PDF, "报价单.pdf", "application/pdf"),
                                                      (PNG, "diagram.png", "image/png")])
def test_a_file_is_sent_and_only_the_parties_download_it(talk: Talk, content: bytes, name: str, mime: str) -> None:
    tid = started(talk.buyer, talk.listing)
    response = send_file(talk.seller, tid, content, name, body="附件为报价单")
    assert response.status_code == 201, response.get_json()
    message = response.get_json()
    assert message["body"] == "附件为报价单"
    assert message["attachment"]["filename"] == name and message["attachment"]["content_type"] == mime
    assert message["attachment"]["size"] == len(content)
    path = f"{THREADS}/{tid}/messages/{message['id']}/attachment"
    for party in (talk.buyer, talk.buyer_colleague, talk.seller, talk.seller_colleague):
        status, headers, data = download(party.client, path)
        assert status == 200 and data == content
        assert headers["Content-Type"].startswith(mime) and headers["Content-Disposition"].startswith("attachment")
    for party in (talk.outsider, talk.unverified, talk.loner, talk.admin):
        assert party.get(path).status_code == 404
    assert talk.market.app.test_client().get(path).status_code == 401
    text_only = write(talk.buyer, tid).get_json()["id"]
    assert talk.buyer.get(f"{THREADS}/{tid}/messages/{text_only}/attachment").status_code == 404
    other = started(talk.market.buyer_b, talk.listing)  # a message id of another thread is not this thread's
    assert talk.market.buyer_b.get(f"{THREADS}/{other}/messages/{message['id']}/attachment").status_code == 404
    assert send_file(talk.buyer, tid, PDF, "only-a-file.pdf").status_code == 201  # the text is optional


@pytest.mark.parametrize(("content", "name", "status"), [
    (TEXT, "quote.pdf", 422),  # judged by content, not by name
    (PNG, "quote.pdf", 422),  # an image named as a PDF
    (PDF, "quote.exe", 422),
    (b"", "empty.pdf", 422),
])
def test_a_file_is_refused_by_its_content(app: Flask, talk: Talk, content: bytes, name: str, status: int) -> None:
    tid = started(talk.buyer, talk.listing)
    response = send_file(talk.buyer, tid, content, name, body="see attached")
    assert response.status_code == status and "file" in response.get_json()["errors"], response.get_json()
    assert message_count(app) == 1


def test_a_file_over_the_limit_is_413(app: Flask, talk: Talk) -> None:
    tid = started(talk.buyer, talk.listing)
    app.config["UPLOAD_MAX_BYTES"] = 64
    response = send_file(talk.buyer, tid, PDF + b"%" * 100, "big.pdf")
    assert response.status_code == 413 and response.is_json
    assert message_count(app) == 1


# --- who may read and write (AUTHZ-01) -----------------------------------------------------------------------------

def _calls(tid: int, mid: int) -> list[tuple[str, str, Any]]:
    return [("GET", f"{THREADS}/{tid}", None),
            ("POST", f"{THREADS}/{tid}/messages", {"body": "hello"}),
            ("GET", f"{THREADS}/{tid}/messages/{mid}/attachment", None),
            ("POST", f"{THREADS}/{tid}/report", {"reason": "spam"}),
            ("POST", f"{THREADS}/{tid}/order", {"deal_mode": "transfer"}),
            ("POST", f"{THREADS}/{tid}/close", None)]


def _call(party: Party, method: str, path: str, body: Any) -> int:
    return int((party.get(path) if method == "GET" else party.post(path, body)).status_code)


@pytest.mark.parametrize("who", ["outsider", "unverified", "loner", "admin"])
def test_nobody_but_the_two_institutions_reaches_a_thread(app: Flask, talk: Talk, who: str) -> None:
    tid = started(talk.buyer, talk.listing)
    mid = send_file(talk.seller, tid, PDF, "offer.pdf").get_json()["id"]
    before = thread_row(app, tid), message_count(app)
    for method, path, body in _calls(tid, mid):
        assert _call(getattr(talk, who), method, path, body) == 404, (who, method, path)
        anonymous = talk.market.app.test_client().open(path, method=method, json=body)
        assert anonymous.status_code == 401, path
    assert (thread_row(app, tid), message_count(app)) == before
    assert tid not in [t["id"] for t in getattr(talk, who).get(THREADS).get_json()]


@pytest.mark.parametrize("who", ["buyer", "buyer_colleague", "seller", "seller_colleague"])
def test_both_institutions_members_read_and_write(talk: Talk, who: str) -> None:
    tid = started(talk.buyer, talk.listing)
    party = getattr(talk, who)
    assert party.get(f"{THREADS}/{tid}").status_code == 200
    assert write(party, tid).status_code == 201
    assert tid in [t["id"] for t in party.get(THREADS).get_json()]


def test_the_seller_side_also_opens_threads_that_the_buyer_side_reads(talk: Talk) -> None:
    tid = started(talk.seller, demand_id=talk.demand)
    assert talk.buyer_colleague.get(f"{THREADS}/{tid}").status_code == 200
    assert talk.outsider.get(f"{THREADS}/{tid}").status_code == 404
    assert talk.market.buyer_b.get(f"{THREADS}/{tid}").status_code == 404


# --- reports: the only way an admin reads a thread -----------------------------------------------------------------

def test_an_admin_reads_a_thread_only_after_a_party_reports_it(app: Flask, talk: Talk) -> None:
    tid = started(talk.buyer, talk.listing)
    quiet = started(talk.market.buyer_b, talk.listing)
    mid = send_file(talk.buyer, tid, PDF, "spam.pdf").get_json()["id"]
    reported_file = f"{THREADS}/reported/{tid}/messages/{mid}/attachment"
    assert talk.admin.get(f"{THREADS}/reported/{tid}").status_code == 404
    assert talk.admin.get(reported_file).status_code == 404
    assert talk.admin.get(f"{THREADS}/reported").get_json() == []

    report = talk.seller_colleague.post(f"{THREADS}/{tid}/report", {"reason": "推销无关产品"})
    assert report.status_code == 200 and report.get_json()["reported"] is True
    assert "report_reason" not in report.get_json()  # the reason is for the platform
    assert talk.buyer.get(f"{THREADS}/{tid}").get_json()["reported"] is True  # both sides know admins may read it

    listed = talk.admin.get(f"{THREADS}/reported")
    assert [t["id"] for t in listed.get_json()] == [tid] and listed.get_json()[0]["report_reason"] == "推销无关产品"
    shown = talk.admin.get(f"{THREADS}/reported/{tid}")
    assert shown.status_code == 200 and len(shown.get_json()["messages"]) == 2
    assert shown.get_json()["reported_by_id"] == talk.seller_colleague_id
    assert download(talk.admin.client, reported_file)[2] == PDF
    assert talk.admin.get(f"{THREADS}/reported/{quiet}").status_code == 404  # never the unreported ones
    assert talk.admin.get(f"{THREADS}/{tid}").status_code == 404  # not a party: the console's view only
    assert write(talk.admin, tid).status_code == 404
    assert events(app, "thread.report") == 1 and events(app, "thread.admin_read") == 1
    assert events(app, "thread.admin_file") == 1

    for party in (talk.buyer, talk.seller, talk.outsider):  # the console's list is for admins only
        assert party.get(f"{THREADS}/reported").status_code == 403
        assert party.get(f"{THREADS}/reported/{tid}").status_code == 403
    assert talk.market.app.test_client().get(f"{THREADS}/reported/{tid}").status_code == 401


def test_a_report_needs_a_reason_and_is_made_once(talk: Talk) -> None:
    tid = started(talk.buyer, talk.listing)
    for payload in ({}, {"reason": ""}, {"reason": "x" * 2001}):
        response = talk.seller.post(f"{THREADS}/{tid}/report", payload)
        assert response.status_code == 422 and "reason" in response.get_json()["errors"]
    assert talk.seller.post(f"{THREADS}/{tid}/report", {"reason": "spam"}).status_code == 200
    assert talk.buyer.post(f"{THREADS}/{tid}/report", {"reason": "spam too"}).status_code == 409


# --- closing (the thread machine) ----------------------------------------------------------------------------------

@pytest.mark.parametrize("closer", ["buyer", "seller_colleague"])
def test_either_party_closes_and_a_closed_thread_takes_no_messages(app: Flask, talk: Talk, closer: str) -> None:
    tid = started(talk.buyer, talk.listing)
    closed = getattr(talk, closer).post(f"{THREADS}/{tid}/close")
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"
    assert closed.get_json()["closed_at"]
    assert getattr(talk, closer).post(f"{THREADS}/{tid}/close").status_code == 409
    assert write(talk.seller, tid).status_code == 409
    assert send_file(talk.buyer, tid, PDF, "late.pdf").status_code == 409
    assert talk.buyer.post(f"{THREADS}/{tid}/order", {"deal_mode": "transfer"}).status_code == 409
    assert talk.buyer.get(f"{THREADS}/{tid}").status_code == 200  # still readable
    with app.app_context():
        moves = db.session.execute(select(AuditEvent.from_state, AuditEvent.to_state)
                                   .where(AuditEvent.action == "thread.close")).all()
        db.session.remove()
    assert [tuple(m) for m in moves] == [("open", "closed")]


# --- orders from threads ----------------------------------------------------------------------------------------------

def test_the_asking_institution_orders_from_a_listing_thread(app: Flask, talk: Talk) -> None:
    tid = started(talk.buyer, talk.listing)
    response = talk.buyer_colleague.post(f"{THREADS}/{tid}/order", {"deal_mode": "transfer", "note": "按沟通结果"})
    assert response.status_code == 201, response.get_json()
    order = response.get_json()["order"]
    assert order["listing_id"] == talk.listing and order["amount"] == 500_000_00
    assert response.get_json()["thread"]["order_id"] == order["id"]
    assert thread_row(app, tid)["order_id"] == order["id"]
    assert talk.buyer.get(f"/api/v1/orders/{order['id']}").status_code == 200
    again = talk.buyer.post(f"{THREADS}/{tid}/order", {"deal_mode": "transfer", "note": "按沟通结果"})
    assert again.status_code == 200 and again.get_json()["order"]["id"] == order["id"]
    assert events(app, "thread.order") == 1

    seller = talk.seller.post(f"{THREADS}/{tid}/order", {"deal_mode": "transfer"})
    assert seller.status_code == 403  # the seller does not buy its own listing
    sneaky = talk.buyer.post(f"{THREADS}/{tid}/order", {"deal_mode": "transfer", "listing_id": talk.market.product})
    assert sneaky.status_code == 422 and "listing_id" in sneaky.get_json()["errors"]
    bad = talk.buyer.post(f"{THREADS}/{tid}/order", {"deal_mode": "purchase"})
    assert bad.status_code == 422  # the trading rules decide what may be ordered

    on_demand = started(talk.seller, demand_id=talk.demand)
    assert talk.seller.post(f"{THREADS}/{on_demand}/order", {"deal_mode": "transfer"}).status_code == 409
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 1
        db.session.remove()


# --- RATE-01 ----------------------------------------------------------------------------------------------------------

def test_new_threads_and_messages_are_throttled_per_person(database_url: str, tmp_path: Path) -> None:
    with app_with(database_url, THREAD_CREATE_LIMIT="2 per hour", THREAD_MESSAGE_LIMIT="3 per hour",
                  UPLOAD_DIR=str(tmp_path)) as app:
        talk = open_talk(app)
        tid = started(talk.buyer, talk.listing)
        started(talk.buyer, talk.market.product)
        throttled = open_thread(talk.buyer, talk.market.negotiable)
        assert throttled.status_code == 429 and throttled.is_json and throttled.get_json()["status"] == 429
        assert int(throttled.headers["Retry-After"]) > 0
        assert open_thread(talk.buyer_colleague, talk.market.negotiable).status_code == 201  # per person
        for _ in range(3):
            assert write(talk.buyer, tid).status_code == 201
        assert write(talk.buyer, tid).status_code == 429
        assert send_file(talk.buyer, tid, PDF, "x.pdf").status_code == 429  # files count as messages
        assert write(talk.seller, tid).status_code == 201  # the other side is not throttled by my spam
        assert user_id_of(app, talk.buyer.email) == talk.market.parties.buyer_id
