"""NDA data rooms (FILE-01, AUTHZ-01, TXN-05): confidential files are listed to everyone but open only to the owner
institution and to institutions whose request under the listing's current NDA version was approved; the access
machine (requested → approved | rejected; approved → revoked), stale NDA versions, auto-approve, notifications and
the owner's download log, written only for confidential downloads that succeeded."""
from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError, IntegrityError

from hall.extensions import db
from hall.models import AccessRequest, ListingAttachment, User
from tests.support.data_rooms import (
    HTML,
    RELATIONS,
    SECRET,
    Member,
    Room,
    grab,
    logs,
    member_of_new_institution,
    notifications,
    open_room,
    request_events,
    web_links,
)
from tests.support.listings import PDF, PNG, Owner, upload

CALLERS = ("anonymous", "owner_member", *RELATIONS, "admin")
# The bars: who gets which file. Anything not 200 must not carry the file's bytes.
EXPECTED = {
    "anonymous": (200, 401), "owner_member": (200, 200), "none": (200, 403), "requested": (200, 403),
    "approved": (200, 200), "rejected": (200, 403), "revoked": (200, 403), "stale": (200, 403), "admin": (200, 403),
}


@pytest.fixture
def room(app: Flask, tmp_path: Path) -> Room:
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    return open_room(app)


def _client(room: Room, caller: str) -> object:
    if caller == "anonymous":
        return room.app.test_client()
    if caller == "owner_member":
        return room.owner_member.client
    if caller == "admin":
        return room.admin.client
    return room.others[caller].client


def test_the_download_matrix_api_and_web(room: Room) -> None:
    """AUTHZ-01, FILE-01: every caller × (public, confidential) × (API, the public page's link) answers exactly the
    expected status, and only a 200 carries the file."""
    contents = {room.public_file: PDF, room.confidential_file: SECRET}
    seen: dict[tuple[str, str, str], int] = {}
    for caller in CALLERS:
        client = _client(room, caller)
        links = web_links(client, room.listing_id)
        # both files are listed to all; the page links the confidential one only for those who may open it
        linked = [room.public_file] + ([room.confidential_file] if EXPECTED[caller][1] == 200 else [])
        assert sorted(links) == sorted(room.file_url(a) for a in linked), (caller, links)
        for kind, attachment_id in (("public", room.public_file), ("confidential", room.confidential_file)):
            for door, headers in (("api", {}), ("web", HTML)):
                response = grab(client, room.file_url(attachment_id), headers=headers)
                seen[(caller, kind, door)] = response.status_code
                if response.status_code == 200:
                    assert response.data == contents[attachment_id]
                else:
                    assert contents[attachment_id] not in response.data
                    assert b"%PDF" not in response.data
    expected = {(caller, kind, door): EXPECTED[caller][index] for caller in CALLERS
                for index, kind in enumerate(("public", "confidential")) for door in ("api", "web")}
    assert seen == expected


def test_refusals_say_how_to_get_access(room: Room) -> None:
    url = room.file_url(room.confidential_file)
    anonymous = grab(room.app.test_client(), url).get_json()
    assert anonymous["status"] == 401 and "sign in" in anonymous["message"].lower()
    assert "request access" in room.others["none"].get(url).get_json()["message"]
    assert "waiting" in room.others["requested"].get(url).get_json()["message"]
    assert "accept version 2" in room.others["stale"].get(url).get_json()["message"]
    confidential = room.owner.get(room.file_url(room.confidential_file))
    assert confidential.headers["Cache-Control"] == "private, no-store" and "ETag" not in confidential.headers


def test_every_file_route_keeps_confidential_files_to_those_with_access(room: Room) -> None:
    """The owner's API and workspace downloads answer 404 to other institutions; the console refuses the
    confidential file to admins (the platform has no special access) and still serves public files."""
    for path in (f"/api/v1/listings/{room.listing_id}/attachments/{room.confidential_file}",
                 f"/workspace/listings/{room.listing_id}/attachments/{room.confidential_file}"):
        assert room.owner_member.get(path).status_code == 200
        for caller in ("approved", "none"):
            response = room.others[caller].get(path)
            assert response.status_code == 404 and SECRET not in response.data
    admin = room.admin.client
    refused = grab(admin, f"/admin/attachments/{room.confidential_file}")
    assert refused.status_code == 403 and SECRET not in refused.data
    assert grab(admin, f"/admin/attachments/{room.public_file}").data == PDF
    page = grab(admin, f"/admin/listings/{room.listing_id}").data.decode()
    assert f"/admin/attachments/{room.public_file}\"" in page
    assert f"/admin/attachments/{room.confidential_file}\"" not in page and "process-recipe.pdf" in page


