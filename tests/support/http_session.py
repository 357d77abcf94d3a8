"""A ``requests`` session against a live server's JSON API: cookies kept, the CSRF token sent on writes."""
from __future__ import annotations

from typing import Any

import requests

HTTP_TIMEOUT_S = 15  # every request against a live server is bounded


class ApiSession:
    """Real HTTP to a live server of the app (browser and integration tests)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.csrf: str | None = None

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send a request; writes carry the CSRF token of the last sign-in."""
        headers = dict(kwargs.pop("headers", {}))
        if self.csrf and method.upper() not in {"GET", "HEAD", "OPTIONS"}:
            headers.setdefault("X-CSRFToken", self.csrf)
        return self.session.request(method, self.base_url + path, headers=headers, timeout=HTTP_TIMEOUT_S, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        """GET ``path``."""
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        """POST to ``path``."""
        return self.request("POST", path, **kwargs)

    def sign_in(self, email: str, password: str) -> None:
        """Sign in through the API and keep the CSRF token for later writes."""
        response = self.post("/api/v1/auth/sign-in", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        self.csrf = response.json()["csrf_token"]

    def close(self) -> None:
        """Close the connection pool."""
        self.session.close()
