"""The web console: server-rendered pages over the same services as the JSON API.

One blueprint per audience (alerts, rules, dashboards, administration) beside sign-in; every view
checks a capability (auditcage.accounts.roles) and, for an alert, the viewer's jurisdiction
(notifications.access). Sessions are Flask-Login's, forms are CSRF-protected by Flask-WTF.
"""

from __future__ import annotations

from flask import Flask, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()


def init_app(app: Flask) -> None:
    from api.console import admin, auth, i18n

    settings = app.extensions["auditcage"]
    app.config.update(
        PERMANENT_SESSION_LIFETIME=settings.session_ttl,
        SESSION_REFRESH_EACH_REQUEST=True,  # the lifetime is an idle timeout
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"),
        WTF_CSRF_TIME_LIMIT=None,  # a token lives as long as its session
    )
    csrf.init_app(app)
    auth.init_app(app)
    i18n.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(admin.bp)
    for name in ("alerts", "rules", "dashboards"):
        _register_optional(app, name)
    app.jinja_env.globals["has_endpoint"] = lambda endpoint: endpoint in app.view_functions

    @app.get("/")
    def root() -> ResponseReturnValue:
        return redirect(url_for("console.home"))


def _register_optional(app: Flask, name: str) -> None:
    """Page families register themselves when their module exists (built issue by issue)."""
    import importlib

    try:
        module = importlib.import_module(f"api.console.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"api.console.{name}":
            raise
        return
    app.register_blueprint(module.bp)


def exempt_api(app: Flask) -> None:
    """The JSON API authenticates by bearer token, never by cookie: CSRF does not apply."""
    for name in (
        "alerts_api",
        "records_api",
        "reference_api",
        "precheck_api",
        "health",
        "alert_links",
    ):
        blueprint = app.blueprints.get(name)
        if blueprint is not None:
            csrf.exempt(blueprint)
