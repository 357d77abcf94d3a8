"""The forms of enquiry threads (Flask-WTF: each carries a CSRF token). WTForms only reads what the browser sends;
the text goes through the API's schemas (``schemas.threads``) and the threads services, whose messages are shown
beside the fields they name."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import StringField, TextAreaField

from blueprints.web.site import check_with
from hall.services.docking.thread_messages import Upload
from schemas.threads import ThreadMessageIn, ThreadOpenIn, ThreadReportIn


class AskForm(FlaskForm):
    """The first message of an enquiry about a listing, or of an answer to a demand."""

    subject = StringField(_l("Subject"))
    body = TextAreaField(_l("Your message"))
    exhibition_id = StringField()  # hidden: the exhibition page the asker came from (a lead of it)

    def checked(self, **about: int) -> dict[str, Any]:
        """The body of POST /threads (``listing_id`` or ``demand_id``), checked by the API's schema."""
        data: dict[str, Any] = {**about, "body": self.body.data or ""}
        exhibition = (self.exhibition_id.data or "").strip()
        if exhibition:
            data["exhibition_id"] = int(exhibition) if exhibition.isdigit() else exhibition
        if (self.subject.data or "").strip():
            data["subject"] = self.subject.data.strip()
        return check_with(ThreadOpenIn(), data)


class ReplyForm(FlaskForm):
    """A message in a thread: a text, a file, or both."""

    body = TextAreaField(_l("Your message"))
    file = FileField(_l("File (PDF, PNG, JPEG or WebP; optional)"))

    def upload(self) -> Upload | None:
        """The chosen file, or None when none was sent."""
        chosen = self.file.data
        if chosen is None or not getattr(chosen, "filename", ""):
            return None
        return Upload(chosen.stream, chosen.filename or "")

    def text(self) -> str | None:
        """The message's text, checked by the API's schema when there is one (a file alone needs none)."""
        body = self.body.data or ""
        if not body:
            return None
        return str(check_with(ThreadMessageIn(), {"body": body})["body"])


class ReportForm(FlaskForm):
    """Why a party reports the thread to the platform."""

    reason = TextAreaField(_l("What is wrong with this thread? (spam, abuse, fraud …)"))

    def checked(self) -> str:
        """The reason, checked by the API's schema."""
        return str(check_with(ThreadReportIn(), {"reason": self.reason.data or ""})["reason"])
