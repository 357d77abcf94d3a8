"""Helpers for the web front's browser tests: another person's browser, signing in on the web front and in the admin
console, the visitor's language link, the order page's id, and a picture big enough to be a listing's cover."""
from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from playwright.sync_api import expect

from tests.support.factories import PASSWORD
from tests.support.live_server import LiveServer
from tests.support.screens import browser_page

ORDER_URL = re.compile(r"/workspace/orders/(\d+)$")


@contextmanager
def second_browser(chromium: Any, live_server: LiveServer) -> Iterator[Any]:
    """Another person's browser: a fresh context (no cookies), Chinese, desktop size."""
    with browser_page(chromium, live_server.url) as page:
        yield page


def choose_english(page: Any) -> None:
    """A visitor switches the site to English with the header's language link (kept in the session)."""
    page.locator("header nav.languages").get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")


def web_sign_in(page: Any, email: str, password: str = PASSWORD, *, english: bool = False) -> None:
    """Fill the web front's sign-in form (the page is already open) and land signed in."""
    expect(page.locator("h1")).to_have_text("Sign in" if english else "登录")
    page.get_by_label("E-mail" if english else "邮箱", exact=True).fill(email)
    page.get_by_label("Password" if english else "密码", exact=True).fill(password)
    page.locator("main").get_by_role("button", name="Sign in" if english else "登录").click()
    # A language the visitor chose before signing in is kept (and saved on the person).
    expect(page.locator("p.flash.success")).to_have_text("Signed in." if english else "已登录。")
    expect(page.locator("header .who")).to_be_visible()


def admin_console_sign_in(page: Any, email: str) -> None:
    """Sign in to the admin console (in Chinese, the browser's language)."""
    page.goto("/admin/sign-in")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))


def order_id_of(page: Any) -> int:
    """The id of the order whose page the browser shows."""
    expect(page).to_have_url(ORDER_URL)
    match = ORDER_URL.search(page.url)
    assert match
    return int(match.group(1))


def picture_png(width: int = 640, height: int = 360) -> bytes:
    """A valid RGB PNG of ``width`` × ``height`` (a blue-green gradient): a cover that shows in a screenshot and
    is wider than a phone, so a page that does not scale it down scrolls sideways."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + bytes((40, 80 + 150 * y // height, 120 + 100 * y // height)) * width
                    for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))
