"""NDA data rooms on the web (FILE-01, AUTHZ-01, TXN-05): the public listing page lists confidential files with a
badge and links them only for the owner institution and approved institutions, telling everyone else what to do;
the NDA page accepts the current version and creates the request (a stale version is refused); the owner approves,
declines (a reason is required, shown beside the field) or revokes on the data-room page, edits the NDA, turns
auto-approve on, marks files confidential from the workspace and reads the download log; the requester follows its
requests; another institution gets 404 and anonymous visitors are sent to sign in. Pages in English (and Chinese)."""
from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from hall.extensions import db
from hall.models import AccessRequest, Institution, User
from tests.support.console import field_errors, flashes, hidden_value, text
from tests.support.data_rooms import SECRET, Member, Room, member_of_new_institution, open_room, web_links

HTML = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}


def _english(app: Flask) -> None:
    with app.app_context():
        db.session.execute(update(User).values(locale="en"))
        db.session.commit()
        db.session.remove()


@pytest.fixture
def room(app: Flask, tmp_path: Path) -> Room:
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    opened = open_room(app)
    _english(app)
    return opened


def page(who: Member | Any, path: str, status: int = 200) -> str:
    client = who.client if isinstance(who, Member) else who
    response = client.get(path, headers=HTML)
    assert response.status_code == status, f"GET {path} -> {response.status_code}: {text(response)[:1500]}"
    return html.unescape(text(response))


def post(who: Member, path: str, data: dict[str, Any], *, token_from: str, csrf_field: str = "csrf_token") -> \
        TestResponse:
    fields = dict(data)
    fields[csrf_field] = hidden_value(page(who, token_from), csrf_field)
    return who.client.post(path, data=fields, headers=HTML)


def body(response: TestResponse) -> str:
    return html.unescape(text(response))


def institution_name(app: Flask, institution_id: int) -> str:
    """The institution's name as the English pages show it."""
    with app.app_context():
        org = db.session.get(Institution, institution_id)
        name = str(org.name_en or org.name_zh)
        db.session.remove()
    return name


def nda_path(room: Room) -> str:
    return f"/hall/listings/{room.listing_id}/nda"


def room_path(room: Room) -> str:
    return f"/workspace/listings/{room.listing_id}/data-room"


def confidential_item(page_html: str) -> str:
    """The list item of the confidential file on the public page."""
    match = re.search(r'<li class="dr-file-confidential">(.*?)</li>', page_html, re.S)
    assert match, "no confidential file listed"
    return match.group(1)


def accept(room: Room, who: Member, version: int | None = None) -> TestResponse:
    data = {"accept": "y"}
    if version is not None:
        data["nda_version"] = str(version)
        return who.client.post(nda_path(room), data={**data, "csrf_token": hidden_value(
            page(who, nda_path(room)), "csrf_token")}, headers=HTML)
    data["nda_version"] = hidden_value(page(who, nda_path(room)), "nda_version")
    return post(who, nda_path(room), data, token_from=nda_path(room))


def live_request_id(app: Flask, listing_id: int, institution_id: int) -> tuple[int, str]:
    with app.app_context():
        found = db.session.scalars(select(AccessRequest).where(
            AccessRequest.listing_id == listing_id, AccessRequest.institution_id == institution_id)
            .order_by(AccessRequest.id.desc())).first()
        assert found is not None
        result = (found.id, found.status)
        db.session.remove()
    return result


def test_the_public_page_badges_confidential_files_and_links_them_only_for_those_with_access(room: Room) -> None:
    listing = f"/hall/listings/{room.listing_id}"
    secret_link, public_link = room.file_url(room.confidential_file), room.file_url(room.public_file)
    anonymous = room.app.test_client()
    anonymous.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # the people of these tests read English
    for who, says in ((anonymous, "Sign in to request access"),
                      (room.others["none"], "Read the NDA and request access"),
                      (room.others["requested"], "waiting for the owner’s decision"),
                      (room.others["stale"], "accept the new version"),
                      (room.others["rejected"], "Read the NDA and request access"),
                      (room.admin, "Only members of a verified institution")):
        shown = page(who, listing)
        item = confidential_item(shown)
        assert "process-recipe.pdf" in item and ">confidential<" in item and says in item, (says, item)
        assert secret_link not in shown and public_link in shown
    assert f'href="{nda_path(room)}"' in page(room.others["none"], listing)
    assert "/sign-in?next=" in confidential_item(page(anonymous, listing))
    for who in (room.owner_member, room.others["approved"]):
        assert sorted(web_links(who.client, room.listing_id)) == sorted([public_link, secret_link])
    assert "SHA-256" not in page(anonymous, listing) and "sha256" not in page(room.owner_member, listing)
    chinese = room.app.test_client()
    assert chinese.get(f"/language?locale=zh_CN&next={listing}").status_code == 302
    assert "process-recipe.pdf" in page(chinese, listing)


