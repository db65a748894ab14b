"""The Kaltura Hub Portal: a Flask + HTMX application."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, error pages and CLI."""
    from portal import config as config_module
    from portal import db, errors, logs, registry, security
    from portal.audit_log import events as audit_events
    from portal.cookies import PortalSessionInterface
    from portal.extensions import csrf, htmx, limiter, login_manager

    instance_path = Path((config or {}).get("INSTANCE_PATH") or ROOT / "instance")
    app = Flask(
        __name__,
        instance_path=str(instance_path),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    settings = config_module.load(instance_path, config)
    app.config.update(settings)
    _framework_settings(app)
    logs.configure(app)
    app.session_interface = PortalSessionInterface()
    from portal.accounts.services import configure_hashing

    configure_hashing(app.config["PASSWORD_HASH_METHOD"])

    if app.config["PROXY_HOPS"]:
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    db.init_app(app)
    security.init_app(app)  # first: the nonce and request id exist even for requests refused early
    audit_events.init_app(app)  # next: refusals by CSRF or rate limits are audited with the request's context
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    htmx.init_app(app)
    errors.init_app(app)
    registry.init_app(app)

    from portal.accounts import bp as accounts_bp
    from portal.audit_log import bp as audit_bp
    from portal.hubs import bp as hubs_bp
    from portal.integrations import bp as integrations_bp
    from portal.main import bp as main_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(hubs_bp)
    app.register_blueprint(integrations_bp)
    app.register_blueprint(audit_bp)
    from portal.identity import views as identity_views

    app.register_blueprint(identity_views.bp)
    from portal import embed
    from portal.library import bp as library_bp

    embed.init_app(app)
    app.register_blueprint(library_bp)
    from portal.status.views import bp as status_bp

    app.register_blueprint(status_bp)

    from portal.cli import register

    register(app)
    return app


def _framework_settings(app: Flask) -> None:
    """Translate our settings into Flask's and the extensions' own names."""
    config = app.config
    development = config["ENV"] != "production"
    config["TESTING"] = config["ENV"] == "testing" or config.get("TESTING", False)
    hours = config["SESSION_HOURS"]
    config.update(
        SQLALCHEMY_ECHO=False,
        PERMANENT_SESSION_LIFETIME=hours * 3600,
        # `__Host-` pins the cookie to this exact host over HTTPS; development runs on plain http.
        SESSION_COOKIE_NAME="portal_session" if development else "__Host-portal_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=not development,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=not development,
        REMEMBER_COOKIE_SAMESITE="Lax",
        # A form left open as long as the session lasts still submits (see templates/base.html).
        WTF_CSRF_TIME_LIMIT=hours * 3600,
        RATELIMIT_STORAGE_URI=config["RATELIMIT_STORAGE_URI"],
        # Redis away: count in this process until it is back, rather than fail every sign-in.
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_HEADERS_ENABLED=True,
        # Refused (413) before anything is read; form fields stay in memory up to the same size.
        MAX_CONTENT_LENGTH=config["MAX_REQUEST_BYTES"],
        MAX_FORM_MEMORY_SIZE=config["MAX_REQUEST_BYTES"],
    )
    if config["TRUSTED_HOSTS"]:
        config["TRUSTED_HOSTS"] = [host.strip() for host in config["TRUSTED_HOSTS"].split(",") if host.strip()]
