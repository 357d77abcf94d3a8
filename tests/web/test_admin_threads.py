"""Reported enquiries in the console (issue 12): an admin reads a thread only after a party reported it — the list
shows reported threads only, an unreported one is 404 even by its address, every read and file is audited."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from tests.support.console import admin_client_for, text
from tests.support.listings import PDF
from tests.support.threads import Talk, events, open_talk, send_file, started, write


def reported(talk: Talk) -> tuple[int, int]:
    """A thread the buyer reported (with a file in it) and one nobody reported."""
    bad = started(talk.buyer, talk.listing, subject="可疑的报价")
    assert send_file(talk.seller, bad, PDF, "报价单.pdf", body="请先付定金到个人账户").status_code == 201
    assert talk.buyer.post(f"/api/v1/threads/{bad}/report", {"reason": "要求私下转账"}).status_code == 200
    quiet = started(talk.outsider, talk.listing, subject="正常咨询")
    assert write(talk.seller, quiet).status_code == 201
    return bad, quiet


def test_the_console_lists_and_shows_reported_threads_only(app: Flask, tmp_path: Path) -> None:
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    talk = open_talk(app)
    bad, quiet = reported(talk)
    admin = admin_client_for(app, talk.market.parties.admin)
    listed = text(admin.get("/admin/threads"))
    assert f"/admin/threads/{bad}" in listed and "要求私下转账" in listed
    assert f"/admin/threads/{quiet}" not in listed and "正常咨询" not in listed
    before = events(app, "thread.admin_read")
    shown = admin.get(f"/admin/threads/{bad}")
    assert shown.status_code == 200
    html = text(shown)
    assert "请先付定金到个人账户" in html and "报价单.pdf" in html and "要求私下转账" in html
    assert events(app, "thread.admin_read") == before + 1  # the read is in the audit trail
    file_link = f"/admin/threads/{bad}/messages/"
    path = html[html.index(file_link):].split('"', 1)[0]
    with admin.get(path) as download:
        assert download.status_code == 200 and download.data == PDF
    # a thread nobody reported is not the platform's to read, even by its address
    assert admin.get(f"/admin/threads/{quiet}").status_code == 404
    assert events(app, "thread.admin_read") == before + 1


def test_members_never_reach_the_console_pages(app: Flask, tmp_path: Path) -> None:
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    talk = open_talk(app)
    bad, _quiet = reported(talk)
    for party in (talk.buyer, talk.seller):
        assert party.client.get(f"/admin/threads/{bad}").status_code in (302, 403)
        assert party.client.get("/admin/threads").status_code in (302, 403)
