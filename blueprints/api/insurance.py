"""The API of first-of-kind insurance policies and premium compensation applications (the institution's side;
the platform decides in the console)."""
from __future__ import annotations

from typing import Any

from flask_login import login_required

from blueprints.actor import actor
from blueprints.api.base import ApiBlueprint, file_download
from blueprints.downloads import send_attachment
from hall.services.policy import insurance, insurance_applications
from schemas.common import ErrorSchema
from schemas.insurance import (
    CompensationApplicationEditIn,
    CompensationApplicationIn,
    CompensationApplicationOut,
    CompensationApplicationQueryIn,
    CompensationDocumentOut,
    CompensationDocumentUploadIn,
    InsuranceEtagSchema,
    InsurancePolicyEditIn,
    InsurancePolicyIn,
    InsurancePolicyOut,
)

blp = ApiBlueprint("insurance", __name__, url_prefix="/insurance",
                   description="First-of-kind insurance compensation: your policies and premium compensation "
                               "applications")


def _with_etag(obj: Any) -> Any:
    blp.set_etag(obj, InsuranceEtagSchema)
    return obj


# --- policies ----------------------------------------------------------------------------------------------------

@blp.route("/policies", methods=["GET"])
@login_required
@blp.response(200, InsurancePolicyOut(many=True))
def list_policies() -> Any:
    """Your institution's insurance policies, newest period first."""
    return insurance.list_own_policies(actor())


@blp.route("/policies", methods=["POST"])
@login_required
@blp.etag
@blp.arguments(InsurancePolicyIn)
@blp.response(201, InsurancePolicyOut)
@blp.alt_response(409, schema=ErrorSchema, description="The insurer's policy number is already recorded.")
def create_policy(data: dict[str, Any]) -> Any:
    """Record a policy of one of your recognised first-of-kind products (insured amount at least the unit price)."""
    return _with_etag(insurance.create_policy(actor(), data))


@blp.route("/policies/<int:policy_id>", methods=["GET"])
@login_required
@blp.etag
@blp.response(200, InsurancePolicyOut)
@blp.alt_response(404, schema=ErrorSchema, description="No policy of your institution with this id.")
def read_policy(policy_id: int) -> Any:
    """One of your policies; the ETag guards edits."""
    return _with_etag(insurance.own_policy(actor(), policy_id))


@blp.route("/policies/<int:policy_id>", methods=["PATCH"])
@login_required
@blp.etag
@blp.arguments(InsurancePolicyEditIn)
@blp.response(200, InsurancePolicyOut)
@blp.alt_response(409, schema=ErrorSchema, description="Changed meanwhile, or an application of it was filed.")
def edit_policy(changes: dict[str, Any], policy_id: int) -> Any:
    """Change a policy. Send If-Match with the ETag you read (428 without, 412 when stale)."""
    policy = insurance.own_policy(actor(), policy_id)
    blp.check_etag(policy, InsuranceEtagSchema)
    return _with_etag(insurance.edit_policy(actor(), policy_id, changes, policy.lock_version))


# --- applications ------------------------------------------------------------------------------------------------

@blp.route("/applications", methods=["GET"])
@login_required
@blp.arguments(CompensationApplicationQueryIn, location="query")
@blp.response(200, CompensationApplicationOut(many=True))
def list_applications(query: dict[str, Any]) -> Any:
    """Your institution's compensation applications, newest first (of one policy, in one status)."""
    return insurance_applications.list_own_applications(actor(), query.get("policy_id"), query.get("status"))


@blp.route("/applications", methods=["POST"])
@login_required
@blp.etag
@blp.arguments(CompensationApplicationIn)
@blp.response(201, CompensationApplicationOut)
@blp.alt_response(409, schema=ErrorSchema, description="The policy year already has an application.")
def create_application(data: dict[str, Any]) -> Any:
    """Start a draft application for one policy year; the platform computes the amount."""
    return _with_etag(insurance_applications.create_application(actor(), data["policy_id"], data["policy_year"],
                                                                 data.get("note")))


@blp.route("/applications/<int:application_id>", methods=["GET"])
@login_required
@blp.etag
@blp.response(200, CompensationApplicationOut)
@blp.alt_response(404, schema=ErrorSchema, description="No application of your institution with this id.")
def read_application(application_id: int) -> Any:
    """One of your applications with its documents and amounts."""
    return _with_etag(insurance_applications.own_application(actor(), application_id))


@blp.route("/applications/<int:application_id>", methods=["PATCH"])
@login_required
@blp.etag
@blp.arguments(CompensationApplicationEditIn)
@blp.response(200, CompensationApplicationOut)
@blp.alt_response(409, schema=ErrorSchema, description="Not a draft, or the year already has an application.")
def edit_application(changes: dict[str, Any], application_id: int) -> Any:
    """Change a draft's policy year or note. Send If-Match with the ETag you read."""
    application = insurance_applications.own_application(actor(), application_id)
    blp.check_etag(application, InsuranceEtagSchema)
    return _with_etag(insurance_applications.edit_application(actor(), application_id, changes,
                                                              application.lock_version))


@blp.route("/applications/<int:application_id>/file", methods=["POST"])
@login_required
@blp.etag
@blp.response(200, CompensationApplicationOut)
@blp.alt_response(409, schema=ErrorSchema, description="Only a draft can be filed.")
def file_application(application_id: int) -> Any:
    """File a draft with the platform (a document attached, the institution verified)."""
    return _with_etag(insurance_applications.file_application(actor(), application_id))


@blp.route("/applications/<int:application_id>/withdraw", methods=["POST"])
@login_required
@blp.etag
@blp.response(200, CompensationApplicationOut)
@blp.alt_response(409, schema=ErrorSchema, description="Only a draft can be withdrawn.")
def withdraw_application(application_id: int) -> Any:
    """Give up a draft; its policy year is free again."""
    return _with_etag(insurance_applications.withdraw_application(actor(), application_id))


@blp.route("/applications/<int:application_id>/documents", methods=["GET"])
@login_required
@blp.response(200, CompensationDocumentOut(many=True))
def list_documents(application_id: int) -> Any:
    """The documents of one of your applications."""
    return insurance_applications.own_application(actor(), application_id).documents


@blp.route("/applications/<int:application_id>/documents", methods=["POST"])
@login_required
@blp.arguments(CompensationDocumentUploadIn, location="multipart")
@blp.response(201, CompensationDocumentOut)
@blp.alt_response(409, schema=ErrorSchema, description="The application is no longer a draft.")
def add_document(form: dict[str, Any], application_id: int) -> Any:
    """Upload a PDF (the policy, the premium invoice, proof of payment) to a draft application."""
    upload = form["file"]
    return insurance_applications.add_document(actor(), application_id, upload.stream, upload.filename or "",
                                               form["kind"])


@blp.route("/applications/<int:application_id>/documents/<int:document_id>", methods=["DELETE"])
@login_required
@blp.response(204)
@blp.alt_response(409, schema=ErrorSchema, description="The application is no longer a draft.")
def remove_document(application_id: int, document_id: int) -> None:
    """Take a document off a draft application."""
    insurance_applications.remove_document(actor(), application_id, document_id)


@blp.route("/applications/<int:application_id>/documents/<int:document_id>", methods=["GET"])
@login_required
@file_download(blp, ["application/pdf"])
def download_document(application_id: int, document_id: int) -> Any:
    """Download a document of one of your applications."""
    document, path = insurance_applications.document_for_institution(actor(), application_id, document_id)
    return send_attachment(document, path)
