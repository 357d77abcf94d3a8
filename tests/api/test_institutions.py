"""Institutions through the API: the public profile, owner edits guarded by If-Match, tenant isolation
(AUTHZ-01), refusal of fields nobody may set (AUTHZ-03), identity fields fixed after verification,
invitations, roles, and resubmission after rejection. Refused writes also check the database is unchanged."""
from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from hall.extensions import db
from hall.models import AuditEvent, Institution, Invitation, OutboxMail, User
from hall.services.accounts.institutions import review_institution
from tests.support.factories import (
    PASSWORD,
    InstitutionFactory,
    UserFactory,
    make_people,
    sign_in,
    token_from_mail,
    valid_credit_code,
)

COLUMNS = ("kind", "name_zh", "name_en", "credit_code", "region_code", "address", "website", "description",
           "verification_status", "status_reason", "updated_at")


def url(org_id: int, suffix: str = "") -> str:
    return f"/api/v1/institutions/{org_id}{suffix}"


def member_url(org_id: int, user_id: int) -> str:
    return url(org_id, f"/members/{user_id}")


class Caller:
    """A client signed in by cookie that sends the CSRF token with every write."""

    def __init__(self, app: Flask, email: str) -> None:
        self.client: FlaskClient = app.test_client()
        self.csrf = sign_in(self.client, email)

    def get(self, path: str) -> Any:
        return self.client.get(path)

    def write(self, method: str, path: str, json: Any = None, headers: dict[str, str] | None = None) -> Any:
        return self.client.open(path, method=method, json=json,
                                headers={"X-CSRFToken": self.csrf, **(headers or {})})

    def etag(self, org_id: int) -> str:
        response = self.get(url(org_id))
        assert response.status_code == 200, response.get_json()
        assert response.headers.get("ETag")
        return response.headers["ETag"]

    def patch_org(self, org_id: int, changes: dict[str, Any], etag: str | None = None) -> Any:
        return self.write("PATCH", url(org_id), json=changes, headers={"If-Match": etag or self.etag(org_id)})


@pytest.fixture
def people(app: Flask) -> dict[str, Any]:
    with app.app_context():
        return make_people()


def make_org(app: Flask, status: str, **values: Any) -> dict[str, Any]:
    """An institution in ``status`` with an owner and a member (committed)."""
    with app.app_context():
        org = InstitutionFactory(verification_status=status, **values)
        owner = UserFactory(institution=org, institution_role="owner")
        member = UserFactory(institution=org, institution_role="member")
        db.session.commit()
        return {"org": org.id, "owner": owner.email, "member": member.email, "owner_id": owner.id,
                "member_id": member.id}


def org_state(app: Flask, org_id: int) -> dict[str, Any]:
    with app.app_context():
        org = db.session.get(Institution, org_id)
        return {column: getattr(org, column) for column in COLUMNS}


def membership(app: Flask, user_id: int) -> tuple[int | None, str | None]:
    with app.app_context():
        user = db.session.get(User, user_id)
        return user.institution_id, user.institution_role


def audit(app: Flask, action: str) -> list[AuditEvent]:
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()
        db.session.expunge_all()
        return list(events)


def count(app: Flask, model: type, *where: Any) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def assert_problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.get_json()
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["message"] and "request_id" in body
    if field is not None:
        assert field in body.get("errors", {}), body
    return body


# --- public profile


