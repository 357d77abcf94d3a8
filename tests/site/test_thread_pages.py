"""Enquiry threads on the web front: asking from a public listing page opens the thread and goes to it (the owner's
members see no form, visitors a sign-in link, an unverified institution a note); answering a demand from its page;
the thread list with unread counts (and the navigation badge) that go down once the thread is read; replying with
text and with a file (a refused file is named beside the field); closing; reporting; ordering from the enquiry;
another institution gets 404 and visitors are sent to sign in. Pages in English (and they render in Chinese)."""
from __future__ import annotations

import io
import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update
from werkzeug.test import TestResponse

from hall.extensions import db
from hall.models import User
from tests.support.console import field_errors, flashes, hidden_value, text
from tests.support.listings import PDF
from tests.support.orders import Party
from tests.support.threads import Talk, open_talk, thread_row

HTML = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
def talk(app: Flask) -> Talk:
    """Buyer, seller, their colleagues, a third institution and a demand of the buyer's; pages in English."""
    opened = open_talk(app)
    with app.app_context():
        db.session.execute(update(User).values(locale="en"))
        db.session.commit()
        db.session.remove()
    return opened


def page(party: Party, path: str, status: int = 200) -> str:
    response = party.client.get(path, headers=HTML)
    assert response.status_code == status, f"GET {path} -> {response.status_code}: {text(response)[:1500]}"
    return text(response)


def post(party: Party, path: str, data: dict[str, Any], *, token_from: str, csrf_field: str = "csrf_token",
         multipart: bool = False) -> TestResponse:
    """POST a form as a browser does, with the CSRF token of the page at ``token_from``."""
    fields = {**data, csrf_field: hidden_value(page(party, token_from), csrf_field)}
    return party.client.post(path, data=fields, headers=HTML,
                             content_type="multipart/form-data" if multipart else None)


def ask(talk: Talk, body: str = "Is an exclusive licence possible?", party: Party | None = None) -> TestResponse:
    listing = f"/hall/listings/{talk.listing}"
    return post(party or talk.buyer, f"{listing}/ask", {"subject": "Licence question", "body": body},
                token_from=listing)


def thread_id_of(response: TestResponse) -> int:
    assert response.status_code == 302, text(response)[:2000]
    location = response.headers["Location"]
    assert location.startswith("/workspace/threads/"), location
    return int(location.rstrip("/").split("/")[-1])


def unread_cell(html: str, thread_id: int) -> str:
    row = re.search(rf'<tr class="thr-[a-z]+">\s*<td[^>]*><a href="/workspace/threads/{thread_id}">(.*?)</tr>',
                    html, re.S)
    assert row, html[:3000]
    cell = re.search(r'class="thr-count">(.*?)</td>', row.group(1), re.S)
    assert cell
    return re.sub(r"<[^>]+>", "", cell.group(1)).strip()


def test_asking_from_the_listing_page_opens_the_thread_and_a_second_ask_finds_it(talk: Talk) -> None:
    listing = page(talk.buyer, f"/hall/listings/{talk.listing}")
    assert "Ask the institution" in listing and f'action="/hall/listings/{talk.listing}/ask"' in listing
    thread_id = thread_id_of(ask(talk))
    shown = page(talk.buyer, f"/workspace/threads/{thread_id}")
    assert "Licence question" in shown and "Is an exclusive licence possible?" in shown
    assert "your institution" in shown and "Order from this enquiry" in shown
    second = ask(talk, "Once more")
    assert thread_id_of(second) == thread_id  # the open thread comes back; nothing is added to it
    assert "Once more" not in page(talk.buyer, f"/workspace/threads/{thread_id}")


def test_an_empty_question_is_refused_beside_the_field(talk: Talk) -> None:
    response = ask(talk, body="")
    assert response.status_code == 422
    html = text(response)
    assert field_errors(html, "body") and flashes(html, "error")


def test_the_owner_sees_no_ask_form_visitors_a_sign_in_link_and_unverified_a_note(talk: Talk, app: Flask) -> None:
    own = page(talk.seller, f"/hall/listings/{talk.listing}")
    assert f"/hall/listings/{talk.listing}/ask" not in own and "Ask the institution" not in own
    anonymous = app.test_client().get(f"/hall/listings/{talk.listing}", headers={**HTML, "Accept-Language": "en"})
    assert "Sign in to ask" in text(anonymous) and "/ask" not in text(anonymous)
    in_chinese = app.test_client().get(f"/hall/listings/{talk.listing}", headers=HTML)  # a visitor's default
    assert "登录后咨询" in text(in_chinese)
    unverified = page(talk.unverified, f"/hall/listings/{talk.listing}")
    assert "must be verified" in unverified and f"/hall/listings/{talk.listing}/ask" not in unverified


