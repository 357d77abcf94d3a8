"""The registration export (技术合同认定登记) in the form's columns, headers in the reader's language, CSV and XLSX that
parse back, formulas defused, technology contracts only, period checked; and the annual transformation report
(Art. 21) of a year with a transfer, an exclusive and a non-exclusive licence (refunded in part after completion)
and a product sale, as JSON, CSV and an XLSX workbook with a summary and a details sheet."""
from __future__ import annotations

import csv
import io
from typing import Any

import openpyxl
from sqlalchemy import update

from hall.extensions import db
from hall.models import Institution
from tests.support.contracts import CONTRACTS, complete_licence, new_achievement, record_of
from tests.support.orders import Market, buy_product, deliver_and_confirm, pay_by_card, read, refund

EXPORT = f"{CONTRACTS}/export"
ANNUAL = "/api/v1/reports/annual"
ZH_HEADERS = ["合同编号", "合同名称", "合同类型", "技术领域", "卖方（技术输出方）名称", "卖方统一社会信用代码",
              "买方（技术吸纳方）名称", "买方统一社会信用代码", "合同金额（元）", "技术交易额（元）", "已退款（元）",
              "币种", "签订日期", "履行期限起", "履行期限止", "知识产权类型", "完成日期", "登记号", "登记日期",
              "本方角色"]
EN_HEADERS = ["Contract number", "Contract name", "Contract type", "Technology field", "Seller (technology supplier)",
              "Seller's unified social credit code", "Buyer (technology recipient)",
              "Buyer's unified social credit code", "Contract amount (yuan)", "Technology-transaction amount (yuan)",
              "Refunded (yuan)", "Currency", "Signed on", "Performance from", "Performance to", "IP types",
              "Completed on", "Registration number", "Registered on", "Our side"]


def _csv(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def _sheet(response: Any, index: int = 0) -> list[list[Any]]:
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(response.get_data()), read_only=True)
    return [list(row) for row in workbook.worksheets[index].iter_rows(values_only=True)]


def _sold_product(market: Market) -> int:
    order_id = buy_product(market)["id"]
    pay_by_card(market, order_id)
    deliver_and_confirm(market, order_id)
    return int(order_id)


def test_the_export_has_the_forms_columns_in_chinese_and_english_and_parses_back(market: Market) -> None:
    order_id = complete_licence(market)
    _sold_product(market)  # a sales contract: not in the registration list
    record = record_of(market, order_id)
    assert record is not None
    zh = _csv(market.seller.get(EXPORT, headers={"Accept-Language": "zh-CN"}))
    assert zh[0] == ZH_HEADERS and len(zh) == 2
    row = dict(zip(zh[0], zh[1], strict=True))
    assert row["合同编号"] == record["contract_number"] and row["合同类型"] == "技术许可合同"
    assert row["合同名称"] == "高能量密度固态电池电解质制备技术" and row["知识产权类型"] == "发明专利"
    assert row["卖方统一社会信用代码"] == record["seller_credit_code"]
    assert row["买方统一社会信用代码"] == record["buyer_credit_code"]
    assert row["合同金额（元）"] == row["技术交易额（元）"] == "500000.00" and row["已退款（元）"] == "0.00"
    assert row["完成日期"] == record["completed_on"].isoformat() and row["本方角色"] == "卖方"
    assert row["签订日期"] == record["signed_on"].isoformat() and row["登记号"] == ""
    en = _csv(market.seller.get(EXPORT, headers={"Accept-Language": "en"}))
    assert en[0] == EN_HEADERS
    assert dict(zip(en[0], en[1], strict=True))["Contract type"] == "technology licence contract"
    assert dict(zip(en[0], en[1], strict=True))["Contract name"].startswith("Solid-state battery")
    sheet = _sheet(market.seller.get(EXPORT, query_string={"format": "xlsx"}, headers={"Accept-Language": "zh"}))
    assert sheet[0] == ZH_HEADERS and sheet[1][0] == record["contract_number"] and len(sheet) == 2
    buyer = _csv(market.buyer.get(EXPORT, headers={"Accept-Language": "zh"}))
    assert len(buyer) == 2 and buyer[1][-1] == "买方"
    assert _csv(market.buyer.get(EXPORT, query_string={"side": "seller"})) [1:] == []
    assert _csv(market.outsider.get(EXPORT))[1:] == []


def test_the_export_defuses_formulas_in_snapshots(market: Market) -> None:
    def rename() -> None:
        db.session.execute(update(Institution).where(Institution.id == market.parties.buyer_org)
                           .values(name_zh='=HYPERLINK("http://evil.example","点我")'))
        db.session.commit()
    read(market.app, rename)
    complete_licence(market)
    rows = _csv(market.seller.get(EXPORT, headers={"Accept-Language": "zh"}))
    assert rows[1][ZH_HEADERS.index("买方（技术吸纳方）名称")].startswith("'=HYPERLINK")
    sheet = _sheet(market.seller.get(EXPORT, query_string={"format": "xlsx"}, headers={"Accept-Language": "zh"}))
    assert str(sheet[1][ZH_HEADERS.index("买方（技术吸纳方）名称")]).startswith("'=")