def test_the_public_detail_lists_confidential_files(room: Room) -> None:
    body = grab(room.app.test_client(), f"/api/v1/hall/listings/{room.listing_id}").get_json()
    listed = {a["filename"]: (a["confidential"], a["size"], a["content_type"]) for a in body["attachments"]}
    assert listed == {"brochure.pdf": (False, len(PDF), "application/pdf"),
                      "process-recipe.pdf": (True, len(SECRET), "application/pdf")}


def test_the_log_holds_only_confidential_downloads_that_succeeded(room: Room) -> None:
    """Public files, refusals and the owner's own downloads are not logged; a granted download is,
    and the owner reads who, which institution, when and which file; a failed download writes nothing."""
    approved = room.others["approved"]
    for caller in CALLERS:
        client = _client(room, caller)
        grab(client, room.file_url(room.public_file))
        grab(client, room.file_url(room.confidential_file))
    with approved.client.head(room.file_url(room.confidential_file)) as head:
        assert head.status_code == 200 and head.data == b""
    assert room.others["none"].client.head(room.file_url(room.confidential_file)).status_code == 403
    assert logs(room.app) == [{"attachment_id": room.confidential_file, "listing_id": room.listing_id,
                               "user_id": approved.id, "institution_id": approved.institution_id,
                               "request_id": room.requests["approved"]}]
    response = room.owner.get(f"/api/v1/listings/{room.listing_id}/downloads")
    assert response.status_code == 200 and '"total": 1' in response.headers["X-Pagination"]
    [entry] = response.get_json()
    assert entry["filename"] == "process-recipe.pdf" and entry["user"]["id"] == approved.id
    assert entry["institution"]["id"] == approved.institution_id and entry["downloaded_at"]
    assert approved.get(f"/api/v1/listings/{room.listing_id}/downloads").status_code == 404
    assert grab(room.app.test_client(), f"/api/v1/listings/{room.listing_id}/downloads").status_code == 401
    with room.app.app_context():
        stored = db.session.get(ListingAttachment, room.confidential_file).storage_name
    (Path(room.app.config["UPLOAD_DIR"]) / stored).unlink()
    assert approved.get(room.file_url(room.confidential_file)).status_code == 404
    assert len(logs(room.app)) == 1


def test_the_download_log_is_append_only(room: Room) -> None:
    room.others["approved"].get(room.file_url(room.confidential_file))
    with room.app.app_context():
        for statement in ("UPDATE download_logs SET user_id = user_id", "DELETE FROM download_logs"):
            with pytest.raises(DatabaseError):
                db.session.execute(text(statement))
            db.session.rollback()
        db.session.remove()
    assert len(logs(room.app)) == 1


def test_access_machine_moves_and_refusals(room: Room) -> None:
    """TXN-05: requested → approved | rejected; approved → revoked; every other move 409; each move audited
    with from/to states; reject and revoke need a reason."""
    requested, approved = room.requests["requested"], room.requests["approved"]
    rejected, revoked = room.requests["rejected"], room.requests["revoked"]
    for request_id, action in ((approved, "approve"), (approved, "reject"), (rejected, "approve"),
                               (rejected, "revoke"), (revoked, "approve"), (revoked, "revoke"),
                               (requested, "revoke")):
        response = room.decide(request_id, action)
        assert response.status_code == 409, (request_id, action, response.get_json())
        assert "Cannot" in response.get_json()["message"]
    assert room.decide(requested, "reject", None).status_code == 422
    assert room.decide(requested, "reject", "  ").get_json()["errors"] == {
        "reason": ["say why, for the requesting institution"]}
    assert request_events(room.app, revoked) == [
        ("access_request.requested", None, "requested", room.others["revoked"].id),
        ("access_request.approve", "requested", "approved", room.owner.id),
        ("access_request.revoke", "approved", "revoked", room.owner.id)]
    assert request_events(room.app, rejected)[-1] == ("access_request.reject", "requested", "rejected",
                                                      room.owner.id)
    ok = room.decide(requested, "approve", None, who=room.owner_member)
    assert ok.status_code == 200 and ok.get_json()["status"] == "approved"
    assert room.others["requested"].get(room.file_url(room.confidential_file)).data == SECRET


