"""Decisions taken through the console's forms, with CSRF protection on (CSRF-01): listings are approved, rejected or
sent back with a reason, revisions are published, institutions are verified, rejected, suspended and reinstated.
Each decision changes the database, is audited with the admin as actor and is mailed to the institution's owners;
a missing or foreign CSRF token (400), a missing reason (422) and a stale page (409) change nothing."""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from hall.extensions import db
from hall.models import Institution, OutboxMail
from tests.support.console import (
    admin_client_for,
    audit_events,
    decide_through_console,
    field_errors,
    flashes,
    input_values,
    listing_row,
    mails,
    make_admin,
    new_listing,
    page_csrf,
    published_listing,
    text,
)
from tests.support.factories import InstitutionFactory, UserFactory

REASON = "请补充专利证书 / add the patent certificate"


def decision_mails(app: Flask, recipient: str, prefix: str) -> list[str]:
    """The bodies of the notification mails to ``recipient`` whose event starts with ``prefix`` (listing. or
    institution.), oldest first: decisions reach people through the notifications inbox and its mail."""
    with app.app_context():
        return list(db.session.scalars(select(OutboxMail.body).where(
            OutboxMail.recipient == recipient, OutboxMail.purpose.startswith(prefix)).order_by(OutboxMail.id)))


@pytest.mark.parametrize(("action", "status"), [("approve", "published"), ("reject", "rejected"),
                                                ("request_changes", "changes_requested")])
def test_a_decision_changes_the_listing_is_audited_and_mailed(app: Flask, admin_client: FlaskClient,
                                                              admin: dict[str, Any], action: str, status: str) -> None:
    listed = new_listing(app)
    reason = "" if action == "approve" else REASON
    response = decide_through_console(admin_client, listed.id, action, reason)
    assert response.status_code == 302, text(response)[:500]
    assert response.headers["Location"].endswith(f"/admin/listings/{listed.id}")
    assert flashes(text(admin_client.get(f"/admin/listings/{listed.id}")), "success")

    stored_status, stored_reason, _ = listing_row(app, listed.id)
    assert stored_status == status and stored_reason == (reason or None)
    event = audit_events(app, "listing", listed.id)[-1]
    assert event["action"] == f"listing.{action}" and event["actor_id"] == admin["id"]
    assert event["reason"] == (reason or None) and event["to_state"] == status
    bodies = decision_mails(app, listed.owner_email, "listing.")
    assert len(bodies) == 1 and (reason or "—") in bodies[0]
    assert mails(app, listed.owner_email, f"listing.{status if action != 'approve' else 'approved'}") == bodies
    public = app.test_client().get(f"/api/v1/hall/listings/{listed.id}")
    assert public.status_code == (200 if action == "approve" else 404)


def _decision_form(client: FlaskClient, listing_id: int, action: str = "approve") -> dict[str, str]:
    values = input_values(text(client.get(f"/admin/listings/{listing_id}")))
    return {"csrf_token": values["csrf_token"], "lock_version": values["lock_version"], "action": action,
            "reason": REASON}


def _assert_untouched(app: Flask, listing_id: int, before: tuple[str, str | None, int], events: int) -> None:
    assert listing_row(app, listing_id) == before
    assert len(audit_events(app, "listing", listing_id)) == events


def test_a_decision_without_the_csrf_token_is_400_and_changes_nothing(app: Flask,
                                                                      admin_client: FlaskClient) -> None:
    listed = new_listing(app)
    before, events = listing_row(app, listed.id), len(audit_events(app, "listing", listed.id))
    form = _decision_form(admin_client, listed.id)
    del form["csrf_token"]
    response = admin_client.post(f"/admin/listings/{listed.id}/decision", data=form)
    assert response.status_code == 400 and response.mimetype == "text/html"
    _assert_untouched(app, listed.id, before, events)
    assert decision_mails(app, listed.owner_email, "listing.") == []


def test_a_token_from_another_session_is_400_and_changes_nothing(app: Flask, admin_client: FlaskClient) -> None:
    listed = new_listing(app)
    other = admin_client_for(app, make_admin(app)["email"])
    before, events = listing_row(app, listed.id), len(audit_events(app, "listing", listed.id))
    form = _decision_form(admin_client, listed.id)
    form["csrf_token"] = page_csrf(other)
    response = admin_client.post(f"/admin/listings/{listed.id}/decision", data=form)
    assert response.status_code == 400
    _assert_untouched(app, listed.id, before, events)
    # ... and the other admin's browser cannot use this session's token either.
    response = other.post(f"/admin/listings/{listed.id}/decision", data=_decision_form(admin_client, listed.id))
    assert response.status_code == 400
    _assert_untouched(app, listed.id, before, events)