def test_the_export_period_is_checked(market: Market) -> None:
    record = record_of(market, complete_licence(market))
    assert record is not None
    day = record["completed_on"]
    assert len(_csv(market.seller.get(EXPORT, query_string={"from": day.isoformat(), "to": day.isoformat()}))) == 2
    assert len(_csv(market.seller.get(EXPORT, query_string={"to": "2020-12-31"}))) == 1
    for query in ({"from": "2025-02-01", "to": "2025-01-31"}, {"from": "2019-01-01", "to": "2025-01-01"},
                  {"from": "yesterday"}, {"format": "pdf"}, {"from": "1990-01-01"}):
        response = market.seller.get(EXPORT, query_string=query)
        assert response.status_code == 422, query


def _year_with_deals(market: Market) -> dict[str, int]:
    transfer = complete_licence(market, "transfer", listing_id=new_achievement(
        market, deal_modes=["transfer"], price_amount=300_000_00))
    exclusive = complete_licence(market, "exclusive_license", buyer=market.buyer_b, listing_id=new_achievement(
        market, deal_modes=["exclusive_license"], price_amount=200_000_00, state_funded=False))
    licence = complete_licence(market)
    refund(market, licence, 100_000_00)
    _sold_product(market)
    return {"transfer": transfer, "exclusive": exclusive, "licence": licence}


def test_the_annual_report_counts_transfers_and_licences_with_the_refund(market: Market) -> None:
    orders = _year_with_deals(market)
    year = record_of(market, orders["licence"])["completed_on"].year  # type: ignore[index]
    response = market.seller.get(ANNUAL, query_string={"year": year})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["year"] == year and body["institution_id"] == market.parties.seller_org
    lines = {(line["way"], line["licence_kind"]): line for line in body["summary"]}
    assert list(lines) == [("transfer", None), ("license", "exclusive_license"), ("license", "non_exclusive_license")]
    assert (lines[("transfer", None)]["count"], lines[("transfer", None)]["amount"]) == (1, 300_000_00)
    assert lines[("license", "exclusive_license")]["state_funded"] == 0
    non_exclusive = lines[("license", "non_exclusive_license")]
    assert (non_exclusive["amount"], non_exclusive["technology_amount"], non_exclusive["refunded"]) == (
        500_000_00, 400_000_00, 100_000_00)
    [total] = body["totals"]
    assert (total["count"], total["amount"], total["technology_amount"], total["refunded"], total["state_funded"]) == (
        3, 1_000_000_00, 900_000_00, 100_000_00, 2)
    details = {d["way"] + ":" + (d["licence_kind"] or ""): d for d in body["details"]}
    assert details["license:exclusive_license"]["counterparty"]["institution_id"] == market.parties.buyer_b_org
    assert len(body["details"]) == 3  # the product sale is not a transformation of an achievement
    bought = market.buyer.get(ANNUAL, query_string={"year": year}).get_json()
    assert bought["details"] == []  # a buyer transfers nothing

    rows = _csv(market.seller.get(ANNUAL, query_string={"year": year, "format": "csv"},
                                  headers={"Accept-Language": "zh"}))
    assert rows[0][:3] == ["合同编号", "科技成果", "转化方式"] and len(rows) == 4
    assert sorted(r[2] for r in rows[1:]) == ["许可", "许可", "转让"]
    workbook = openpyxl.load_workbook(io.BytesIO(market.seller.get(
        ANNUAL, query_string={"year": year, "format": "xlsx"}, headers={"Accept-Language": "zh"}).get_data()))
    assert workbook.sheetnames == ["年度汇总", "合同明细"]
    summary = [list(r) for r in workbook["年度汇总"].iter_rows(values_only=True)]
    assert summary[2][:2] == ["年度", year]
    assert summary[-1][0] == "合计" and summary[-1][3] == 3 and summary[-1][5] == "900000.00"
    assert len(list(workbook["合同明细"].iter_rows())) == 4


def test_the_annual_report_checks_the_year_and_who_asks(market: Market) -> None:
    complete_licence(market)
    year = record_of(market, 1)["completed_on"].year  # type: ignore[index]
    for query in ({"year": 1999}, {"year": year + 1}, {}, {"year": "abc"}, {"year": year, "format": "pdf"}):
        assert market.seller.get(ANNUAL, query_string=query).status_code == 422, query
    assert market.app.test_client().get(ANNUAL, query_string={"year": year}).status_code == 401
    assert market.admin.get(ANNUAL, query_string={"year": year}).status_code == 403  # no institution of its own
    seller = {"year": year, "institution": market.parties.seller_org}
    assert len(market.admin.get(ANNUAL, query_string=seller).get_json()["details"]) == 1  # admins name one
    assert market.admin.get(ANNUAL, query_string={**seller, "institution": 987654}).status_code == 404
    assert market.outsider.get(ANNUAL, query_string=seller).status_code == 404  # not the outsider's own
    assert market.seller.get(ANNUAL, query_string=seller).status_code == 200
    assert market.outsider.get(ANNUAL, query_string={"year": year}).get_json()["details"] == []
