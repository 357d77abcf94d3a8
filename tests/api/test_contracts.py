"""Technical-contract registration records (技术合同认定登记): a record appears in the transaction that completes an
order, whichever way it completes (the buyer's confirmation, the clock), with snapshots of the parties that a later
rename does not touch; a product sale is a sales contract; the seller alone sets the technology-transaction amount
(never above the amount net of refunds, with a reason when lower) and the registration number and date, guarded by
the ETag; other institutions get 404; orders completed before the feature are recorded by the command and lazily."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update

from hall.extensions import db
from hall.models import AuditEvent, Institution
from hall.models.contracts import ContractRecord
from hall.models.types import utcnow
from hall.services.trading import closing, disputes
from tests.support.contracts import CONTRACTS, complete_licence, record_of
from tests.support.orders import (
    ORDERS,
    Market,
    as_admin,
    buy_product,
    count,
    deliver_and_confirm,
    pay_by_card,
    read,
    refund,
)


def _patch(party: Any, record_id: int, body: dict[str, Any], etag: str | None = "read") -> Any:
    headers = {"X-CSRFToken": party.csrf}
    if etag == "read":
        headers["If-Match"] = party.get(f"{CONTRACTS}/{record_id}").headers["ETag"]
    elif etag is not None:
        headers["If-Match"] = etag
    return party.client.patch(f"{CONTRACTS}/{record_id}", json=body, headers=headers)


def test_the_buyers_confirmation_records_the_contract_with_snapshots_of_the_parties(market: Market) -> None:
    order_id = complete_licence(market)
    record = record_of(market, order_id)
    assert record is not None
    names = read(market.app, lambda: {org.id: (org.name_zh, org.credit_code) for org in
                                      db.session.scalars(select(Institution))})
    assert record["category"] == "technology" and record["contract_type"] == "license"
    assert record["deal_mode"] == "non_exclusive_license"
    assert (record["seller_name_zh"], record["seller_credit_code"]) == names[market.parties.seller_org]
    assert (record["buyer_name_zh"], record["buyer_credit_code"]) == names[market.parties.buyer_org]
    assert record["amount"] == 500_000_00 and record["currency"] == "CNY" and record["technology_amount"] is None
    assert record["name_zh"] == "高能量密度固态电池电解质制备技术"
    assert record["field_code"] == "energy.storage" and record["ip_types"] == ["invention_patent"]
    assert record["state_funded"] is True
    assert record["contract_number"].startswith("JS") and record["contract_number"].endswith(
        read(market.app, lambda: db.session.get(ContractRecord, record["id"]).order.reference))
    assert record["signed_on"] <= record["performance_start"] <= record["performance_end"] == record["completed_on"]

    def rename() -> None:
        db.session.execute(update(Institution).where(Institution.id == market.parties.seller_org)
                           .values(name_zh="改名后的大学", name_en="Renamed University"))
        db.session.commit()
    read(market.app, rename)
    body = market.seller.get(f"{CONTRACTS}/{record['id']}").get_json()
    assert body["seller"]["name_zh"] == names[market.parties.seller_org][0] != "改名后的大学"
    assert body["side"] == "seller" and body["technology_amount"] == 500_000_00 and body["way"] == "license"
    assert market.buyer.get(f"{CONTRACTS}/{record['id']}").get_json()["side"] == "buyer"


def test_automatic_completion_after_delivery_records_the_contract(market: Market) -> None:
    order_id = market.buyer.order(market.licence, "transfer").get_json()["id"]
    pay_by_card(market, order_id)
    assert market.seller.post(f"{ORDERS}/{order_id}/deliver", {"note": "已交付"}).status_code == 200
    assert record_of(market, order_id) is None  # delivered is not completed

    def run_clock() -> list[int]:
        done = closing.complete_due_orders(utcnow() + timedelta(days=60))
        db.session.commit()
        return done
    assert read(market.app, run_clock) == [order_id]
    record = record_of(market, order_id)
    assert record is not None and record["contract_type"] == "transfer" and record["deal_mode"] == "transfer"
    assert count(market.app, AuditEvent, AuditEvent.action == "contract.recorded") == 1


def test_a_resolved_dispute_completes_the_order_and_records_it_once(market: Market) -> None:
    order_id = market.buyer.order(market.licence, "non_exclusive_license").get_json()["id"]
    pay_by_card(market, order_id)
    assert market.buyer.post(f"{ORDERS}/{order_id}/dispute", {"reason": "资料不全"}).status_code == 200
    assert record_of(market, order_id) is None
    as_admin(market, lambda admin: disputes.resolve_dispute(admin, order_id, "资料已补齐"))
    first = record_of(market, order_id)
    assert first is not None
    assert market.buyer.post(f"{ORDERS}/{order_id}/dispute", {"reason": "再次争议"}).status_code == 200
    as_admin(market, lambda admin: disputes.resolve_dispute(admin, order_id, "已处理"))
    assert record_of(market, order_id) == first  # completing again changes nothing
    assert count(market.app, ContractRecord) == 1


def test_a_product_sale_is_a_sales_contract_that_cannot_be_registered(market: Market) -> None:
    order_id = buy_product(market)["id"]
    pay_by_card(market, order_id)
    deliver_and_confirm(market, order_id)
    record = record_of(market, order_id)
    assert record is not None and record["category"] == "sales" and record["contract_type"] is None
    assert record["contract_number"].startswith("XS")
    response = _patch(market.seller, record["id"], {"registration_number": "2026440100000001"})
    assert response.status_code == 409
    listed = market.seller.get(CONTRACTS, query_string={"type": "sales"}).get_json()
    assert [item["id"] for item in listed] == [record["id"]]


def test_the_technology_amount_is_at_most_the_net_amount_and_needs_a_reason_when_lower(market: Market) -> None:
    record_id = record_of(market, complete_licence(market))["id"]  # type: ignore[index]
    too_much = _patch(market.seller, record_id, {"technology_amount": 500_000_01, "technology_amount_reason": "x"})
    assert too_much.status_code == 422 and "technology_amount" in too_much.get_json()["errors"]
    no_reason = _patch(market.seller, record_id, {"technology_amount": 400_000_00})
    assert no_reason.status_code == 422 and "technology_amount_reason" in no_reason.get_json()["errors"]
    assert count(market.app, AuditEvent, AuditEvent.action == "contract.technology_amount") == 0
    done = _patch(market.seller, record_id, {"technology_amount": 400_000_00,
                                             "technology_amount_reason": "含设备费 10 万元"})
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert body["technology_amount"] == body["technology_amount_set"] == 400_000_00 and body["lock_version"] == 2
    events = read(market.app, lambda: list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "contract.technology_amount"))))
    assert len(events) == 1 and events[0].reason == "含设备费 10 万元"
    assert events[0].actor_id == market.parties.seller_id
    reset = _patch(market.seller, record_id, {"technology_amount": None})
    assert reset.status_code == 200 and reset.get_json()["technology_amount"] == 500_000_00
    assert reset.get_json()["technology_amount_reason"] is None


def test_edits_need_the_current_etag(market: Market) -> None:
    record_id = record_of(market, complete_licence(market))["id"]  # type: ignore[index]
    stale = market.seller.get(f"{CONTRACTS}/{record_id}").headers["ETag"]
    assert _patch(market.seller, record_id, {"registration_number": "A1"}, etag=None).status_code == 428
    assert _patch(market.seller, record_id, {"registration_number": "A1"}, etag=stale).status_code == 200
    assert _patch(market.seller, record_id, {"registration_number": "A2"}, etag=stale).status_code == 412
    assert record_of(market, read(market.app, lambda: db.session.get(ContractRecord, record_id).order_id))[
        "registration_number"] == "A1"  # type: ignore[index]


def test_the_registration_number_and_date_are_checked_and_audited(market: Market) -> None:
    order_id = complete_licence(market)
    record = record_of(market, order_id)
    assert record is not None
    today = record["completed_on"]
    future = _patch(market.seller, record["id"], {"registration_number": "2026440100000001",
                                                  "registered_on": (today + timedelta(days=3)).isoformat()})
    assert future.status_code == 422 and "registered_on" in future.get_json()["errors"]
    before_signing = (record["signed_on"] - timedelta(days=1)).isoformat()
    early = _patch(market.seller, record["id"], {"registration_number": "2026440100000001",
                                                 "registered_on": before_signing})
    assert early.status_code == 422 and "registered_on" in early.get_json()["errors"]
    alone = _patch(market.seller, record["id"], {"registered_on": record["signed_on"].isoformat()})
    assert alone.status_code == 422 and "registration_number" in alone.get_json()["errors"]
    bad = _patch(market.seller, record["id"], {"registration_number": "=HYPERLINK(1)"})
    assert bad.status_code == 422
    done = _patch(market.seller, record["id"], {"registration_number": "2026440100000001",
                                                "registered_on": record["signed_on"].isoformat()})
    assert done.status_code == 200 and done.get_json()["registration_number"] == "2026440100000001"
    assert count(market.app, AuditEvent, AuditEvent.action == "contract.registration") == 1


def test_only_the_seller_edits_and_other_institutions_see_nothing(market: Market) -> None:
    record_id = record_of(market, complete_licence(market))["id"]  # type: ignore[index]
    assert _patch(market.buyer, record_id, {"registration_number": "X1"}).status_code == 403
    assert market.outsider.get(f"{CONTRACTS}/{record_id}").status_code == 404
    assert _patch(market.outsider, record_id, {"registration_number": "X1"}, etag='"abc"').status_code == 404
    assert market.outsider.get(CONTRACTS).get_json() == []
    assert market.seller.get(f"{CONTRACTS}/987654").status_code == 404
    assert record_of(market, read(market.app, lambda: db.session.get(ContractRecord, record_id).order_id))[
        "registration_number"] is None  # type: ignore[index]


def test_list_filters_by_side_type_and_period_and_refuses_bad_periods(market: Market) -> None:
    order_id = complete_licence(market)
    completed = record_of(market, order_id)["completed_on"]  # type: ignore[index]
    assert len(market.seller.get(CONTRACTS, query_string={"side": "seller"}).get_json()) == 1
    assert market.seller.get(CONTRACTS, query_string={"side": "buyer"}).get_json() == []
    assert len(market.buyer.get(CONTRACTS, query_string={"side": "buyer"}).get_json()) == 1
    assert market.seller.get(CONTRACTS, query_string={"type": "transfer"}).get_json() == []
    day = completed.isoformat()
    response = market.seller.get(CONTRACTS, query_string={"from": day, "to": day})
    assert len(response.get_json()) == 1 and '"total": 1' in response.headers["X-Pagination"]
    later = (completed + timedelta(days=1)).isoformat()
    assert market.seller.get(CONTRACTS, query_string={"from": later}).get_json() == []
    for query in ({"from": later, "to": day}, {"from": "2018-01-01", "to": "2024-01-02"},
                  {"from": "1999-12-31"}, {"to": "2026-02-30"}, {"side": "both"}, {"type": "sale"}):
        refused = market.seller.get(CONTRACTS, query_string=query)
        assert refused.status_code == 422, (query, refused.get_json())


def test_a_refund_after_completion_keeps_the_record_and_lowers_the_technology_amount(market: Market) -> None:
    order_id = complete_licence(market)
    record_id = record_of(market, order_id)["id"]  # type: ignore[index]
    refund(market, order_id, 100_000_00)
    body = market.seller.get(f"{CONTRACTS}/{record_id}").get_json()
    assert body["amount"] == 500_000_00 and body["refunded_amount"] == 100_000_00
    assert body["technology_amount"] == 400_000_00
    too_much = _patch(market.seller, record_id, {"technology_amount": 450_000_00, "technology_amount_reason": "x"})
    assert too_much.status_code == 422


def test_orders_completed_before_the_feature_are_recorded_by_the_command_and_lazily(market: Market) -> None:
    first, second = complete_licence(market), complete_licence(market, buyer=market.buyer_b)

    def forget() -> None:
        db.session.execute(delete(ContractRecord))
        db.session.commit()
    read(market.app, forget)
    result = market.app.test_cli_runner().invoke(args=["hall", "backfill-contract-records"])
    assert result.exit_code == 0 and "2 contract record(s) made" in result.output, result.output
    assert record_of(market, first) is not None and record_of(market, second) is not None
    again = market.app.test_cli_runner().invoke(args=["hall", "backfill-contract-records"])
    assert "0 contract record(s) made" in again.output
    read(market.app, forget)
    assert len(market.seller.get(CONTRACTS).get_json()) == 2  # the list makes them when it finds none
    assert count(market.app, ContractRecord) == 2