def test_who_may_decide_and_list(room: Room) -> None:
    """AUTHZ: only the owner institution decides (others 404, the admin without an institution 403, anonymous
    401); each side lists its own requests."""
    requested = room.requests["requested"]
    for who in (room.others["requested"], room.others["approved"]):
        assert room.decide(requested, "approve", None, who=who).status_code == 404
    assert room.decide(requested, "approve", None, who=room.admin).status_code == 403
    assert room.app.test_client().post(f"/api/v1/data-room/requests/{requested}/approve", json={}).status_code == 401
    incoming = room.owner.get("/api/v1/data-room/requests?side=incoming&page_size=50").get_json()
    assert {r["id"] for r in incoming} == set(room.requests.values())
    assert all(r["side"] == "incoming" for r in incoming)
    stale = next(r for r in incoming if r["id"] == room.requests["stale"])
    assert stale["nda_version"] == 1 and stale["current_nda_version"] == 2 and stale["nda_current"] is False
    mine = room.others["rejected"].get("/api/v1/data-room/requests").get_json()
    assert [(r["id"], r["side"], r["status"], r["reason"]) for r in mine] == [
        (room.requests["rejected"], "outgoing", "rejected", "不符合条件")]
    assert room.others["none"].get("/api/v1/data-room/requests").get_json() == []
    waiting = room.owner.get("/api/v1/data-room/requests?status=requested").get_json()
    assert [r["id"] for r in waiting] == [requested]


def test_requesting_access_needs_the_current_nda(room: Room) -> None:
    """A stale version 409; accept must be true; an unverified institution 403; the owner's own
    institution 409; a listing that is not public 404; a request already waiting or granted 409; a rejected or
    revoked institution may ask again; re-accepting a new version restores a stale approval."""
    newcomer = member_of_new_institution(room.app)
    stale_answer = room.ask(newcomer, version=1)
    assert stale_answer.status_code == 409 and "version 2" in stale_answer.get_json()["message"]
    refused = newcomer.post(room.access, {"nda_version": 2, "accept": False})
    assert refused.status_code == 422 and "accept" in refused.get_json()["errors"]
    assert room.ask(member_of_new_institution(room.app, verified=False)).status_code == 403
    assert room.ask(room.owner_member).status_code == 409
    assert newcomer.post("/api/v1/hall/listings/987654/access", {"nda_version": 1, "accept": True}).status_code == 404
    assert room.app.test_client().post(room.access, json={"nda_version": 2, "accept": True}).status_code == 401
    assert room.ask(room.others["requested"]).status_code == 409
    assert room.ask(room.others["approved"]).status_code == 409
    again = room.ask(room.others["rejected"])
    assert again.status_code == 201 and again.get_json()["status"] == "requested"
    assert again.get_json()["id"] != room.requests["rejected"]
    stale = room.others["stale"]
    renewed = room.ask(stale)
    assert renewed.status_code == 200, renewed.get_json()
    assert renewed.get_json()["id"] == room.requests["stale"] and renewed.get_json()["status"] == "approved"
    assert stale.get(room.file_url(room.confidential_file)).data == SECRET
    room.write_nda("第三版")
    assert stale.get(room.file_url(room.confidential_file)).status_code == 403
    assert room.others["approved"].get(room.file_url(room.confidential_file)).status_code == 403


def test_the_nda_is_versioned_and_public_for_public_listings(room: Room) -> None:
    public = grab(room.app.test_client(), f"/api/v1/hall/listings/{room.listing_id}/nda").get_json()
    assert public["version"] == 2 and public["text_zh"] == "第二版保密协议"
    assert room.write_nda("第三版")["version"] == 3
    assert room.owner.put(room.nda, {"text_zh": "", "text_en": None}).status_code == 422
    assert room.others["none"].put(room.nda, {"text_zh": "改"}).status_code == 404
    assert room.app.test_client().put(room.nda, json={"text_zh": "改"}).status_code == 401
    settings = room.owner.get(f"/api/v1/listings/{room.listing_id}/data-room").get_json()
    assert settings["auto_approve"] is False and settings["nda"]["version"] == 3


