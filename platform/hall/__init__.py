"""The publishing hall and trading platform for future-industry achievements.

``create_app`` builds the Flask application from small ``register_*`` steps.
"""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter

from hall.config import INSTANCE_DIR, load_settings
from hall.db import configure_engine, engine_options, include_in_autogenerate


def create_app(config: Any = None) -> Flask:
    """Build the application. ``config`` is None (read HALL_ENV), a name, a config class, or a dict of overrides."""
    app = Flask(__name__, instance_path=str(INSTANCE_DIR))
    app.url_map.converters["int"] = BoundedIntConverter  # before any route is added
    settings = load_settings(config)
    settings.setdefault("SQLALCHEMY_ENGINE_OPTIONS",
                        engine_options(settings["SQLALCHEMY_DATABASE_URI"], settings))
    app.config.from_mapping(settings)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Chinese as UTF-8, not \u escapes
    app.json.sort_keys = False  # type: ignore[attr-defined]  # field errors may mix list indexes and names
    trust_reverse_proxies(app)
    configure_logging(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_request_hooks(app)
    register_commands(app)
    skip_idle_rate_limit_check(app)
    answer_recent_hall_reads(app)
    return app


class BoundedIntConverter(IntegerConverter):
    """Ids in URLs: 1 … 2**31 − 1, so a huge number is a 404 rather than an overflow in the database."""

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def trust_reverse_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXIES proxies, take the client address and scheme from X-Forwarded-* (rate limits and
    session records need the real client, not the proxy)."""
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]


def configure_logging(app: Flask) -> None:
    """Log lines carry the request id (ERR-01) so a 500's correlation id can be found in the log."""
    from hall.logging_setup import install_request_id_logging

    install_request_id_logging(app)


def register_extensions(app: Flask) -> None:
    """Bind the extension objects and set up the database engine."""
    from flask_babel import get_locale

    from hall import auth, models  # noqa: F401  (models: every table on the metadata)
    from hall.extensions import babel, csrf, db, limiter, login_manager, migrate
    from hall.i18n import money, select_locale
    from hall.payments import EXTENSION_KEY, build_gateway

    db.init_app(app)
    migrate.init_app(app, db, directory=_migrations_dir(), render_as_batch=True,
                     include_object=include_in_autogenerate)
    login_manager.init_app(app)
    auth.configure_login_manager(login_manager)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    app.extensions[EXTENSION_KEY] = build_gateway(app.config)
    app.jinja_env.filters["money"] = money
    app.jinja_env.globals["get_locale"] = get_locale
    with app.app_context():
        configure_engine(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])


def skip_idle_rate_limit_check(app: Flask) -> None:
    """Take Flask-Limiter's before-request check out when it has nothing to check.

    The routes' own limits (``@limiter.limit``, ``shared_limit``) are checked by their decorators whatever this
    does; the before-request check only adds application-wide, default, meta and blueprint limits, and this app
    configures none of those by default. Without them the check found nothing to count yet cost about a fifth of
    a cached hall read. Configure any (RATELIMIT_DEFAULT, RATELIMIT_APPLICATION, …) and it stays."""
    from hall.extensions import limiter

    manager = limiter.limit_manager
    idle = not (manager.default_limits or manager.application_limits or limiter._meta_limits
                or manager._blueprint_limits)
    hooks = app.before_request_funcs.get(None, [])
    if idle and limiter._check_request_limit in hooks:
        hooks.remove(limiter._check_request_limit)


def answer_recent_hall_reads(app: Flask) -> None:
    """Put ``recent_answers`` in front of the application, unless it has limits that must count every request
    (an application-wide or default limit keeps Flask-Limiter's before-request check in place)."""
    from hall.extensions import limiter
    from hall.recent_answers import RecentAnswers

    if limiter._check_request_limit not in app.before_request_funcs.get(None, []):
        app.wsgi_app = RecentAnswers(app.wsgi_app)  # type: ignore[method-assign]


def _migrations_dir() -> str:
    from pathlib import Path

    return str(Path(__file__).resolve().parents[2] / "migrations")


def register_blueprints(app: Flask) -> None:
    """Mount the JSON API under /api/v1, the admin console under /admin, the web front at /, and the health
    checks."""
    from blueprints import api as api_blueprints
    from blueprints import display
    from blueprints.admin import admin
    from blueprints.health import health
    from blueprints.web import web
    from hall.extensions import csrf

    app.register_blueprint(health)
    app.register_blueprint(admin)
    app.register_blueprint(web)
    display.install(app)
    api_blueprints.register(app, csrf)


def register_errorhandlers(app: Flask) -> None:
    """Every error answers a JSON problem document (ERR-01)."""
    from hall.errors import install_error_handlers

    install_error_handlers(app)


def register_request_hooks(app: Flask) -> None:
    """Request ids, the transaction per request, CSRF for cookie-authenticated API calls, security headers."""
    from hall.request_hooks import install_request_hooks

    install_request_hooks(app)


def register_commands(app: Flask) -> None:
    """The ``flask hall …`` commands."""
    import hall.cli_contracts  # noqa: F401  (registers backfill-contract-records on hall_cli)
    import hall.cli_demands  # noqa: F401  (registers expire-demands on hall_cli)
    import hall.cli_search  # noqa: F401  (registers reindex-hall on hall_cli)
    import hall.cli_trading  # noqa: F401  (registers the trading commands on hall_cli)
    from hall.cli import hall_cli

    app.cli.add_command(hall_cli)


logging.getLogger(__name__).addHandler(logging.NullHandler())