@pytest.mark.parametrize("reason", ["", "   "])
@pytest.mark.parametrize("action", ["reject", "request_changes", "suspend"])
def test_a_decision_that_needs_a_reason_is_422_with_the_error_beside_the_field(
        app: Flask, admin_client: FlaskClient, action: str, reason: str) -> None:
    listed = published_listing(app, admin_client) if action == "suspend" else new_listing(app)
    before, events = listing_row(app, listed.id), len(audit_events(app, "listing", listed.id))
    form = _decision_form(admin_client, listed.id, action)
    form["reason"] = reason
    response = admin_client.post(f"/admin/listings/{listed.id}/decision", data=form)
    assert response.status_code == 422
    html = text(response)
    errors = field_errors(html, "reason")
    assert errors and "理由" in errors[0], html  # "a reason is required …", in the page's language
    assert 'aria-describedby="reason-errors"' in html
    _assert_untouched(app, listed.id, before, events)


def _owner_edits(app: Flask, listed: Any, _: FlaskClient) -> None:
    assert listed.owner.patch(listed.id, {"trl": 8}).status_code == 200


def _owner_withdraws(app: Flask, listed: Any, _: FlaskClient) -> None:
    assert listed.owner.post(f"/api/v1/listings/{listed.id}/withdraw").status_code == 200


def _another_admin_suspends(app: Flask, listed: Any, _: FlaskClient) -> None:
    other = admin_client_for(app, make_admin(app)["email"])
    assert decide_through_console(other, listed.id, "suspend", "另一位管理员 / another admin").status_code == 302


@pytest.mark.parametrize("interfere", [_owner_edits, _owner_withdraws, _another_admin_suspends])
def test_a_decision_from_a_stale_page_of_a_published_listing_is_409(app: Flask, admin_client: FlaskClient,
                                                                    interfere: Any) -> None:
    listed = published_listing(app, admin_client)
    form = _decision_form(admin_client, listed.id, "suspend")
    interfere(app, listed, admin_client)
    after, events = listing_row(app, listed.id), len(audit_events(app, "listing", listed.id))
    assert after[2] > int(form["lock_version"])
    response = admin_client.post(f"/admin/listings/{listed.id}/decision", data=form)
    assert response.status_code == 409
    assert flashes(text(response), "error"), text(response)
    _assert_untouched(app, listed.id, after, events)


def test_the_409_page_lets_the_admin_decide_on_the_fresh_state(app: Flask, admin_client: FlaskClient) -> None:
    """The 409 page shows the listing as it now is; its form must carry the fresh lock version (not the stale one
    just posted), or every decision taken from it is refused again."""
    listed = published_listing(app, admin_client)
    stale = _decision_form(admin_client, listed.id, "suspend")
    _owner_edits(app, listed, admin_client)
    refused = admin_client.post(f"/admin/listings/{listed.id}/decision", data=stale)
    assert refused.status_code == 409
    values = input_values(text(refused))
    assert values["lock_version"] == str(listing_row(app, listed.id)[2]), "the 409 page echoes the stale version"
    again = admin_client.post(f"/admin/listings/{listed.id}/decision", data={
        "csrf_token": values["csrf_token"], "lock_version": values["lock_version"], "action": "suspend",
        "reason": REASON})
    assert again.status_code == 302
    assert listing_row(app, listed.id)[0] == "suspended"


def test_approving_a_submitted_listing_from_a_stale_page_is_409(app: Flask, admin_client: FlaskClient) -> None:
    listed = new_listing(app)
    form = _decision_form(admin_client, listed.id, "approve")
    other = admin_client_for(app, make_admin(app)["email"])
    assert decide_through_console(other, listed.id, "request_changes", REASON).status_code == 302
    after, events = listing_row(app, listed.id), len(audit_events(app, "listing", listed.id))
    response = admin_client.post(f"/admin/listings/{listed.id}/decision", data=form)
    assert response.status_code == 409 and flashes(text(response), "error")
    _assert_untouched(app, listed.id, after, events)
    assert after[0] == "changes_requested"
    assert len(decision_mails(app, listed.owner_email, "listing.")) == 1


