"""The admin console's pages as the page-shot test sees them: the GET rules of the ``admin.`` blueprint (so a new page
is never forgotten), what is not a page (a file download), a rule's path with real ids, and two checks of a page in
the browser: at phone width nothing but a scroll container is wider than the screen, and the console's own words
(headings, labels, table heads, buttons, navigation) are in the page's language."""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask import Flask
from playwright.sync_api import expect

from tests.support.screens import DESKTOP, PHONE, desktop_and_phone_shots

# GET rules of the console that are not HTML pages, and why.
NOT_PAGES = {"admin.attachment": "a listing's file, downloaded as it was uploaded",
             "admin.reported_thread_file": "a file of a reported enquiry, downloaded as it was uploaded",
             "admin.contract_export": "the platform's contract registration list, a CSV or XLSX download",
             "admin.contract_annual_download": "an institution's annual transformation report, an XLSX or CSV file"}
_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")

# The elements that wrap wide content on purpose and scroll it inside themselves.
_STICKING_OUT = """() => {
  const width = window.innerWidth, found = [];
  const scrolls = el => { for (let p = el.parentElement; p; p = p.parentElement) {
    const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll' || o === 'hidden') return true; }
    return false; };
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    const parent = el.parentElement, outer = parent.getBoundingClientRect().right <= width + 1;
    if (box.right > width + 1 && outer && !scrolls(el)) {
      const where = el.closest('[id]'), cls = typeof el.className === 'string' && el.className.trim();
      found.push(`${el.tagName.toLowerCase()}${cls ? '.' + cls.split(/\\s+/).join('.') : ''}`
                 + `${where ? ' in #' + where.id : ''} (+${Math.round(box.right - width)}px)`);
    }
  }
  return found.slice(0, 12);
}"""

# The console's own words: what a translator writes, never what a person typed (names, titles, e-mails live in
# <dd>, <td>, <h1>, links to objects). The language select's own option "中文" is meant to be Chinese.
_CHROME = ("header nav a, header label, header button, main h2, main h3, main th, main dt, main label, main button, "
           "main caption, main legend, main summary, main .flash, main select:not(#locale) option")
_WORDS_OF = """([selector, english]) => {
  const han = /[\\u3400-\\u9fff]/, latinWord = /\\b(?=[A-Za-z]*[a-z])[A-Za-z]{3,}\\b/;  // not TRL, API
  return [...document.querySelectorAll(selector)]
    .map(el => (el.textContent || '').replace(/\\s+/g, ' ').trim())
    .filter(t => t && (english ? han.test(t) : (!han.test(t) && latinWord.test(t))));
}"""


def console_pages(app: Flask) -> set[str]:
    """The endpoints of every GET rule of the console that answers an HTML page."""
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()
                 if rule.endpoint.startswith("admin.") and "GET" in (rule.methods or set())}
    unknown = set(NOT_PAGES) - endpoints
    assert not unknown, f"NOT_PAGES names rules that no longer exist: {sorted(unknown)}"
    return endpoints - set(NOT_PAGES)


# Console modules whose pages are photographed by their feature's own browser test (each checks it shot all of
# them with ``module_pages``), not by tests/browser/test_admin_page_shots.py.
SHOT_BY_FEATURE = {
    "blueprints.admin.insurance": "tests/browser/test_insurance_pages.py",
    "blueprints.admin.contracts": "tests/browser/test_contracts_pages.py",
    "blueprints.admin.evaluations": "tests/browser/test_evaluations_pages.py",
    "blueprints.admin.exhibitions": "tests/browser/test_exhibitions_pages.py",
}


def module_pages(app: Flask, module: str) -> set[str]:
    """The console's HTML pages (as ``console_pages``) whose view functions live in ``module``."""
    return {endpoint for endpoint in console_pages(app) if app.view_functions[endpoint].__module__ == module}


def feature_pages(app: Flask) -> set[str]:
    """The console's pages that a feature's own browser test photographs (SHOT_BY_FEATURE)."""
    return set().union(*(module_pages(app, module) for module in SHOT_BY_FEATURE))


def console_path(app: Flask, endpoint: str, ids: Mapping[str, int]) -> str:
    """The path of the console's GET rule ``endpoint`` with each argument replaced by the id of that name."""
    [rule] = [rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint]
    missing = [m.group("name") for m in _ARGUMENT.finditer(rule.rule) if m.group("name") not in ids]
    assert not missing, f"{rule.rule}: no id for {missing}; seed the object in the page-shot test"
    return _ARGUMENT.sub(lambda m: str(ids[m.group("name")]), rule.rule)


def sticking_out(page: Any) -> list[str]:
    """The outermost elements that reach past the right edge of the window outside any scroll container, each with
    the id of the nearest element around it that has one."""
    return list(page.evaluate(_STICKING_OUT))


def overflow_at_phone_width(page: Any) -> str | None:
    """None when, at phone width, the document is no wider than the window (what makes a phone scroll sideways),
    whatever is wide inside a scroll container; else what is wrong, naming the elements that stick out. Back to
    desktop after."""
    page.set_viewport_size(PHONE)
    try:
        document, window = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if document <= window:
            return None
        return f"{page.url} scrolls sideways at phone width ({document}px in {window}px): {sticking_out(page)}"
    finally:
        page.set_viewport_size(DESKTOP)


def words_in_the_wrong_language(page: Any, locale: str) -> list[str]:
    """The console's own words on the page that are not in ``locale``: Chinese on an English page; on a Chinese
    page, words with Latin letters (not only capitals: TRL, API and CSV are Chinese too) and no Chinese at all."""
    return list(page.evaluate(_WORDS_OF, [_CHROME, locale == "en"]))


def shoot_checked(page: Any, path: str, heading: str, name: str, locale: str, problems: list[str], prefix: str) -> int:
    """Open ``path``, check its <h1> holds ``heading``, note (in ``problems``) console words in the wrong language and
    anything wider than a phone, and photograph it at desktop and phone width; returns how many shots were taken."""
    page.goto(path)
    expect(page.locator("h1")).to_contain_text(heading)
    if path.startswith("/admin"):
        problems += [f"{path}: {words!r} is not {locale}" for words in words_in_the_wrong_language(page, locale)]
    overflow = overflow_at_phone_width(page)
    if overflow is not None:
        problems.append(overflow)
    page.set_viewport_size(DESKTOP)
    return len(desktop_and_phone_shots(page, f"{name}-{locale}", prefix=prefix))