def test_answering_a_demand_from_its_page(talk: Talk) -> None:
    path = f"/demands/{talk.demand}"
    shown = page(talk.seller, path)
    assert "Answer this demand" in shown
    response = post(talk.seller, f"{path}/answer", {"subject": "", "body": "We make such separators."},
                    token_from=path)
    thread = page(talk.seller, f"/workspace/threads/{thread_id_of(response)}")
    assert "We make such separators." in thread and "Order from this enquiry" not in thread
    assert "Answer this demand" not in page(talk.buyer, path)  # the demand's own institution


def test_the_unread_count_goes_down_once_the_thread_is_read(talk: Talk) -> None:
    thread_id = thread_id_of(ask(talk))
    threads = page(talk.seller, "/workspace/threads")
    assert unread_cell(threads, thread_id) == "1"
    assert re.search(r'href="/workspace/threads"[^>]*>Messages <span class="nav-badge"[^>]*>1</span>', threads)
    assert f"/workspace/threads/{thread_id}" in page(talk.seller, "/workspace/threads?show=unread")
    page(talk.seller, f"/workspace/threads/{thread_id}")
    after = page(talk.seller, "/workspace/threads")
    assert unread_cell(after, thread_id) == "0" and ">Messages</a>" in after
    assert f"/workspace/threads/{thread_id}" not in page(talk.seller, "/workspace/threads?show=unread")
    assert unread_cell(page(talk.seller_colleague, "/workspace/threads"), thread_id) == "1"  # per person


def test_replying_with_text_and_with_a_file_and_a_refused_file_beside_the_field(talk: Talk) -> None:
    thread_id = thread_id_of(ask(talk))
    path = f"/workspace/threads/{thread_id}"
    sent = post(talk.seller, f"{path}/messages", {"body": "Yes, exclusive licences are possible."}, token_from=path,
                multipart=True)
    assert sent.status_code == 302
    with_file = post(talk.seller, f"{path}/messages", {"body": "", "file": (io.BytesIO(PDF), "terms.pdf")},
                     token_from=path, multipart=True)
    assert with_file.status_code == 302
    shown = page(talk.buyer, path)
    assert "Yes, exclusive licences are possible." in shown and "terms.pdf" in shown
    link = re.search(rf'href="({path}/messages/\d+/file)"', shown)
    assert link
    with talk.buyer.client.get(link.group(1)) as download:
        assert download.status_code == 200 and download.data == PDF
    with talk.outsider.client.get(link.group(1), headers=HTML) as refused:
        assert refused.status_code == 404
    bad = post(talk.seller, f"{path}/messages", {"body": "", "file": (io.BytesIO(b"plain words"), "notes.txt")},
               token_from=path, multipart=True)
    assert bad.status_code == 422
    assert field_errors(text(bad), "file")
    empty = post(talk.seller, f"{path}/messages", {"body": ""}, token_from=path, multipart=True)
    assert empty.status_code == 422 and field_errors(text(empty), "body")


def test_closing_the_thread_stops_replies(talk: Talk) -> None:
    thread_id = thread_id_of(ask(talk))
    path = f"/workspace/threads/{thread_id}"
    closed = post(talk.seller, f"{path}/close", {}, token_from=path)
    assert closed.status_code == 302 and thread_row(talk.market.app, thread_id)["status"] == "closed"
    shown = page(talk.buyer, path)
    assert "This thread is closed" in shown and f'action="{path}/messages"' not in shown
    token = hidden_value(shown, "csrf_token")
    late = talk.buyer.client.post(f"{path}/messages", data={"body": "Hello?", "csrf_token": token}, headers=HTML)
    assert late.status_code == 409 and flashes(text(late), "error")
    assert f"/workspace/threads/{thread_id}" in page(talk.buyer, "/workspace/threads?show=closed")
    assert f"/workspace/threads/{thread_id}" not in page(talk.buyer, "/workspace/threads?show=open")


