"""The institution pages of the workspace (AUTHZ-01): members see the institution, its verification in words, its
people; owners edit the profile (identity fields only until verified), resubmit a rejected institution, change
roles, remove people, invite by e-mail and withdraw invitations; a member's attempt is refused with 403 and changes
nothing; another institution's people are 404. Each person manages their API tokens: the secret is shown once, it
works as a Bearer token, and a revoked one is refused. Every form needs its CSRF token; the pages speak English."""
from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from hall.extensions import db
from hall.models import ApiToken, Institution, Invitation, User
from tests.support.console import field_errors, flashes, hidden_value, text
from tests.support.factories import last_mail, make_people, sign_in

HTML = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}


# --- helpers ---------------------------------------------------------------------------------------------------


def browser_of(app: Flask, email: str) -> FlaskClient:
    """A browser of ``email``, signed in, with its pages in English."""
    with app.app_context():
        db.session.execute(User.__table__.update().where(User.email == email).values(locale="en"))
        db.session.commit()
    client = app.test_client()
    sign_in(client, email)
    return client


def post(client: FlaskClient, path: str, data: dict[str, Any] | None = None, *, page: str = "/workspace/members",
         csrf: bool = True) -> TestResponse:
    """POST a form as a browser does, with the CSRF token of ``page`` unless ``csrf`` is False."""
    fields = dict(data or {})
    if csrf:
        shown = client.get(page, headers=HTML)
        assert shown.status_code == 200, f"GET {page} -> {shown.status_code}"
        fields["csrf_token"] = hidden_value(text(shown), "csrf_token")
    return client.post(path, data=fields, headers=HTML)


def institution(app: Flask, org_id: int) -> dict[str, Any]:
    with app.app_context():
        org = db.session.get(Institution, org_id)
        assert org is not None
        return {c.key: getattr(org, c.key) for c in Institution.__table__.columns}


def person(app: Flask, user_id: int) -> tuple[int | None, str | None]:
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        return user.institution_id, user.institution_role


def set_status(app: Flask, org_id: int, status: str, reason: str | None = None) -> None:
    with app.app_context():
        db.session.execute(Institution.__table__.update().where(Institution.id == org_id)
                           .values(verification_status=status, status_reason=reason))
        db.session.commit()


PROFILE = {"name_en": "Institute of Future Materials", "region_code": "310104", "address": "上海市徐汇区 1 号",
           "website": "https://ifm.example.cn", "description": "Solid-state batteries and perovskites."}


@pytest.fixture
def people(app: Flask) -> dict[str, Any]:
    with app.app_context():
        return make_people()


@pytest.fixture
def owner(app: Flask, people: dict[str, Any]) -> FlaskClient:
    return browser_of(app, people["owner"])


@pytest.fixture
def member(app: Flask, people: dict[str, Any]) -> FlaskClient:
    return browser_of(app, people["member"])


# --- the institution's profile -----------------------------------------------------------------------------------


def test_a_member_sees_the_institution_and_its_verification_in_words(
        app: Flask, member: FlaskClient, people: dict[str, Any]) -> None:
    page = member.get("/workspace/institution", headers=HTML)
    assert page.status_code == 200
    html = text(page)
    org = institution(app, people["org"])
    assert org["name_zh"] in html and org["credit_code"] in html
    assert "The institution is verified" in html
    assert 'action="/workspace/institution"' not in html  # members see, owners edit
    assert "Only an owner of the institution can change its profile." in html
    assert 'href="/workspace/institution"' in html  # in the navigation

    set_status(app, people["org"], "rejected", "The licence scan is unreadable.")
    html = text(member.get("/workspace/institution", headers=HTML))
    assert "The platform rejected the verification." in html and "The licence scan is unreadable." in html
    assert "/workspace/institution/resubmit" not in html  # only owners resubmit
    set_status(app, people["org"], "suspended", "Fraud investigation.")
    html = text(member.get("/workspace/institution", headers=HTML))
    assert "The platform suspended the institution" in html and "Fraud investigation." in html


def test_the_owner_edits_the_profile_of_a_verified_institution_without_its_identity_fields(
        app: Flask, owner: FlaskClient, people: dict[str, Any]) -> None:
    before = institution(app, people["org"])
    html = text(owner.get("/workspace/institution", headers=HTML))
    assert 'name="name_en"' in html and 'name="description"' in html
    assert 'name="name_zh"' not in html and 'name="credit_code"' not in html and 'name="kind"' not in html
    assert "fixed once the institution is verified" in html

    saved = post(owner, "/workspace/institution", {**PROFILE, "name_zh": "被篡改的名字"}, page="/workspace/institution")
    assert saved.status_code == 302 and saved.headers["Location"] == "/workspace/institution"
    after = institution(app, people["org"])
    assert {key: after[key] for key in PROFILE} == PROFILE
    assert after["name_zh"] == before["name_zh"]  # a field the page does not offer is not taken
    shown = text(owner.get("/workspace/institution", headers=HTML))
    assert "The profile of the institution is saved." in flashes(shown, "success")


