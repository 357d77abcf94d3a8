"""NDA data-room tests: a published listing with a public and a confidential file, and institutions standing in
every relation to it (no request, waiting, approved, rejected, revoked, approved under an NDA since replaced),
each with a signed-in member; downloads through the API and through the public page's link."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from sqlalchemy import select

from hall.extensions import db
from hall.models import AuditEvent, DownloadLog, Institution, Notification
from tests.support.factories import InstitutionFactory, UserFactory, sign_in
from tests.support.listings import PDF, Owner, admin_decides, create, upload

SECRET = PDF.replace(b"/Catalog", b"/Catalog /Secret (formula)")
RELATIONS = ("none", "requested", "approved", "rejected", "revoked", "stale")
HTML = {"Accept": "text/html,application/xhtml+xml"}


@dataclass
class Fetched:
    """What a GET answered, read whole and closed (a served file is a stream that must be closed)."""

    status_code: int
    headers: dict[str, str]
    data: bytes

    def get_json(self) -> Any:
        return json.loads(self.data) if self.data.startswith(b"{") or self.data.startswith(b"[") else None


def grab(client: Any, path: str, **kwargs: Any) -> Fetched:
    """GET ``path`` and read the answer whole."""
    with client.get(path, **kwargs) as response:
        return Fetched(response.status_code, dict(response.headers), response.get_data())


class Member:
    """A signed-in person with their own cookie jar; writes carry the CSRF token."""

    def __init__(self, app: Flask, email: str, user_id: int, institution_id: int | None) -> None:
        self.client = app.test_client()
        self.csrf = sign_in(self.client, email)
        self.id, self.institution_id = user_id, institution_id

    def send(self, method: str, path: str, body: Any = None) -> Any:
        return self.client.open(path, method=method, json=body, headers={"X-CSRFToken": self.csrf})

    def post(self, path: str, body: Any = None) -> Any:
        return self.send("POST", path, body)

    def put(self, path: str, body: Any = None) -> Any:
        return self.send("PUT", path, body)

    def patch(self, path: str, body: Any = None) -> Any:
        return self.send("PATCH", path, body)

    def get(self, path: str, **kwargs: Any) -> Fetched:
        return grab(self.client, path, **kwargs)


@dataclass
class Room:
    """A published listing with a public and a confidential file, its owner, and members of other institutions."""

    app: Flask
    listing_id: int
    public_file: int
    confidential_file: int
    owner: Member
    owner_member: Member
    admin: Member
    others: dict[str, Member] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)

    @property
    def nda(self) -> str:
        return f"/api/v1/listings/{self.listing_id}/nda"

    @property
    def access(self) -> str:
        return f"/api/v1/hall/listings/{self.listing_id}/access"

    def file_url(self, attachment_id: int) -> str:
        return f"/api/v1/hall/listings/{self.listing_id}/attachments/{attachment_id}"

    def nda_version(self) -> int:
        response = self.app.test_client().get(f"/api/v1/hall/listings/{self.listing_id}/nda")
        assert response.status_code == 200, response.get_json()
        return int(response.get_json()["version"])

    def ask(self, who: Member, version: int | None = None) -> Any:
        return who.post(self.access, {"nda_version": version or self.nda_version(), "accept": True})

    def decide(self, request_id: int, action: str, reason: str | None = "不符合条件", who: Member | None = None) -> Any:
        return (who or self.owner).post(f"/api/v1/data-room/requests/{request_id}/{action}", {"reason": reason})

    def write_nda(self, text: str = "保密协议：不得向第三方披露。") -> Any:
        response = self.owner.put(self.nda, {"text_zh": text, "text_en": "Keep it secret."})
        assert response.status_code == 200, response.get_json()
        return response.get_json()


def member_of_new_institution(app: Flask, *, verified: bool = True) -> Member:
    """The owner of a new institution (verified unless told otherwise), signed in."""
    with app.app_context():
        org = InstitutionFactory(verification_status="verified" if verified else "pending")
        person = UserFactory(institution=org, institution_role="owner")
        db.session.commit()
        email, user_id, org_id = person.email, person.id, org.id
    return Member(app, email, user_id, org_id)


def open_room(app: Flask, *, relations: tuple[str, ...] = RELATIONS) -> Room:
    """The listing (published with a public and a confidential file, NDA version 2 current) and one institution in
    each of ``relations`` to it; "stale" was approved under version 1."""
    with app.app_context():
        org = InstitutionFactory()
        owner_person = UserFactory(institution=org, institution_role="owner")
        colleague = UserFactory(institution=org, institution_role="member")
        admin_person = UserFactory(is_admin=True)
        db.session.commit()
        emails = (owner_person.email, owner_person.id, colleague.email, colleague.id, admin_person.email,
                  admin_person.id, org.id)
    owner = Member(app, emails[0], emails[1], emails[6])
    uploader = Owner(app, emails[0])
    listing_id = create(uploader)
    public_file = upload(uploader, listing_id, PDF, "brochure.pdf").get_json()["id"]
    secret_file = upload(uploader, listing_id, SECRET, "process-recipe.pdf").get_json()["id"]
    marked = owner.patch(f"/api/v1/listings/{listing_id}/attachments/{secret_file}", {"confidential": True})
    assert marked.status_code == 200 and marked.get_json()["confidential"] is True, marked.get_json()
    assert owner.post(f"/api/v1/listings/{listing_id}/submit").status_code == 200
    admin_decides(app, listing_id, "approve")
    room = Room(app, listing_id, public_file, secret_file, owner, Member(app, emails[2], emails[3], emails[6]),
                Member(app, emails[4], emails[5], None))
    room.write_nda("第一版保密协议")
    if "stale" in relations:
        stale = room.others["stale"] = member_of_new_institution(app)
        response = room.ask(stale)
        assert response.status_code == 201, response.get_json()
        room.requests["stale"] = response.get_json()["id"]
        assert room.decide(room.requests["stale"], "approve", None).status_code == 200
    room.write_nda("第二版保密协议")
    for relation in relations:
        if relation == "stale":
            continue
        who = room.others[relation] = member_of_new_institution(app)
        if relation == "none":
            continue
        response = room.ask(who)
        assert response.status_code == 201, response.get_json()
        room.requests[relation] = request_id = response.get_json()["id"]
        if relation in ("approved", "revoked"):
            assert room.decide(request_id, "approve", None).status_code == 200
        if relation == "rejected":
            assert room.decide(request_id, "reject").status_code == 200
        if relation == "revoked":
            assert room.decide(request_id, "revoke").status_code == 200
    return room


def web_links(client: Any, listing_id: int) -> list[str]:
    """The attachment links the public listing page shows (what a browser follows)."""
    response = client.get(f"/hall/listings/{listing_id}", headers=HTML)
    assert response.status_code == 200
    return re.findall(r'href="(/api/v1/hall/listings/\d+/attachments/\d+)"', response.get_data(as_text=True))


def logs(app: Flask) -> list[dict[str, Any]]:
    """Every download log row, oldest first."""
    with app.app_context():
        rows = [{"attachment_id": r.attachment_id, "listing_id": r.listing_id, "user_id": r.user_id,
                 "institution_id": r.institution_id, "request_id": r.request_id}
                for r in db.session.scalars(select(DownloadLog).order_by(DownloadLog.id))]
        db.session.remove()
    return rows


def request_events(app: Flask, request_id: int) -> list[tuple[str, str | None, str | None, int | None]]:
    """(action, from, to, actor) of the audit events of one access request."""
    with app.app_context():
        rows = [(e.action, e.from_state, e.to_state, e.actor_id) for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.object_type == "access_request",
                                     AuditEvent.object_id == str(request_id)).order_by(AuditEvent.id))]
        db.session.remove()
    return rows


def notifications(app: Flask, user_id: int) -> list[tuple[str, str]]:
    """(event, group) of a person's inbox, oldest first."""
    with app.app_context():
        rows = [(n.event, n.group) for n in db.session.scalars(
            select(Notification).where(Notification.user_id == user_id).order_by(Notification.id))]
        db.session.remove()
    return rows


def institution_name(app: Flask, institution_id: int) -> str:
    with app.app_context():
        name = db.session.get(Institution, institution_id).name_zh
        db.session.remove()
    return name
