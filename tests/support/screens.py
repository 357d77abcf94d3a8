"""Screenshots for the browser tests: full-page PNGs under test-artifacts/screenshots/ (kept by CI as artifacts),
and the same page at desktop and at phone width, checked to fit the phone without scrolling sideways."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EXPECT_TIMEOUT_MS = 10_000
ACTION_TIMEOUT_MS = 10_000  # clicks, fills, waits for a locator
NAVIGATION_TIMEOUT_MS = 15_000  # goto, reload, the navigation a submit button starts
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}


def screenshot(page: Any, name: str) -> Path:
    """A full-page PNG under test-artifacts/screenshots/ at the repository root; checked to be a real image."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True, timeout=15_000)
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    assert len(data) > 5 * 1024, f"{path} is only {len(data)} bytes"
    return path


def fits_the_width(page: Any) -> None:
    """The page does not scroll sideways at its current width."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{page.url} scrolls sideways by {overflow}px"


def desktop_and_phone_shots(page: Any, name: str, prefix: str = "web") -> list[Path]:
    """The page at desktop and at phone width (checked to fit), as two screenshots named
    ``{prefix}-{name}-desktop`` and ``…-phone``; back to desktop after. Waits for the page to load first (a click on
    a link may still be navigating)."""
    page.wait_for_load_state()
    shots = []
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        fits_the_width(page)
        shots.append(screenshot(page, f"{prefix}-{name}-{label}"))
    page.set_viewport_size(DESKTOP)
    return shots


@contextmanager
def browser_page(chromium: Any, base_url: str, locale: str = "zh-CN") -> Iterator[Any]:
    """A page in a fresh browser context (no cookies) whose relative URLs go to ``base_url``; the browser's
    language is ``locale`` (Chinese unless asked, as for the platform's users); desktop size. The context closes
    on exit."""
    context = chromium.new_context(base_url=base_url, locale=locale, viewport=DESKTOP)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()
