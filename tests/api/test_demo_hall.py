"""`flask hall seed-demo` fills the hall with published bilingual listings of both kinds in all six directions."""
from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hall.demo_listings import ACHIEVEMENTS, PRODUCTS


@pytest.fixture(autouse=True)
def _clients_ask_for_english() -> None:
    """Not here: the hall's answers are in the language asked for, and these tests rely on the Chinese default
    or ask explicitly (replaces the autouse fixture of tests/api/conftest.py)."""


def test_seed_demo_publishes_listings_across_all_directions(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    result = app.test_cli_runner().invoke(args=["hall", "seed-demo", "--credentials", str(tmp_path / "c.txt")])
    assert result.exit_code == 0, result.output
    page = client.get("/api/v1/hall/listings?per_page=50").get_json()
    assert page["total"] == len(ACHIEVEMENTS) + len(PRODUCTS)
    assert set(page["facets"]["direction_code"]) == {"manufacturing", "information", "materials", "energy", "space",
                                                     "health"}
    assert set(page["facets"]["kind"]) == {"achievement", "first_of_kind"}
    english = client.get("/api/v1/hall/listings?q=perovskite&lang=en").get_json()
    assert english["items"][0]["title"] == "Perovskite/silicon tandem solar cell"
    chinese = client.get("/api/v1/hall/listings?q=钙钛矿").get_json()
    assert chinese["items"][0]["title"] == "钙钛矿/晶硅叠层太阳能电池"

    again = app.test_cli_runner().invoke(args=["hall", "seed-demo", "--credentials", str(tmp_path / "c.txt")])
    assert "nothing added" in again.output
    assert client.get("/api/v1/hall/listings").get_json()["total"] == page["total"]
