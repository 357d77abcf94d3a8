"""Institution profiles (public read, owner edits), members and invitations."""
from __future__ import annotations

from typing import Any

from flask_login import current_user, login_required

from blueprints.api.base import ApiBlueprint
from hall.services.accounts import institutions
from schemas.accounts import InvitationIn, InvitationOut, MemberOut, RoleIn
from schemas.institutions import InstitutionOut, InstitutionUpdateIn

blp = ApiBlueprint("institutions", __name__, url_prefix="/institutions",
                description="Institutions, their members and invitations")


def _viewer() -> Any:
    return current_user._get_current_object() if current_user.is_authenticated else None


@blp.route("/<int:institution_id>", methods=["GET"])
@blp.etag
@blp.response(200, InstitutionOut)
def read_institution(institution_id: int) -> Any:
    """An institution's profile: verified ones are public; others only for their members and admins."""
    return institutions.get_public_institution(institution_id, _viewer())


@blp.route("/<int:institution_id>", methods=["PATCH"])
@login_required
@blp.etag
@blp.arguments(InstitutionUpdateIn(partial=True))
@blp.response(200, InstitutionOut)
def update_institution(changes: dict[str, Any], institution_id: int) -> Any:
    """The owner edits the profile. Send If-Match with the ETag from GET (428 without it, 412 when stale)."""
    blp.check_etag(institutions.institution_for_member(_viewer(), institution_id), InstitutionOut)
    return institutions.update_institution(_viewer(), institution_id, changes)


@blp.route("/<int:institution_id>/resubmit", methods=["POST"])
@login_required
@blp.response(200, InstitutionOut)
def resubmit(institution_id: int) -> Any:
    """The owner of a rejected institution asks for verification again after correcting it."""
    return institutions.resubmit_institution(_viewer(), institution_id)


@blp.route("/<int:institution_id>/members", methods=["GET"])
@login_required
@blp.response(200, MemberOut(many=True))
def list_members(institution_id: int) -> Any:
    """The people of your institution."""
    return institutions.list_members(_viewer(), institution_id)


@blp.route("/<int:institution_id>/members/<int:user_id>", methods=["PATCH"])
@login_required
@blp.arguments(RoleIn)
@blp.response(200, MemberOut)
def change_role(data: dict[str, Any], institution_id: int, user_id: int) -> Any:
    """An owner changes a member's role (the last owner stays owner)."""
    return institutions.change_member_role(_viewer(), institution_id, user_id, data["role"])


@blp.route("/<int:institution_id>/members/<int:user_id>", methods=["DELETE"])
@login_required
@blp.response(204)
def remove_member(institution_id: int, user_id: int) -> None:
    """An owner removes a member, or a member leaves."""
    institutions.remove_member(_viewer(), institution_id, user_id)


@blp.route("/<int:institution_id>/invitations", methods=["GET"])
@login_required
@blp.response(200, InvitationOut(many=True))
def list_invitations(institution_id: int) -> Any:
    """Open invitations (owners only)."""
    return institutions.list_invitations(_viewer(), institution_id)


@blp.route("/<int:institution_id>/invitations", methods=["POST"])
@login_required
@blp.arguments(InvitationIn)
@blp.response(201, InvitationOut)
def invite(data: dict[str, Any], institution_id: int) -> Any:
    """An owner invites an address; the invitation is mailed with a link valid for 7 days."""
    return institutions.invite_member(_viewer(), institution_id, data["email"], data["role"])


@blp.route("/<int:institution_id>/invitations/<int:invitation_id>", methods=["DELETE"])
@login_required
@blp.response(204)
def revoke_invitation(institution_id: int, invitation_id: int) -> None:
    """An owner withdraws an open invitation."""
    institutions.revoke_invitation(_viewer(), institution_id, invitation_id)