def test_the_owner_of_a_pending_institution_corrects_its_identity_and_bad_input_is_shown_beside_its_field(
        app: Flask, owner: FlaskClient, people: dict[str, Any]) -> None:
    set_status(app, people["org"], "pending")
    html = text(owner.get("/workspace/institution", headers=HTML))
    assert 'name="name_zh"' in html and 'name="credit_code"' in html and 'name="kind"' in html

    refused = post(owner, "/workspace/institution", {"name_zh": "未来材料研究院", "credit_code": "123",
                                                      "website": "not a url", "kind": "university"},
                   page="/workspace/institution")
    assert refused.status_code == 422
    assert field_errors(text(refused), "website")
    assert institution(app, people["org"])["name_zh"] != "未来材料研究院"  # nothing saved

    refused = post(owner, "/workspace/institution", {"name_zh": "未来材料研究院", "credit_code": "123"},
                   page="/workspace/institution")
    assert refused.status_code == 422 and field_errors(text(refused), "credit_code")

    saved = post(owner, "/workspace/institution", {"name_zh": "未来材料研究院", "kind": "university"},
                 page="/workspace/institution")
    assert saved.status_code == 302
    after = institution(app, people["org"])
    assert (after["name_zh"], after["kind"]) == ("未来材料研究院", "university")


def test_a_member_cannot_edit_the_profile_or_resubmit(app: Flask, member: FlaskClient,
                                                       people: dict[str, Any]) -> None:
    before = institution(app, people["org"])
    refused = post(member, "/workspace/institution", PROFILE, page="/workspace/institution")
    assert refused.status_code == 403
    assert "Only an owner of the institution may do this." in flashes(text(refused), "error")
    assert institution(app, people["org"]) == before

    set_status(app, people["org"], "rejected", "Wrong code.")
    assert post(member, "/workspace/institution/resubmit", page="/workspace/institution").status_code == 403
    assert institution(app, people["org"])["verification_status"] == "rejected"


def test_the_owner_of_a_rejected_institution_resubmits_it(app: Flask, owner: FlaskClient,
                                                          people: dict[str, Any]) -> None:
    set_status(app, people["org"], "rejected", "Wrong code.")
    html = text(owner.get("/workspace/institution", headers=HTML))
    assert 'action="/workspace/institution/resubmit"' in html
    done = post(owner, "/workspace/institution/resubmit", page="/workspace/institution")
    assert done.status_code == 302
    assert institution(app, people["org"])["verification_status"] == "pending"
    html = text(owner.get("/workspace/institution", headers=HTML))
    assert "sent for verification again" in html and "/workspace/institution/resubmit" not in html

    again = post(owner, "/workspace/institution/resubmit", page="/workspace/institution")
    assert again.status_code == 409  # no longer rejected: the state machine refuses


# --- members and invitations -------------------------------------------------------------------------------------


def test_members_see_the_people_and_their_roles_but_no_owner_forms(app: Flask, member: FlaskClient,
                                                                    people: dict[str, Any]) -> None:
    page = member.get("/workspace/members", headers=HTML)
    assert page.status_code == 200
    html = text(page)
    assert people["owner"] in html and people["member"] in html and people["other_owner"] not in html
    assert ">Owner<" in html and ">Member<" in html
    assert "/role" not in html and "/workspace/invitations" not in html
    assert f'action="/workspace/members/{people["member_id"]}/remove"' in html  # they may leave
    assert f'action="/workspace/members/{people["owner_id"]}/remove"' not in html


