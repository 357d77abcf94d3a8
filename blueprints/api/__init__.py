"""The JSON API under /api/v1 (flask-smorest): every blueprint is registered here."""
from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from blueprints.api.auth import blp as auth_blp
from blueprints.api.base import HallApi
from blueprints.api.contracts import blp as contracts_blp
from blueprints.api.data_rooms import blp as data_rooms_blp
from blueprints.api.demands import blp as demands_blp
from blueprints.api.evaluations import blp as evaluations_blp
from blueprints.api.exhibitions import blp as exhibitions_blp
from blueprints.api.hall import blp as hall_blp
from blueprints.api.institutions import blp as institutions_blp
from blueprints.api.insurance import blp as insurance_blp
from blueprints.api.listings import blp as listings_blp
from blueprints.api.matches import blp as matches_blp
from blueprints.api.me import blp as me_blp
from blueprints.api.notifications import blp as notifications_blp
from blueprints.api.orders import blp as orders_blp
from blueprints.api.payments import blp as payments_blp
from blueprints.api.threads import blp as threads_blp
from blueprints.api.transactions import blp as transactions_blp

API_BLUEPRINTS = (auth_blp, me_blp, institutions_blp, listings_blp, hall_blp, orders_blp, transactions_blp,
                  payments_blp, notifications_blp, demands_blp, threads_blp, data_rooms_blp, matches_blp,
                  insurance_blp, contracts_blp, evaluations_blp, exhibitions_blp)


api = HallApi()


def register(app: Flask, csrf: CSRFProtect) -> None:
    """Bind the API (and its OpenAPI document) to the app and mount the API blueprints. Their writes are checked
    for CSRF by the request hook only when the caller is authenticated by the session cookie, so the form-wide
    check is lifted for them."""
    api.init_app(app)
    for blueprint in API_BLUEPRINTS:
        csrf.exempt(blueprint)
        api.register_blueprint(blueprint, url_prefix=f"/api/v1{blueprint.url_prefix or ''}")