def test_the_nda_page_shows_the_current_version_and_accepting_it_creates_the_request(room: Room) -> None:
    newcomer = member_of_new_institution(room.app)
    _english(room.app)
    shown = page(newcomer, nda_path(room))
    assert "Version 2" in shown and "Keep it secret." in shown
    assert f"I accept this NDA on behalf of {institution_name(room.app, newcomer.institution_id)}" in shown
    unticked = newcomer.client.post(nda_path(room), data={"nda_version": "2", "csrf_token": hidden_value(
        shown, "csrf_token")}, headers=HTML)
    assert unticked.status_code == 422
    assert field_errors(body(unticked), "accept") == ["accept the NDA to request access"]
    stale = accept(room, newcomer, version=1)
    assert stale.status_code == 409 and "version 2" in " ".join(flashes(body(stale), "error"))
    assert 'value="2"' in body(stale)  # the page offers the current version again
    answered = accept(room, newcomer)
    assert answered.status_code == 302 and answered.headers["Location"].startswith(f"/hall/listings/{room.listing_id}")
    assert live_request_id(room.app, room.listing_id, newcomer.institution_id)[1] == "requested"
    followed = page(newcomer, answered.headers["Location"])
    assert "waiting for the owner’s decision" in confidential_item(followed)
    assert "request is waiting" in page(newcomer, nda_path(room))
    mine = page(newcomer, "/workspace/data-room/requests")
    assert "Solid-state battery" in mine and "Waiting for the owner's decision" in mine


def test_the_nda_page_in_chinese_shows_the_chinese_text(room: Room) -> None:
    with room.app.app_context():
        db.session.execute(update(User).values(locale="zh_CN"))
        db.session.commit()
        db.session.remove()
    member = member_of_new_institution(room.app)
    shown = page(member, nda_path(room))
    assert "第二版保密协议" in shown and "Keep it secret." not in shown


def test_the_owner_approves_on_the_data_room_page_and_the_requester_then_sees_the_link(room: Room) -> None:
    waiting = room.others["requested"]
    request_id = room.requests["requested"]
    shown = page(room.owner, room_path(room))
    assert institution_name(room.app, waiting.institution_id) in shown and "Waiting for the owner's decision" in shown
    approved = post(room.owner, f"{room_path(room)}/requests/{request_id}/approve", {}, token_from=room_path(room),
                    csrf_field=f"approve-{request_id}-csrf_token")
    assert approved.status_code == 302, body(approved)[:2000]
    assert live_request_id(room.app, room.listing_id, waiting.institution_id) == (request_id, "approved")
    assert room.file_url(room.confidential_file) in web_links(waiting.client, room.listing_id)
    assert waiting.get(room.file_url(room.confidential_file)).data == SECRET
    again = post(room.owner, f"{room_path(room)}/requests/{request_id}/approve", {}, token_from=room_path(room),
                 csrf_field="csrf_token")
    assert again.status_code == 409 and flashes(body(again), "error")


def test_declining_needs_a_reason_shown_beside_the_field_and_revoking_too(room: Room) -> None:
    request_id = room.requests["requested"]
    path = f"{room_path(room)}/requests/{request_id}/reject"
    token = f"reject-{request_id}-csrf_token"
    refused = post(room.owner, path, {f"reject-{request_id}-reason": "  "}, token_from=room_path(room),
                   csrf_field=token)
    assert refused.status_code == 422
    assert field_errors(body(refused), f"reject-{request_id}-reason") == ["say why, for the requesting institution"]
    assert live_request_id(room.app, room.listing_id, room.others["requested"].institution_id)[1] == "requested"
    declined = post(room.owner, path, {f"reject-{request_id}-reason": "资质不符"}, token_from=room_path(room),
                    csrf_field=token)
    assert declined.status_code == 302
    rejected_side = page(room.others["requested"], "/workspace/data-room/requests")
    assert "Declined" in rejected_side and "资质不符" in rejected_side
    approved_id = room.requests["approved"]
    revoke = f"{room_path(room)}/requests/{approved_id}/revoke"
    refused = post(room.owner, revoke, {}, token_from=room_path(room), csrf_field=f"revoke-{approved_id}-csrf_token")
    assert refused.status_code == 422 and field_errors(body(refused), f"revoke-{approved_id}-reason")
    revoked = post(room.owner, revoke, {f"revoke-{approved_id}-reason": "合作结束"}, token_from=room_path(room),
                   csrf_field=f"revoke-{approved_id}-csrf_token")
    assert revoked.status_code == 302
    assert room.others["approved"].get(room.file_url(room.confidential_file)).status_code == 403