def test_the_owner_invites_by_email_and_the_mail_links_to_the_acceptance_page(
        app: Flask, owner: FlaskClient, people: dict[str, Any]) -> None:
    sent = post(owner, "/workspace/invitations", {"email": "Wang.Wei@Example.CN", "role": "owner"})
    assert sent.status_code == 302
    with app.app_context():
        mail = last_mail("wang.wei@example.cn", "invite")
        assert re.search(r"/accept-invitation\?token=\S+", mail.body)
        invitation = db.session.scalars(select(Invitation).where(Invitation.email == "wang.wei@example.cn")).one()
        assert (invitation.institution_id, invitation.role) == (people["org"], "owner")
    html = text(owner.get("/workspace/members", headers=HTML))
    assert "The invitation is mailed to wang.wei@example.cn." in flashes(html, "success")
    assert "wang.wei@example.cn" in html and f"/workspace/invitations/{invitation.id}/revoke" in html

    refused = post(owner, "/workspace/invitations", {"email": "not-an-address", "role": "member"})
    assert refused.status_code == 422 and field_errors(text(refused), "email")
    taken = post(owner, "/workspace/invitations", {"email": people["other_owner"], "role": "member"})
    assert taken.status_code == 409
    assert "already belongs to an institution" in " ".join(flashes(text(taken), "error"))


def test_the_owner_withdraws_an_invitation(app: Flask, owner: FlaskClient, member: FlaskClient,
                                           people: dict[str, Any]) -> None:
    assert post(owner, "/workspace/invitations", {"email": "zhao@example.cn", "role": "member"}).status_code == 302
    with app.app_context():
        invitation_id = db.session.scalars(select(Invitation.id).where(Invitation.email == "zhao@example.cn")).one()
    path = f"/workspace/invitations/{invitation_id}/revoke"
    assert post(member, path).status_code == 403  # a member cannot

    assert post(owner, path).status_code == 302
    with app.app_context():
        invitation = db.session.get(Invitation, invitation_id)
        assert invitation is not None and invitation.revoked_at is not None
    html = text(owner.get("/workspace/members", headers=HTML))
    assert "The invitation is withdrawn." in flashes(html) and "zhao@example.cn" not in html
    assert post(owner, path).status_code == 404  # no longer open


def test_the_owner_changes_a_role_and_removes_a_member_and_the_last_owner_stays(
        app: Flask, owner: FlaskClient, people: dict[str, Any]) -> None:
    member_id, owner_id = people["member_id"], people["owner_id"]
    last = post(owner, f"/workspace/members/{owner_id}/role", {"role": "member"})
    assert last.status_code == 409
    assert "keeps at least one owner" in " ".join(flashes(text(last), "error"))
    assert person(app, owner_id)[1] == "owner"

    assert post(owner, f"/workspace/members/{member_id}/role", {"role": "owner"}).status_code == 302
    assert person(app, member_id)[1] == "owner"
    assert post(owner, f"/workspace/members/{member_id}/role", {"role": "member"}).status_code == 302
    assert person(app, member_id)[1] == "member"
    assert post(owner, f"/workspace/members/{member_id}/role", {"role": "admin"}).status_code == 422

    removed = post(owner, f"/workspace/members/{member_id}/remove")
    assert removed.status_code == 302 and person(app, member_id) == (None, None)
    assert "The person is removed from the institution." in flashes(text(owner.get("/workspace/members",
                                                                                   headers=HTML)))
    leaving = post(owner, f"/workspace/members/{owner_id}/remove")
    assert leaving.status_code == 409 and person(app, owner_id) == (people["org"], "owner")


def test_a_member_cannot_change_roles_or_remove_people_but_may_leave(
        app: Flask, member: FlaskClient, people: dict[str, Any]) -> None:
    member_id, owner_id = people["member_id"], people["owner_id"]
    refused = post(member, f"/workspace/members/{member_id}/role", {"role": "owner"})
    assert refused.status_code == 403 and "Only an owner" in " ".join(flashes(text(refused), "error"))
    assert post(member, f"/workspace/members/{owner_id}/remove").status_code == 403
    assert post(member, "/workspace/invitations", {"email": "x@example.cn", "role": "member"}).status_code == 403
    assert person(app, member_id) == (people["org"], "member") and person(app, owner_id) == (people["org"], "owner")
    with app.app_context():
        assert db.session.scalars(select(Invitation)).first() is None

    left = post(member, f"/workspace/members/{member_id}/remove")
    assert left.status_code == 302 and person(app, member_id) == (None, None)


def test_another_institutions_people_are_never_touched(app: Flask, owner: FlaskClient,
                                                       people: dict[str, Any]) -> None:
    other = people["other_owner_id"]
    assert post(owner, f"/workspace/members/{other}/role", {"role": "member"}).status_code == 404
    assert post(owner, f"/workspace/members/{other}/remove").status_code == 404
    assert person(app, other) == (people["other_org"], "owner")


