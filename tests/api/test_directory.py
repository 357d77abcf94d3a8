"""The downloadable directory (GET /api/v1/hall/directory, CSV with a BOM or XLSX): exactly the published listings
matching the filter, Chinese intact, prices in yuan, spreadsheet formulas defused; and the
``flask hall export-directory`` command when the application has it."""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from hall.cli import hall_cli
from hall.extensions import db
from hall.models import User
from tests.support.hall_listings import PUBLISHED, UNPUBLISHED, add_listing, build_hall, topic

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_TITLE = '=HYPERLINK("http://evil.example","点击领取")'
HEADER_START = ["编号 ID", "类型 Kind", "名称", "Title", "发布机构 Institution", "方向 Direction", "领域 Field"]


@pytest.fixture
def hall_ids(app: Flask) -> dict[str, int]:
    """The search tests' hall plus one newest energy listing whose titles look like spreadsheet formulas."""
    ids = build_hall(app)
    with app.app_context():
        author = db.session.scalar(select(User).where(User.institution_id == ids["org_a"]).limit(1))
        admin = db.session.scalar(select(User).where(User.is_admin.is_(True)))
        ids["formula"] = add_listing(author, admin, topic(
            (FORMULA_TITLE, "伪装成公式的标题。", "用于检验导出时的公式注入防护。"),
            ("@SUM(1+1)", "A title that looks like a formula.", "Checks formula defusing on export."),
            direction_code="energy", field_code="energy.nuclear", region_code="110108", trl=3,
            deal_modes=["transfer"], price_amount=12_345, state_funded=False))
        db.session.remove()
    return ids


def read_csv(body: bytes) -> list[dict[str, str]]:
    assert body.startswith("\ufeff".encode()), "CSV must start with a UTF-8 byte-order mark"
    rows = list(csv.reader(io.StringIO(body.decode("utf-8").removeprefix("\ufeff"))))
    assert rows[0][:len(HEADER_START)] == HEADER_START
    return [dict(zip(rows[0], row)) for row in rows[1:]]