def test_reporting_the_thread(talk: Talk) -> None:
    thread_id = thread_id_of(ask(talk))
    path = f"/workspace/threads/{thread_id}"
    empty = post(talk.seller, f"{path}/report", {"report-reason": ""}, token_from=path,
                 csrf_field="report-csrf_token")
    assert empty.status_code == 422 and field_errors(text(empty), "report-reason")
    reported = post(talk.seller, f"{path}/report", {"report-reason": "Spam"}, token_from=path,
                    csrf_field="report-csrf_token")
    assert reported.status_code == 302
    assert thread_row(talk.market.app, thread_id)["report_reason"] == "Spam"
    assert "Reported to the platform" in page(talk.seller, path)


def test_ordering_from_the_enquiry(talk: Talk) -> None:
    thread_id = thread_id_of(ask(talk))
    path = f"/workspace/threads/{thread_id}"
    assert "Order from this enquiry" not in page(talk.seller, path)  # the seller does not buy its own listing
    refused = post(talk.buyer, f"{path}/order", {"order-deal_mode": "no_such_mode"}, token_from=path,
                   csrf_field="order-csrf_token")
    assert refused.status_code == 422 and field_errors(text(refused), "order-deal_mode")
    ordered = post(talk.buyer, f"{path}/order", {"order-deal_mode": "transfer"}, token_from=path,
                   csrf_field="order-csrf_token")
    assert ordered.status_code == 302 and ordered.headers["Location"].startswith("/workspace/orders/")
    assert thread_row(talk.market.app, thread_id)["order_id"] is not None
    assert "The order started from this enquiry" in page(talk.buyer, path)


def test_another_institution_gets_404_and_visitors_go_to_sign_in(talk: Talk, app: Flask) -> None:
    thread_id = thread_id_of(ask(talk))
    path = f"/workspace/threads/{thread_id}"
    page(talk.outsider, path, status=404)
    assert f"/workspace/threads/{thread_id}" not in page(talk.outsider, "/workspace/threads")
    token = hidden_value(page(talk.outsider, "/workspace/threads"), "csrf_token")
    for action in ("close", "messages", "report"):
        refused = talk.outsider.client.post(f"{path}/{action}", data={"csrf_token": token, "body": "x"},
                                            headers=HTML)
        assert refused.status_code == 404, action
    assert thread_row(app, thread_id)["status"] == "open"
    anonymous = app.test_client().get(path, headers=HTML)
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/sign-in")


def test_the_pages_render_in_chinese(talk: Talk, app: Flask) -> None:
    thread_id = thread_id_of(ask(talk))
    with app.app_context():
        db.session.execute(update(User).values(locale="zh_CN"))
        db.session.commit()
        db.session.remove()
    for path in ("/workspace/threads", f"/workspace/threads/{thread_id}", f"/hall/listings/{talk.listing}"):
        response = talk.seller.client.get(path, headers=HTML)
        assert response.status_code == 200, path
        assert '<html lang="zh-CN"' in text(response) or 'lang="zh' in text(response)


def test_replies_share_the_apis_message_budget(talk: Talk, app: Flask) -> None:
    thread_id = thread_id_of(ask(talk))
    path = f"/workspace/threads/{thread_id}"
    app.config["THREAD_MESSAGE_LIMIT"] = "2 per hour"
    assert talk.seller.post(f"/api/v1/threads/{thread_id}/messages", {"body": "By the API"}).status_code == 201
    assert post(talk.seller, f"{path}/messages", {"body": "By the page"}, token_from=path).status_code == 302
    third = post(talk.seller, f"{path}/messages", {"body": "One too many"}, token_from=path)
    assert third.status_code == 429
    assert "One too many" not in page(talk.buyer, path)


def test_a_thread_about_a_demand_offers_no_order_and_refuses_one(talk: Talk) -> None:
    path = f"/demands/{talk.demand}"
    answered = post(talk.seller, f"{path}/answer", {"body": "We can help."}, token_from=path)
    thread = f"/workspace/threads/{thread_id_of(answered)}"
    assert "Order from this enquiry" not in page(talk.seller, thread)
    refused = post(talk.seller, f"{thread}/order", {"order-deal_mode": "transfer"}, token_from=thread,
                   csrf_field="csrf_token")
    assert refused.status_code == 409 and any("threads about a listing" in m for m in flashes(text(refused)))
