"""The HTTP API and the web console: a thin layer over services."""

from __future__ import annotations

from flask import Flask

from auditcage.config import Settings


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__, static_url_path="/console/static")
    app.config.update(
        SECRET_KEY=settings.secret_key, JSON_AS_ASCII=False, MAX_CONTENT_LENGTH=64 << 20
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    from api import db, errors, headers
    from api.v1 import alerts, health, links, precheck, records, reference

    db.init_app(app, settings)
    errors.init_app(app)
    headers.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(records.bp)
    app.register_blueprint(reference.bp)
    app.register_blueprint(alerts.bp)
    app.register_blueprint(links.bp)
    app.register_blueprint(precheck.bp)

    from api import console

    console.init_app(app)
    console.exempt_api(app)
    return app