def read_xlsx(body: bytes) -> list[dict[str, Any]]:
    workbook = load_workbook(io.BytesIO(body), read_only=True)
    try:
        rows = [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()
    assert rows[0][:len(HEADER_START)] == HEADER_START
    return [dict(zip(rows[0], row)) for row in rows[1:]]


def download(client: FlaskClient, query: str) -> Any:
    response = client.get(f"/api/v1/hall/directory?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response


def energy_ids(ids: dict[str, int]) -> list[int]:
    """The published energy listings, newest first."""
    return [ids[name] for name in ("formula", "product", "english", "perovskite", "solid")]


def test_csv_holds_exactly_the_filtered_published_listings(client: FlaskClient, hall_ids: dict[str, int]) -> None:
    response = download(client, "format=csv&direction=energy")
    assert response.mimetype == "text/csv" and response.mimetype_params.get("charset") == "utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="directory.csv"'
    rows = read_csv(response.data)
    assert [int(row["编号 ID"]) for row in rows] == energy_ids(hall_ids)
    assert not {hall_ids[status] for status in UNPUBLISHED} & {int(row["编号 ID"]) for row in rows}
    by_id = {int(row["编号 ID"]): row for row in rows}
    perovskite = by_id[hall_ids["perovskite"]]
    assert perovskite["名称"] == "钙钛矿高效太阳能电池制备工艺" and perovskite["Title"] == ""
    assert perovskite["价格 Price"] == "" and perovskite["价格方式 Price mode"] == "negotiable"
    solid = by_id[hall_ids["solid"]]
    assert solid["名称"] == "高安全固态电池电解质" and solid["Title"] == "Safe solid-state battery electrolyte"
    assert solid["价格 Price"] == "800000.00" and solid["币种 Currency"] == "CNY"
    assert solid["发布机构 Institution"].startswith("测试研究所") and solid["领域 Field"] == "energy.storage"
    assert solid["地区 Region"] == "440305" and solid["成熟度 TRL"] == "7" and solid["财政资助 State funded"] == "yes"
    product = by_id[hall_ids["product"]]
    assert product["价格 Price"] == "12000000.00" and product["类型 Kind"] == "first_of_kind"
    assert product["首台套类别 Product kind"] == "equipment" and product["认定级别 Recognition"] == "national"
    assert product["名称"] == "兆瓦级氢燃料电池发电系统"
    assert by_id[hall_ids["formula"]]["价格 Price"] == "123.45"


def test_csv_defuses_formulas(client: FlaskClient, hall_ids: dict[str, int]) -> None:
    rows = read_csv(download(client, "format=csv&field=energy.nuclear").data)
    assert [int(row["编号 ID"]) for row in rows] == [hall_ids["formula"]]
    assert rows[0]["名称"] == "'" + FORMULA_TITLE and rows[0]["Title"] == "'@SUM(1+1)"
    assert not any(value.startswith(("=", "+", "-", "@")) for value in rows[0].values())


def test_csv_without_a_filter_and_with_text_and_other_filters(client: FlaskClient, hall_ids: dict[str, int]) -> None:
    everything = {int(row["编号 ID"]) for row in read_csv(download(client, "format=csv").data)}
    assert everything == {hall_ids[name] for name in (*PUBLISHED, "formula")}
    found = [int(row["编号 ID"]) for row in read_csv(download(client, "q=钙钛矿").data)]
    assert found == [hall_ids["perovskite"]]
    found = [int(row["编号 ID"]) for row in read_csv(download(client, "kind=first_of_kind&region=440000").data)]
    assert found == [hall_ids["product"]]
    assert read_csv(download(client, "direction=space").data) == []


def test_xlsx_holds_exactly_the_filtered_published_listings(client: FlaskClient, hall_ids: dict[str, int]) -> None:
    response = download(client, "format=xlsx&direction=energy")
    assert response.mimetype == XLSX
    assert response.headers["Content-Disposition"] == 'attachment; filename="directory.xlsx"'
    rows = read_xlsx(response.data)
    assert [int(row["编号 ID"]) for row in rows] == energy_ids(hall_ids)
    by_id = {int(row["编号 ID"]): row for row in rows}
    solid = by_id[hall_ids["solid"]]
    assert solid["名称"] == "高安全固态电池电解质" and solid["价格 Price"] == "800000.00"
    assert by_id[hall_ids["perovskite"]]["名称"] == "钙钛矿高效太阳能电池制备工艺"
    assert by_id[hall_ids["perovskite"]]["价格 Price"] in ("", None)
    assert by_id[hall_ids["formula"]]["名称"] == "'" + FORMULA_TITLE
    assert by_id[hall_ids["formula"]]["Title"] == "'@SUM(1+1)"
    assert by_id[hall_ids["formula"]]["价格 Price"] == "123.45"


def test_directory_refuses_bad_parameters(client: FlaskClient) -> None:
    for query in ("format=pdf", "trl_min=8&trl_max=2", "per_page=51", "sneaky=1"):
        assert client.get(f"/api/v1/hall/directory?{query}").status_code == 422, query


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_cli_export_directory(app: Flask, hall_ids: dict[str, int], tmp_path: Path, fmt: str) -> None:
    if "export-directory" not in hall_cli.commands:
        pytest.skip("platform/hall/cli.py has no `flask hall export-directory` command yet")
    output = tmp_path / f"directory.{fmt}"
    result = app.test_cli_runner().invoke(args=["hall", "export-directory", "--format", fmt, "--output", str(output),
                                                "--direction", "energy"])
    assert result.exit_code == 0, result.output
    rows = read_csv(output.read_bytes()) if fmt == "csv" else read_xlsx(output.read_bytes())
    assert [int(row["编号 ID"]) for row in rows] == energy_ids(hall_ids)
    by_id = {int(row["编号 ID"]): row for row in rows}
    assert by_id[hall_ids["solid"]]["名称"] == "高安全固态电池电解质"
    assert by_id[hall_ids["formula"]]["名称"] == "'" + FORMULA_TITLE
    searched = tmp_path / f"searched.{fmt}"
    result = app.test_cli_runner().invoke(args=["hall", "export-directory", "--format", fmt, "--output",
                                                str(searched), "--q", "钙钛矿", "--kind", "achievement"])
    assert result.exit_code == 0, result.output
    rows = read_csv(searched.read_bytes()) if fmt == "csv" else read_xlsx(searched.read_bytes())
    assert [int(row["编号 ID"]) for row in rows] == [hall_ids["perovskite"]]
    refused = app.test_cli_runner().invoke(args=["hall", "export-directory", "--format", "pdf", "--output",
                                                 str(tmp_path / "x.pdf")])
    assert refused.exit_code != 0 and not (tmp_path / "x.pdf").exists()
