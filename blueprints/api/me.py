"""The signed-in person: profile, password, personal access tokens."""
from __future__ import annotations

from typing import Any

from flask import current_app, session
from flask_login import current_user, login_required, logout_user

from blueprints.actor import actor
from blueprints.api.base import ApiBlueprint
from hall.extensions import limiter
from hall.services.accounts import accounts, sessions
from schemas.accounts import ApiTokenCreatedOut, ApiTokenIn, ApiTokenOut, PasswordChangeIn, ProfileIn, UserOut

blp = ApiBlueprint("me", __name__, url_prefix="/me", description="The signed-in person")


@blp.route("", methods=["GET"])
@login_required
@blp.response(200, UserOut)
def read_me() -> Any:
    """Who is signed in, with their institution and role."""
    return actor()


@blp.route("", methods=["PATCH"])
@login_required
@blp.arguments(ProfileIn)
@blp.response(200, UserOut)
def update_me(data: dict[str, Any]) -> Any:
    """Change display name or language."""
    return accounts.update_profile(actor(), data)


@blp.route("/password", methods=["POST"])
@login_required
@limiter.limit(lambda: current_app.config["PASSWORD_CHANGE_LIMIT"], key_func=lambda: f"user:{current_user.id}")
@blp.arguments(PasswordChangeIn)
@blp.response(204)
def change_password(data: dict[str, Any]) -> None:
    """Change the password; every session (this one too) and every token ends: sign in again."""
    accounts.change_password(actor(), data["current_password"], data["new_password"])
    logout_user()
    session.clear()


@blp.route("/tokens", methods=["GET"])
@login_required
@blp.response(200, ApiTokenOut(many=True))
def list_tokens() -> Any:
    """Your personal access tokens that still work."""
    return sessions.list_api_tokens(actor())


@blp.route("/tokens", methods=["POST"])
@login_required
@blp.arguments(ApiTokenIn)
@blp.response(201, ApiTokenCreatedOut)
def create_token(data: dict[str, Any]) -> Any:
    """Create a token for API clients; its secret is shown in this answer only."""
    token, secret = sessions.create_api_token(actor(), data["name"], data.get("expires_in_days"))
    token.token = secret  # type: ignore[attr-defined]
    return token


@blp.route("/tokens/<int:token_id>", methods=["DELETE"])
@login_required
@blp.response(204)
def revoke_token(token_id: int) -> None:
    """Revoke one of your tokens at once."""
    sessions.revoke_api_token(actor(), token_id)