def test_the_owner_edits_the_nda_and_turns_auto_approve_on(room: Room) -> None:
    shown = page(room.owner, room_path(room))
    assert "Current version: 2" in shown and "第二版保密协议" in shown
    empty = post(room.owner, f"{room_path(room)}/nda", {"text_zh": " ", "text_en": ""}, token_from=room_path(room))
    assert empty.status_code == 422
    assert field_errors(body(empty), "text_zh") == ["write the NDA in at least one language"]
    saved = post(room.owner, f"{room_path(room)}/nda", {"text_zh": "第三版", "text_en": "Third"},
                 token_from=room_path(room))
    assert saved.status_code == 302 and "Current version: 3" in page(room.owner, room_path(room))
    assert "accept the new version" in confidential_item(page(room.others["approved"],
                                                              f"/hall/listings/{room.listing_id}"))
    assert "accept the new version 3" in page(room.others["approved"], "/workspace/data-room/requests")
    assert post(room.owner, f"{room_path(room)}/settings",
                {"auto_approve": "y"}, token_from=room_path(room)).status_code == 302
    newcomer = member_of_new_institution(room.app)
    assert accept(room, newcomer).status_code == 302
    assert live_request_id(room.app, room.listing_id, newcomer.institution_id)[1] == "approved"


def test_marking_a_file_confidential_from_the_workspace(room: Room) -> None:
    workspace = f"/workspace/listings/{room.listing_id}"
    shown = page(room.owner, workspace)
    assert "Make confidential" in shown and "Make public" in shown and room_path(room) in shown
    marked = post(room.owner, f"{workspace}/attachments/{room.public_file}/confidential", {"confidential": "1"},
                  token_from=workspace)
    assert marked.status_code == 302 and marked.headers["Location"].endswith("#data-room")
    assert web_links(room.app.test_client(), room.listing_id) == []
    assert room.app.test_client().get(room.file_url(room.public_file)).status_code == 401
    public = post(room.owner, f"{workspace}/attachments/{room.public_file}/confidential", {"confidential": "0"},
                  token_from=workspace)
    assert public.status_code == 302
    assert web_links(room.app.test_client(), room.listing_id) == [room.file_url(room.public_file)]
    outsider = post(room.others["none"], f"{workspace}/attachments/{room.public_file}/confidential",
                    {"confidential": "1"}, token_from="/workspace")
    assert outsider.status_code == 404


def test_the_download_log_lists_a_download(room: Room) -> None:
    assert "No confidential file has been downloaded yet" in page(room.owner, room_path(room))
    approved = room.others["approved"]
    assert approved.get(room.file_url(room.confidential_file)).data == SECRET
    shown = page(room.owner_member, room_path(room))
    log = shown.split('id="downloads-heading"', 1)[1]
    assert "process-recipe.pdf" in log and institution_name(room.app, approved.institution_id) in log


def test_another_institution_gets_404_and_anonymous_visitors_sign_in(room: Room) -> None:
    outsider = room.others["approved"]
    page(outsider, room_path(room), 404)
    request_id = room.requests["requested"]
    refused = post(outsider, f"{room_path(room)}/requests/{request_id}/approve", {}, token_from="/workspace",
                   csrf_field="csrf_token")
    assert refused.status_code == 404
    assert live_request_id(room.app, room.listing_id, room.others["requested"].institution_id)[1] == "requested"
    nda = post(outsider, f"{room_path(room)}/nda", {"text_zh": "改"}, token_from="/workspace")
    assert nda.status_code == 404
    page(outsider, "/hall/listings/987654/nda", 404)
    anonymous = room.app.test_client()
    for path in (room_path(room), nda_path(room), "/workspace/data-room/requests"):
        response = anonymous.get(path, headers=HTML)
        assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in"), path
    owner_view = page(room.owner, nda_path(room))
    assert "already open to you" in owner_view and 'name="accept"' not in owner_view


def test_an_unverified_institution_is_told_and_refused_on_top(room: Room) -> None:
    unverified = member_of_new_institution(room.app, verified=False)
    _english(room.app)
    shown = page(unverified, nda_path(room))
    assert "must be verified" in shown and 'name="accept"' not in shown
    token = hidden_value(page(unverified, "/workspace"), "csrf_token")
    refused = unverified.client.post(nda_path(room), data={"nda_version": "2", "accept": "y", "csrf_token": token},
                                     headers=HTML)
    assert refused.status_code == 403 and "must be verified" in " ".join(flashes(body(refused), "error"))


def test_the_pages_render_in_chinese(room: Room) -> None:
    with room.app.app_context():
        db.session.execute(update(User).values(locale="zh_CN"))
        db.session.commit()
        db.session.remove()
    owner_page = page(room.owner, room_path(room))
    assert '<html lang="zh' in owner_page and "第二版保密协议" in owner_page
    assert "process-recipe.pdf" in page(room.owner, f"/workspace/listings/{room.listing_id}")
    assert "高能量密度" in page(room.others["rejected"], "/workspace/data-room/requests")