def test_a_revisions_diff_shows_words_money_and_names_not_codes(app: Flask, admin_client: FlaskClient) -> None:
    listed = published_listing(app, admin_client)
    revised = listed.owner.patch(listed.id, {"price_mode": "fixed", "price_amount": 50_000_000_00,
                                             "region_code": "340104", "keywords": ["固态电池", "硫化物"]})
    assert revised.status_code == 200, revised.get_json()
    assert listed.owner.post(f"/api/v1/listings/{listed.id}/submit").status_code == 200
    html = text(admin_client.get(f"/admin/listings/{listed.id}"))
    diff = html.split('<table class="diff">', 1)[1].split("</table>", 1)[0]
    price = diff.split('data-field="price_amount">', 1)[1].split("</tr>", 1)[0]
    assert "¥50,000,000.00" in price and "5000000000" not in price
    region = diff.split('data-field="region_code">', 1)[1].split("</tr>", 1)[0]
    assert "安徽省 340104" in region and "<td class=\"new\">340104" not in region
    assert "固态电池, 硫化物" in diff.split('data-field="keywords">', 1)[1].split("</tr>", 1)[0]
    assert "price_amount" not in diff.replace('data-field="price_amount"', "")  # labels, not column names
    shown = html.split("<dt>提交时间</dt><dd>", 1)[1].split("</dd>", 1)[0]
    with app.app_context():
        from hall.models import Listing

        listing = db.session.get(Listing, listed.id)
        assert listing is not None and listing.working_version is not None and listing.submitted_at is not None
        revision_time, first_time = listing.working_version.updated_at, listing.submitted_at
    assert revision_time != first_time
    assert f'datetime="{revision_time.isoformat()}"' in shown  # the revision's own time, not the first submission


def test_a_revision_shows_its_differences_and_is_published_when_approved(app: Flask, admin_client: FlaskClient,
                                                                        admin: dict[str, Any]) -> None:
    listed = published_listing(app, admin_client)
    old_title = "Solid-state battery electrolyte with high energy density"
    new_title = "Sulfide solid electrolyte, revised edition"
    assert listed.owner.patch(listed.id, {"title_en": new_title}).status_code == 200
    assert listed.owner.post(f"/api/v1/listings/{listed.id}/submit").status_code == 200
    public = app.test_client()
    assert public.get(f"/api/v1/hall/listings/{listed.id}?lang=en").get_json()["title"] == old_title

    html = text(admin_client.get(f"/admin/listings/{listed.id}"))
    assert '<table class="diff">' in html
    diff = html.split('<table class="diff">', 1)[1].split("</table>", 1)[0]
    assert '<tr data-field="title_en"><th scope="row">标题（英文）</th>' in diff  # the field's label, not its column
    assert old_title in diff and new_title in diff
    assert 'data-field="title_zh"' not in diff  # unchanged fields are not listed

    assert decide_through_console(admin_client, listed.id, "approve").status_code == 302
    assert public.get(f"/api/v1/hall/listings/{listed.id}?lang=en").get_json()["title"] == new_title
    event = audit_events(app, "listing", listed.id)[-1]
    assert event["action"] == "listing.revision_approve" and event["actor_id"] == admin["id"]
    assert '<table class="diff">' not in text(admin_client.get(f"/admin/listings/{listed.id}"))


# --- institutions ------------------------------------------------------------------------------------------------

def _pending_institution(app: Flask, status: str = "pending") -> dict[str, Any]:
    with app.app_context():
        org = InstitutionFactory(verification_status=status)
        owner = UserFactory(institution=org, institution_role="owner")
        UserFactory(institution=org, institution_role="member")
        db.session.commit()
        return {"id": org.id, "owner": owner.email}


def _institution_status(app: Flask, org_id: int) -> tuple[str, str | None]:
    with app.app_context():
        org = db.session.get(Institution, org_id)
        assert org is not None
        return org.verification_status, org.status_reason


def _institution_form(client: FlaskClient, org_id: int, action: str, reason: str = "") -> dict[str, str]:
    values = input_values(text(client.get(f"/admin/institutions/{org_id}")))
    return {"csrf_token": values["csrf_token"], "status": values["status"], "action": action, "reason": reason}


def _decide_institution(client: FlaskClient, org_id: int, action: str, reason: str = "") -> Any:
    return client.post(f"/admin/institutions/{org_id}/decision", data=_institution_form(client, org_id, action,
                                                                                          reason))


