"""The interactive API docs (issue 9, item 8a): Swagger UI comes from a pinned package and is served by the app
itself, so the page works offline and loads nothing from a CDN; its files answer 200 and pass the page's CSP."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

from flask.testing import FlaskClient

DOCS = "/api/v1/docs"


class AssetCollector(HTMLParser):
    """Every URL the page loads by itself: scripts, stylesheets, icons, images, frames."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("script", "img", "iframe") and values.get("src"):
            self.urls.append(values["src"] or "")
        if tag == "link" and values.get("href"):
            self.urls.append(values["href"] or "")


def page_assets(client: FlaskClient) -> list[str]:
    response = client.get(DOCS)
    assert response.status_code == 200
    collector = AssetCollector()
    collector.feed(response.get_data(as_text=True))
    return collector.urls


def test_the_docs_page_loads_only_local_assets(client: FlaskClient) -> None:
    urls = page_assets(client)
    assert any(url.endswith("swagger-ui-bundle.js") for url in urls), urls
    assert any(url.endswith("swagger-ui.css") for url in urls), urls
    for url in urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, f"{url} is loaded from another host"
        assert url.startswith("/api/v1/docs/static/"), url
    body = client.get(DOCS).get_data(as_text=True)
    assert not re.search(r"https?://", body), "the page names another host"


def test_every_asset_answers_with_its_type_and_is_allowed_by_the_pages_csp(client: FlaskClient) -> None:
    csp = client.get(DOCS).headers["Content-Security-Policy"]
    directives = dict((part.strip().split(" ", 1) + [""])[:2] for part in csp.split(";") if part.strip())
    for url in page_assets(client):
        with client.get(url) as response:
            assert response.status_code == 200, url
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            kind = "script-src" if url.endswith(".js") else "style-src"
            expected_type = "text/javascript" if kind == "script-src" else "text/css"
            assert response.mimetype == expected_type, (url, response.mimetype)
            assert len(response.get_data()) > 10_000, url
        sources = directives.get(kind, directives.get("default-src", "")).split()
        assert "'self'" in sources, (kind, csp)


def test_only_the_ui_files_are_served(client: FlaskClient) -> None:
    for name in ("LICENSE", "VERSION", "../flask_swagger_ui.py", "index.template.html", "nothing.js"):
        with client.get(f"/api/v1/docs/static/{name}") as response:
            assert response.status_code == 404, name


def test_the_document_describes_files_as_they_are_sent(client: FlaskClient) -> None:
    """Schemathesis findings: an upload is one multipart body (the file and its role), downloads are served with the
    stored file's own media type, and exports are CSV or XLSX; the CSV's charset is said once."""
    spec = client.get("/api/v1/openapi.json").get_json()
    upload = spec["paths"]["/api/v1/listings/{listing_id}/attachments"]["post"]["requestBody"]["content"]
    assert list(upload) == ["multipart/form-data"]
    assert set(spec["components"]["schemas"]["UploadIn"]["properties"]) == {"file", "role"}
    for path in ("/api/v1/listings/{listing_id}/attachments/{attachment_id}",
                 "/api/v1/hall/listings/{listing_id}/attachments/{attachment_id}"):
        assert set(spec["paths"][path]["get"]["responses"]["200"]["content"]) == {
            "application/pdf", "image/png", "image/jpeg", "image/webp"}
    for path in ("/api/v1/transactions/export", "/api/v1/hall/directory"):
        assert set(spec["paths"][path]["get"]["responses"]["200"]["content"]) == {
            "text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
    assert client.get("/api/v1/hall/directory").headers["Content-Type"] == "text/csv; charset=utf-8"
