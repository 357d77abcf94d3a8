"""Refusals in the caller's language (issue 11): the API honours Accept-Language for its error messages, a signed-in
person without the header gets their own language, everyone else Chinese; the services' own sentences, the
schemas' field messages and marshmallow's messages all come out translated."""
from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.factories import make_people, sign_in
from tests.support.orders import MISSING, ORDERS, Market

CJK = re.compile(r"[\u4e00-\u9fff]")
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
EN = {"Accept-Language": "en-US,en;q=0.9"}


def chinese(text: str) -> bool:
    """Written in Chinese: Chinese characters and no run of three English words."""
    return bool(CJK.search(text)) and not re.search(r"[A-Za-z]+ [A-Za-z]+ [A-Za-z]+", text)


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def test_a_service_refusal_follows_accept_language(market: Market) -> None:
    too_many = {"listing_id": market.product, "deal_mode": "purchase", "quantity": market.stock + 1,
                "end_user_declared": True}
    english = problem(market.buyer.post(ORDERS, too_many, headers=EN), 409)["message"]
    assert english == f"Not enough stock: {market.stock + 1} asked, {market.stock} left."
    in_chinese = problem(market.buyer.post(ORDERS, too_many, headers=ZH), 409)["message"]
    assert chinese(in_chinese) and str(market.stock) in in_chinese, in_chinese


def test_not_found_and_sign_in_refusals_are_translated(client: FlaskClient, market: Market) -> None:
    assert problem(market.buyer.get(f"{ORDERS}/{MISSING}", headers=EN), 404)["message"] == "No such order."
    assert chinese(problem(market.buyer.get(f"{ORDERS}/{MISSING}", headers=ZH), 404)["message"])
    assert chinese(problem(client.get("/api/v1/me", headers=ZH), 401)["message"])
    assert problem(client.get("/api/v1/me", headers=EN), 401)["message"].startswith("Sign in first")
    assert chinese(problem(client.get("/api/v1/no-such-thing", headers=ZH), 404)["message"])


def test_without_the_header_a_visitor_gets_chinese_and_a_person_their_own_language(app: Flask,
                                                                                  client: FlaskClient) -> None:
    client.environ_base.pop("HTTP_ACCEPT_LANGUAGE")  # this client sends no Accept-Language at all
    assert chinese(problem(client.get("/api/v1/me"), 401)["message"])
    with app.app_context():
        people = make_people()
    csrf = sign_in(client, people["owner"])
    assert client.patch("/api/v1/me", json={"locale": "en"}, headers={"X-CSRFToken": csrf}).status_code == 200
    assert problem(client.get(f"{ORDERS}/{MISSING}"), 404)["message"] == "No such order."
    # an explicit header wins for the API: the client asked for this answer's language
    assert chinese(problem(client.get(f"{ORDERS}/{MISSING}", headers=ZH), 404)["message"])


@pytest.mark.parametrize("body,field", [
    ({"email": 5, "password": "x"}, "email"),  # marshmallow: not a valid string
    ({"password": "x"}, "email"),  # marshmallow: missing data for required field
    ({"email": "a@b.cn", "password": "x", "remember": True}, "remember"),  # unknown field
])
def test_field_messages_of_the_schemas_are_translated(client: FlaskClient, body: dict[str, Any], field: str) -> None:
    english = problem(client.post("/api/v1/auth/sign-in", json=body, headers=EN), 422)
    in_chinese = problem(client.post("/api/v1/auth/sign-in", json=body, headers=ZH), 422)
    assert not CJK.search(english["errors"][field][0])
    assert chinese(in_chinese["errors"][field][0]), in_chinese
    assert chinese(in_chinese["message"].split(" ")[0])  # "请修改 errors 中列出的字段。…" names the field after


def test_a_length_limit_keeps_its_numbers_in_translation(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        people = make_people()
    csrf = sign_in(client, people["owner"])
    response = client.patch("/api/v1/me", json={"display_name": "名" * 500}, headers={"X-CSRFToken": csrf, **ZH})
    message = problem(response, 422)["errors"]["display_name"][0]
    assert chinese(message) and re.search(r"\d", message), message


def test_our_own_field_rules_are_translated(market: Market) -> None:
    response = market.buyer.post(ORDERS, {"listing_id": market.product, "deal_mode": "purchase", "quantity": 0,
                                          "end_user_declared": True}, headers=ZH)
    body = problem(response, 422)
    assert all(chinese(message) for messages in body["errors"].values() for message in messages), body