def test_verify_suspend_and_reinstate_an_institution(app: Flask, admin_client: FlaskClient,
                                                     admin: dict[str, Any]) -> None:
    org = _pending_institution(app)
    steps = [("verify", "", "pending", "verified"), ("suspend", "营业执照已吊销 / licence revoked", "verified",
                                                     "suspended"), ("reinstate", "", "suspended", "verified")]
    for number, (action, reason, from_state, to_state) in enumerate(steps, start=1):
        response = _decide_institution(admin_client, org["id"], action, reason)
        assert response.status_code == 302, text(response)[:500]
        assert _institution_status(app, org["id"]) == (to_state, reason or None)
        event = audit_events(app, "institution", org["id"])[-1]
        assert event == {"action": f"institution.{action}", "actor_id": admin["id"], "reason": reason or None,
                         "from_state": from_state, "to_state": to_state}
        bodies = decision_mails(app, org["owner"], "institution.")
        assert len(bodies) == number and (reason or "—") in bodies[-1]


def test_rejecting_an_institution_needs_a_reason(app: Flask, admin_client: FlaskClient,
                                                 admin: dict[str, Any]) -> None:
    org = _pending_institution(app)
    response = _decide_institution(admin_client, org["id"], "reject")
    assert response.status_code == 422
    assert field_errors(text(response), "reason")
    assert _institution_status(app, org["id"]) == ("pending", None)
    assert audit_events(app, "institution", org["id"]) == []
    assert decision_mails(app, org["owner"], "institution.") == []

    response = _decide_institution(admin_client, org["id"], "reject", "信用代码与名称不符 / code does not match")
    assert response.status_code == 302
    assert _institution_status(app, org["id"]) == ("rejected", "信用代码与名称不符 / code does not match")
    event = audit_events(app, "institution", org["id"])[-1]
    assert event["action"] == "institution.reject" and event["actor_id"] == admin["id"]
    assert len(decision_mails(app, org["owner"], "institution.")) == 1


def test_suspending_an_institution_needs_a_reason(app: Flask, admin_client: FlaskClient) -> None:
    org = _pending_institution(app, "verified")
    response = _decide_institution(admin_client, org["id"], "suspend", "  ")
    assert response.status_code == 422 and field_errors(text(response), "reason")
    assert _institution_status(app, org["id"]) == ("verified", None)


def test_an_institution_decision_from_a_stale_page_is_409(app: Flask, admin_client: FlaskClient) -> None:
    org = _pending_institution(app)
    stale = _institution_form(admin_client, org["id"], "reject", "资料不全 / incomplete")
    other = admin_client_for(app, make_admin(app)["email"])
    assert _decide_institution(other, org["id"], "verify").status_code == 302
    response = admin_client.post(f"/admin/institutions/{org['id']}/decision", data=stale)
    assert response.status_code == 409 and flashes(text(response), "error")
    assert _institution_status(app, org["id"]) == ("verified", None)
    assert [e["action"] for e in audit_events(app, "institution", org["id"])] == ["institution.verify"]
    assert len(decision_mails(app, org["owner"], "institution.")) == 1


def test_the_institution_409_page_carries_the_fresh_status(app: Flask, admin_client: FlaskClient) -> None:
    """Like the listing page: after a 409 the form must hold the status now shown, so the next decision works."""
    org = _pending_institution(app)
    stale = _institution_form(admin_client, org["id"], "reject", "资料不全 / incomplete")
    other = admin_client_for(app, make_admin(app)["email"])
    assert _decide_institution(other, org["id"], "verify").status_code == 302
    values = input_values(text(admin_client.post(f"/admin/institutions/{org['id']}/decision", data=stale)))
    assert values["status"] == "verified", "the 409 page echoes the stale status"
    again = admin_client.post(f"/admin/institutions/{org['id']}/decision", data={
        "csrf_token": values["csrf_token"], "status": values["status"], "action": "suspend",
        "reason": "复核 / recheck"})
    assert again.status_code == 302
    assert _institution_status(app, org["id"])[0] == "suspended"


def test_an_institution_decision_without_the_csrf_token_is_400(app: Flask, admin_client: FlaskClient) -> None:
    org = _pending_institution(app)
    form = _institution_form(admin_client, org["id"], "verify")
    del form["csrf_token"]
    assert admin_client.post(f"/admin/institutions/{org['id']}/decision", data=form).status_code == 400
    assert _institution_status(app, org["id"]) == ("pending", None)
    assert audit_events(app, "institution", org["id"]) == []
