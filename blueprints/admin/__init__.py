"""The admin console under /admin: server-rendered pages and forms for platform admins only (AUTHZ-02)."""
from __future__ import annotations

from flask import Blueprint, abort, g, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

admin = Blueprint("admin", __name__, url_prefix="/admin")

PUBLIC_ENDPOINTS = frozenset({"admin.sign_in"})


@admin.before_request
def require_admin() -> Response | None:
    """Anonymous visitors go to the sign-in page; signed-in people who are not admins get 403."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated or g.get("auth_method") != "session":
        return redirect(url_for("admin.sign_in", next=request.full_path.rstrip("?")))
    if not current_user.is_admin:
        abort(403)
    return None


from blueprints.admin import (  # noqa: E402,F401
    contracts,
    demands,
    evaluations,
    exhibitions,
    institutions,
    insurance,
    listings,
    orders,
    pages,
    session,
    threads,
)
