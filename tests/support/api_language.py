"""The API tests speak as an integrator who reads English: their test clients send ``Accept-Language: en`` unless a
request says otherwise, so that the rules they check read in the messages' own words. The Chinese default and the
header's effect are the subject of ``tests/api/test_error_language.py``."""
from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient


class EnglishApiClient(FlaskClient):
    """A test client whose requests ask for English unless their own headers ask for another language."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