def test_visitors_are_sent_to_sign_in_and_people_without_an_institution_are_told_how_to_join(
        app: Flask, client: FlaskClient) -> None:
    for path in ("/workspace/institution", "/workspace/members", "/account/tokens"):
        response = client.get(path, headers=HTML)
        assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in"), path
    with app.app_context():
        people = make_people()
        db.session.execute(User.__table__.update().where(User.id == people["member_id"])
                           .values(institution_id=None, institution_role=None))
        db.session.commit()
    loner = browser_of(app, people["member"])
    assert loner.get("/workspace/members", headers=HTML).status_code == 403
    assert loner.get("/account/tokens", headers=HTML).status_code == 200  # tokens belong to the person


# --- API tokens --------------------------------------------------------------------------------------------------


def test_a_token_is_shown_once_works_as_bearer_and_stops_working_when_revoked(
        app: Flask, member: FlaskClient, people: dict[str, Any]) -> None:
    page = member.get("/account/tokens", headers=HTML)
    assert page.status_code == 200 and "You have no tokens." in text(page)

    created = post(member, "/account/tokens", {"name": "lab sync", "expires_in_days": "30"}, page="/account/tokens")
    assert created.status_code == 201
    html = text(created)
    match = re.search(r'<code class="token-value" id="new-token">([^<]+)</code>', html)
    assert match, html
    secret = match.group(1)
    assert "shown this once and never again" in html
    assert created.headers["Cache-Control"].startswith("private, no-store")

    listed = text(member.get("/account/tokens", headers=HTML))
    assert "lab sync" in listed and secret not in listed  # never again
    api = app.test_client()
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200 and me.get_json()["email"] == people["member"]

    with app.app_context():
        token_id = db.session.scalars(select(ApiToken.id).where(ApiToken.name == "lab sync")).one()
    intruder = browser_of(app, people["owner"])
    assert post(intruder, f"/account/tokens/{token_id}/revoke", page="/account/tokens").status_code == 404
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200

    revoked = post(member, f"/account/tokens/{token_id}/revoke", page="/account/tokens")
    assert revoked.status_code == 302
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert "lab sync" not in text(member.get("/account/tokens", headers=HTML))


def test_a_token_form_with_bad_input_is_refused_beside_its_field(app: Flask, member: FlaskClient) -> None:
    for data, field in (({"name": "", "expires_in_days": "5"}, "name"),
                        ({"name": "x", "expires_in_days": "400"}, "expires_in_days"),
                        ({"name": "x", "expires_in_days": "soon"}, "expires_in_days")):
        refused = post(member, "/account/tokens", data, page="/account/tokens")
        assert refused.status_code == 422 and field_errors(text(refused), field), data
    with app.app_context():
        assert db.session.scalars(select(ApiToken)).first() is None


# --- CSRF --------------------------------------------------------------------------------------------------------


def test_every_post_without_its_csrf_token_is_refused_and_changes_nothing(
        app: Flask, owner: FlaskClient, people: dict[str, Any]) -> None:
    before = institution(app, people["org"])
    member_id = people["member_id"]
    for path, data in (("/workspace/institution", PROFILE), ("/workspace/institution/resubmit", {}),
                       (f"/workspace/members/{member_id}/role", {"role": "owner"}),
                       (f"/workspace/members/{member_id}/remove", {}),
                       ("/workspace/invitations", {"email": "a@example.cn", "role": "member"}),
                       ("/workspace/invitations/1/revoke", {}),
                       ("/account/tokens", {"name": "x"}), ("/account/tokens/1/revoke", {})):
        assert post(owner, path, data, csrf=False).status_code == 400, path
    assert institution(app, people["org"]) == before
    assert person(app, member_id) == (people["org"], "member")
    with app.app_context():
        assert db.session.scalars(select(Invitation)).first() is None
        assert db.session.scalars(select(ApiToken)).first() is None


def test_the_pages_speak_english_when_asked(owner: FlaskClient) -> None:
    for path, words in (("/workspace/institution", ("Verification", "Edit the profile", "Save the profile")),
                        ("/workspace/members", ("Invite someone", "Open invitations", "Change role")),
                        ("/account/tokens", ("API tokens", "Create a token"))):
        html = text(owner.get(path, headers=HTML))
        assert '<html lang="en">' in html, path
        for word in words:
            assert word in html, (path, word)


def test_the_pages_render_in_chinese_by_default(app: Flask, people: dict[str, Any]) -> None:
    client = app.test_client()
    sign_in(client, people["owner"])
    for path in ("/workspace/institution", "/workspace/members", "/account/tokens"):
        page = client.get(path, headers=HTML)
        assert page.status_code == 200 and '<html lang="zh-CN">' in text(page), path