def test_verified_institution_is_public_with_raw_utf8_chinese(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        org = InstitutionFactory(name_zh="北京量子信息科学研究院", description="量子计算与量子通信")
        db.session.commit()
        org_id = org.id
    response = client.get(url(org_id))
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json()["name_zh"] == "北京量子信息科学研究院"
    assert response.get_json()["verification_status"] == "verified"
    assert "北京量子信息科学研究院".encode() in response.data
    assert "量子计算与量子通信".encode() in response.data
    assert b"\\u" not in response.data
    assert response.headers.get("ETag")


def test_pending_and_unknown_institutions_are_404_to_anonymous_and_outsiders(
        app: Flask, client: FlaskClient, people: dict[str, Any]) -> None:
    pending = make_org(app, "pending")
    unknown = assert_problem(client.get(url(999_999)), 404)
    anonymous = assert_problem(client.get(url(pending["org"])), 404)
    outsider = assert_problem(Caller(app, people["owner"]).get(url(pending["org"])), 404)
    assert anonymous["message"] == outsider["message"] == unknown["message"]  # indistinguishable from unknown
    own = Caller(app, pending["member"]).get(url(pending["org"]))
    assert own.status_code == 200
    assert own.get_json()["id"] == pending["org"] and own.get_json()["verification_status"] == "pending"


# --- owner edits with If-Match


def test_patch_without_if_match_is_428(app: Flask, people: dict[str, Any]) -> None:
    before = org_state(app, people["org"])
    owner = Caller(app, people["owner"])
    assert_problem(owner.write("PATCH", url(people["org"]), json={"description": "新简介"}), 428)
    assert org_state(app, people["org"]) == before
    assert audit(app, "institution.profile_updated") == []


def test_cookie_patch_without_csrf_header_is_refused(app: Flask, people: dict[str, Any]) -> None:
    before = org_state(app, people["org"])
    owner = Caller(app, people["owner"])
    response = owner.client.patch(url(people["org"]), json={"description": "跨站请求"},
                                  headers={"If-Match": owner.etag(people["org"])})
    assert_problem(response, 400)
    assert org_state(app, people["org"]) == before


def test_patch_with_current_etag_updates_and_is_audited(app: Flask, people: dict[str, Any]) -> None:
    owner = Caller(app, people["owner"])
    etag = owner.etag(people["org"])
    response = owner.patch_org(people["org"], {"description": "面向未来产业的研究机构", "address": "北京市海淀区"},
                               etag)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["description"] == "面向未来产业的研究机构"
    assert response.headers["ETag"] != etag
    state = org_state(app, people["org"])
    assert (state["description"], state["address"]) == ("面向未来产业的研究机构", "北京市海淀区")
    events = audit(app, "institution.profile_updated")
    assert len(events) == 1
    assert (events[0].object_id, events[0].actor_id) == (str(people["org"]), people["owner_id"])
    assert '"address"' in (events[0].details or "") and '"description"' in (events[0].details or "")
    assert owner.etag(people["org"]) == response.headers["ETag"]


def test_patch_with_stale_etag_is_412(app: Flask, people: dict[str, Any]) -> None:
    owner = Caller(app, people["owner"])
    old_etag = owner.etag(people["org"])
    assert owner.patch_org(people["org"], {"description": "第一版"}, old_etag).status_code == 200
    after_first = org_state(app, people["org"])
    assert_problem(owner.patch_org(people["org"], {"description": "第二版"}, old_etag), 412)
    assert_problem(owner.patch_org(people["org"], {"description": "第二版"}, '"not-an-etag"'), 412)
    assert org_state(app, people["org"]) == after_first
    assert len(audit(app, "institution.profile_updated")) == 1


# --- AUTHZ-01: tenant isolation and owner-only writes


def test_owner_cannot_patch_another_institution(app: Flask, people: dict[str, Any]) -> None:
    before = org_state(app, people["other_org"])
    owner_a = Caller(app, people["owner"])
    etag_b = owner_a.etag(people["other_org"])  # B is verified, so its public ETag is known to anyone
    assert_problem(owner_a.patch_org(people["other_org"], {"description": "被篡改"}, etag_b), 404)
    assert org_state(app, people["other_org"]) == before
    assert audit(app, "institution.profile_updated") == []


def test_owner_cannot_see_or_manage_members_of_another_institution(app: Flask,
                                                                   people: dict[str, Any]) -> None:
    owner_a = Caller(app, people["owner"])
    b, b_owner = people["other_org"], people["other_owner_id"]
    assert_problem(owner_a.get(url(b, "/members")), 404)
    assert_problem(owner_a.write("PATCH", member_url(b, b_owner), json={"role": "member"}), 404)
    assert_problem(owner_a.write("DELETE", member_url(b, b_owner)), 404)
    # B's person addressed through A's own institution id is no member of A either
    assert_problem(owner_a.write("DELETE", member_url(people["org"], b_owner)), 404)
    assert_problem(owner_a.get(url(b, "/invitations")), 404)
    assert_problem(owner_a.write("POST", url(b, "/invitations"), json={"email": "spy@example.cn"}), 404)
    assert membership(app, b_owner) == (b, "owner")
    assert count(app, Invitation) == 0 and count(app, AuditEvent, AuditEvent.action.like("member.%")) == 0


def test_member_cannot_patch_own_institution(app: Flask, people: dict[str, Any]) -> None:
    before = org_state(app, people["org"])
    member = Caller(app, people["member"])
    assert_problem(member.patch_org(people["org"], {"description": "成员改的"}), 403)
    assert org_state(app, people["org"]) == before
    assert audit(app, "institution.profile_updated") == []


# --- AUTHZ-03: fields nobody may set


@pytest.mark.parametrize(("field", "value"),
                         [("verification_status", "verified"), ("id", 999), ("is_admin", True)])
def test_patch_refuses_protected_fields(app: Flask, field: str, value: Any) -> None:
    pending = make_org(app, "pending")
    before = org_state(app, pending["org"])
    owner = Caller(app, pending["owner"])
    response = owner.patch_org(pending["org"], {"description": "顺便改一下", field: value})
    assert_problem(response, 422, field)
    assert org_state(app, pending["org"]) == before
    assert count(app, Institution, Institution.id == 999) == 0
    assert count(app, User, User.is_admin.is_(True)) == 0


# --- identity fields and code checks

IDENTITY_CHANGES = [("kind", "university"), ("name_zh", "更名后的研究院"),
                    ("credit_code", valid_credit_code(77_777))]


@pytest.mark.parametrize(("field", "value"), IDENTITY_CHANGES)
def test_identity_field_is_fixed_once_verified(app: Flask, people: dict[str, Any], field: str,
                                               value: str) -> None:
    before = org_state(app, people["org"])
    owner = Caller(app, people["owner"])
    assert_problem(owner.patch_org(people["org"], {field: value}), 422, field)
    assert org_state(app, people["org"]) == before


def test_whole_profile_sent_back_unchanged_is_accepted_once_verified(app: Flask, people: dict[str, Any]) -> None:
    owner = Caller(app, people["owner"])
    profile = owner.get(url(people["org"])).get_json()
    body = {key: profile[key] for key in ("kind", "name_zh", "credit_code", "region_code")}
    body["address"] = "北京市海淀区中关村南大街"
    response = owner.patch_org(people["org"], body)
    assert response.status_code == 200 and response.get_json()["address"] == body["address"]
    assert json.loads(audit(app, "institution.profile_updated")[-1].details)["fields"] == ["address"]


@pytest.mark.parametrize(("field", "value"), IDENTITY_CHANGES)
def test_identity_field_can_change_while_pending(app: Flask, field: str, value: str) -> None:
    pending = make_org(app, "pending")
    owner = Caller(app, pending["owner"])
    response = owner.patch_org(pending["org"], {field: value})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()[field] == value
    assert org_state(app, pending["org"])[field] == value


def _bad_check_character(code: str) -> str:
    return code[:17] + ("0" if code[17] != "0" else "1")


@pytest.mark.parametrize(("field", "value"), [
    ("credit_code", _bad_check_character(valid_credit_code(4242))),
    ("credit_code", "91110108abc"),
    ("region_code", "991234"),
    ("region_code", "11010"),
])
def test_invalid_codes_are_refused(app: Flask, field: str, value: str) -> None:
    pending = make_org(app, "pending")
    before = org_state(app, pending["org"])
    owner = Caller(app, pending["owner"])
    assert_problem(owner.patch_org(pending["org"], {field: value}), 422, field)
    assert org_state(app, pending["org"]) == before


# --- invitations


def test_owner_invites_and_new_person_joins_once(app: Flask, people: dict[str, Any]) -> None:
    owner = Caller(app, people["owner"])
    response = owner.write("POST", url(people["org"], "/invitations"), json={"email": "newcomer@example.cn"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["email"] == "newcomer@example.cn" and response.get_json()["role"] == "member"
    with app.app_context():
        token = token_from_mail("newcomer@example.cn", "invite")
    invitee = app.test_client()
    accepted = invitee.post("/api/v1/auth/invitations/accept",
                            json={"token": token, "display_name": "新成员", "password": PASSWORD})
    assert accepted.status_code == 200, accepted.get_json()
    body = accepted.get_json()
    assert body["institution"]["id"] == people["org"] and body["institution_role"] == "member"
    assert body["email_confirmed"] is True
    members = owner.get(url(people["org"], "/members"))
    assert members.status_code == 200
    assert {"email": "newcomer@example.cn", "role": "member"}.items() <= next(
        m for m in members.get_json() if m["email"] == "newcomer@example.cn").items()
    sign_in(app.test_client(), "newcomer@example.cn")  # the new account works

    again = invitee.post("/api/v1/auth/invitations/accept",
                         json={"token": token, "display_name": "第二次", "password": PASSWORD})
    assert_problem(again, 422, "token")
    assert count(app, User, User.email == "newcomer@example.cn") == 1
    assert len(audit(app, "member.joined")) == 1


def test_member_cannot_invite(app: Flask, people: dict[str, Any]) -> None:
    member = Caller(app, people["member"])
    response = member.write("POST", url(people["org"], "/invitations"), json={"email": "friend@example.cn"})
    assert_problem(response, 403)
    assert count(app, Invitation) == 0
    assert count(app, OutboxMail, OutboxMail.recipient == "friend@example.cn") == 0


def test_revoked_invitation_cannot_be_accepted(app: Flask, people: dict[str, Any]) -> None:
    owner = Caller(app, people["owner"])
    created = owner.write("POST", url(people["org"], "/invitations"), json={"email": "later@example.cn"})
    assert created.status_code == 201
    invitation_id = created.get_json()["id"]
    with app.app_context():
        token = token_from_mail("later@example.cn", "invite")
    assert [i["id"] for i in owner.get(url(people["org"], "/invitations")).get_json()] == [invitation_id]
    assert owner.write("DELETE", url(people["org"], f"/invitations/{invitation_id}")).status_code == 204
    assert owner.get(url(people["org"], "/invitations")).get_json() == []
    response = app.test_client().post("/api/v1/auth/invitations/accept",
                                      json={"token": token, "display_name": "迟到者", "password": PASSWORD})
    assert_problem(response, 422, "token")
    assert count(app, User, User.email == "later@example.cn") == 0


# --- roles and leaving


def test_owner_promotes_member_to_owner(app: Flask, people: dict[str, Any]) -> None:
    owner = Caller(app, people["owner"])
    response = owner.write("PATCH", member_url(people["org"], people["member_id"]), json={"role": "owner"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["role"] == "owner"
    assert membership(app, people["member_id"]) == (people["org"], "owner")
    assert len(audit(app, "member.role_changed")) == 1
    # with a second owner in place, the first may step down
    demoted = owner.write("PATCH", member_url(people["org"], people["owner_id"]), json={"role": "member"})
    assert demoted.status_code == 200, demoted.get_json()
    assert membership(app, people["owner_id"]) == (people["org"], "member")


def test_last_owner_cannot_be_demoted_or_removed(app: Flask, people: dict[str, Any]) -> None:
    owner = Caller(app, people["owner"])
    own = member_url(people["org"], people["owner_id"])
    assert_problem(owner.write("PATCH", own, json={"role": "member"}), 409)
    assert_problem(owner.write("DELETE", own), 409)
    assert membership(app, people["owner_id"]) == (people["org"], "owner")
    assert audit(app, "member.role_changed") == [] and audit(app, "member.removed") == []


def test_member_cannot_promote_themselves_or_remove_others(app: Flask, people: dict[str, Any]) -> None:
    member = Caller(app, people["member"])
    response = member.write("PATCH", member_url(people["org"], people["member_id"]), json={"role": "owner"})
    assert_problem(response, 403)
    assert_problem(member.write("DELETE", member_url(people["org"], people["owner_id"])), 403)
    assert membership(app, people["member_id"]) == (people["org"], "member")
    assert membership(app, people["owner_id"]) == (people["org"], "owner")
    assert audit(app, "member.role_changed") == [] and audit(app, "member.removed") == []


def test_member_can_leave(app: Flask, people: dict[str, Any]) -> None:
    member = Caller(app, people["member"])
    response = member.write("DELETE", member_url(people["org"], people["member_id"]))
    assert response.status_code == 204
    assert membership(app, people["member_id"]) == (None, None)
    assert len(audit(app, "member.removed")) == 1
    assert_problem(member.get(url(people["org"], "/members")), 404)


# --- rejected institution


def test_owner_resubmits_rejected_institution(app: Flask) -> None:
    pending = make_org(app, "pending")
    with app.app_context():
        admin = UserFactory(is_admin=True)
        review_institution(admin, db.session.get(Institution, pending["org"]), "reject", "营业执照不清晰")
        db.session.commit()
    assert org_state(app, pending["org"])["verification_status"] == "rejected"

    assert_problem(Caller(app, pending["member"]).write("POST", url(pending["org"], "/resubmit")), 403)
    assert org_state(app, pending["org"])["verification_status"] == "rejected"

    owner = Caller(app, pending["owner"])
    response = owner.write("POST", url(pending["org"], "/resubmit"))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["verification_status"] == "pending"
    assert org_state(app, pending["org"])["verification_status"] == "pending"
    assert len(audit(app, "institution.resubmit")) == 1
    assert_problem(owner.write("POST", url(pending["org"], "/resubmit")), 409)  # only a rejected one
