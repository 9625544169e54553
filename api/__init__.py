"""The HTTP API and the web console: a thin layer over services."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from auditcage.config import Settings


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    settings.check_secrets()
    settings.check_intake()
    from auditcage import logs

    logs.configure(settings.log_level)
    app = Flask(__name__, static_url_path="/console/static")
    if settings.proxy_hops:
        # Behind a reverse proxy: the client's address (sign-in limits) and https (HSTS, cookies)
        # come from the headers the proxies set, and only from as many hops as we trust.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops
        )
    app.config.update(
        SECRET_KEY=settings.secret_key, JSON_AS_ASCII=False, MAX_CONTENT_LENGTH=64 << 20
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    from api import db, errors, headers, openapi
    from api.v1 import alerts, guards, health, links, precheck, records, reference

    db.init_app(app, settings)
    from api.ratelimit import IntakeLimits

    app.extensions["auditcage.intake_limits"] = IntakeLimits(settings.intake_limit_per_key)
    errors.init_app(app)
    headers.init_app(app)
    guards.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(records.bp)
    app.register_blueprint(reference.bp)
    app.register_blueprint(alerts.bp)
    app.register_blueprint(links.bp)
    app.register_blueprint(precheck.bp)
    app.register_blueprint(openapi.bp)

    from api import console

    console.init_app(app)
    console.exempt_api(app)
    return app