def test_auto_approve_opens_at_once_and_tells_the_owner(room: Room) -> None:
    url = f"/api/v1/listings/{room.listing_id}/data-room"
    assert room.others["none"].put(url, {"auto_approve": True}).status_code == 404
    response = room.owner.put(url, {"auto_approve": True})
    assert response.status_code == 200 and response.get_json()["auto_approve"] is True
    newcomer = member_of_new_institution(room.app)
    answer = room.ask(newcomer)
    assert answer.status_code == 201 and answer.get_json()["status"] == "approved"
    assert newcomer.get(room.file_url(room.confidential_file)).data == SECRET
    assert request_events(room.app, answer.get_json()["id"]) == [
        ("access_request.requested", None, "requested", newcomer.id),
        ("access_request.approve", "requested", "approved", None)]
    assert ("nda.auto_approved", "nda") in notifications(room.app, room.owner.id)


def test_notifications_go_to_the_owner_on_a_request_and_to_the_requester_on_a_decision(room: Room) -> None:
    owner_inbox = notifications(room.app, room.owner.id)
    assert owner_inbox.count(("nda.requested", "nda")) == 5  # stale, requested, approved, rejected, revoked
    assert notifications(room.app, room.owner_member.id).count(("nda.requested", "nda")) == 5
    assert notifications(room.app, room.others["revoked"].id) == [("nda.approve", "nda"), ("nda.revoke", "nda")]
    assert notifications(room.app, room.others["rejected"].id) == [("nda.reject", "nda")]
    assert notifications(room.app, room.others["requested"].id) == []


def test_marking_files(app: Flask, tmp_path: Path) -> None:
    """Only the owner marks; a cover stays public; the mark follows the file into a revision."""
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    room = open_room(app, relations=("approved",))
    path = f"/api/v1/listings/{room.listing_id}/attachments/{room.public_file}"
    assert room.others["approved"].patch(path, {"confidential": True}).status_code == 404
    assert room.app.test_client().patch(path, json={"confidential": True}).status_code == 401
    assert room.owner.patch(path, {"confidential": True, "x": 1}).status_code == 422
    etag = room.owner.get(f"/api/v1/listings/{room.listing_id}").headers["ETag"]
    edited = room.owner.client.patch(f"/api/v1/listings/{room.listing_id}", json={"title_zh": "修订标题"},
                                     headers={"X-CSRFToken": room.owner.csrf, "If-Match": etag})
    assert edited.status_code == 200, edited.get_json()
    assert room.owner.patch(path, {"confidential": True}).get_json()["confidential"] is True
    with app.app_context():
        flags = {a.version_id: a.confidential for a in db.session.query(ListingAttachment)
                 .filter(ListingAttachment.filename == "brochure.pdf")}
    assert len(flags) == 2 and all(flags.values())
    assert grab(room.app.test_client(), room.file_url(room.public_file)).status_code == 401
    assert room.owner.patch(path, {"confidential": False}).get_json()["confidential"] is False
    assert grab(room.app.test_client(), room.file_url(room.public_file)).data == PDF


def test_a_cover_cannot_be_confidential(app: Flask, tmp_path: Path) -> None:
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    room = open_room(app, relations=())
    owner = Owner(app, _email(app, room.owner))
    cover = upload(owner, room.listing_id, PNG, "cover.png", "cover").get_json()["id"]
    answer = room.owner.patch(f"/api/v1/listings/{room.listing_id}/attachments/{cover}", {"confidential": True})
    assert answer.status_code == 422 and "confidential" in answer.get_json()["errors"]


def _email(app: Flask, member: Member) -> str:
    with app.app_context():
        email = db.session.get(User, member.id).email
        db.session.remove()
    return email


def test_one_live_request_per_institution_is_held_by_the_database(room: Room) -> None:
    """The partial unique index (uq_access_requests_live) refuses a second waiting or approved request of one
    institution for one listing, whatever the service checked; closed ones (rejected, revoked) do not count."""
    with room.app.app_context():
        for relation, allowed in (("requested", False), ("approved", False), ("rejected", True), ("revoked", True)):
            who = room.others[relation]
            db.session.add(AccessRequest(listing_id=room.listing_id, institution_id=who.institution_id,
                                         requested_by_id=who.id, nda_version=2, status="requested"))
            if allowed:
                db.session.flush()
            else:
                with pytest.raises(IntegrityError):
                    db.session.flush()
            db.session.rollback()
        db.session.remove()
