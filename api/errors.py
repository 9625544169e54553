"""Core exceptions and marshmallow errors → JSON for the API, an HTML page for the console."""

from __future__ import annotations

from typing import Final

from flask import Flask, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from auditcage.errors import AuditcageError, Forbidden, InvalidInput, NotFound, ReferenceDataError
from notifications.lifecycle import InvalidTransition, StaleAlert
from notifications.links import LinkError

HTTP_STATUS: Final = {
    NotFound: 404,
    Forbidden: 403,
    InvalidInput: 400,
    ReferenceDataError: 422,
    InvalidTransition: 409,
    StaleAlert: 409,
    LinkError: 403,
}


def init_app(app: Flask) -> None:
    app.register_error_handler(ValidationError, invalid_payload)
    app.register_error_handler(AuditcageError, domain_error)
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(HTTPException, http_error)


def _console() -> bool:
    return request.path.startswith("/console") or request.path == "/"


def _page(status: int, message: str) -> ResponseReturnValue:
    from api.console.i18n import t

    key = f"error.{status}"
    title = t(key) if key in _known() else ""
    return render_template(
        "console/error.html", status=status, title=title, message=message
    ), status


def _known() -> dict[str, object]:
    from api.console.i18n import catalogue

    return catalogue()


def invalid_payload(exc: ValidationError) -> ResponseReturnValue:
    if _console():
        return _page(422, "; ".join(f"{k}: {v}" for k, v in _flat(exc.messages)))
    return {"error": "invalid_payload", "fields": exc.messages}, 422


def _flat(messages: object, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(messages, dict):
        out: list[tuple[str, str]] = []
        for key, value in messages.items():
            out += _flat(
                value, f"{prefix}{key}." if not isinstance(value, list) else f"{prefix}{key}"
            )
        return out
    if isinstance(messages, list):
        return [(prefix.rstrip("."), "; ".join(str(m) for m in messages))]
    return [(prefix.rstrip("."), str(messages))]


def domain_error(exc: AuditcageError) -> ResponseReturnValue:
    status = next((s for cls, s in HTTP_STATUS.items() if isinstance(exc, cls)), 400)
    if _console():
        return _page(status, str(exc))
    body: dict[str, object] = {"error": exc.code, "message": str(exc)}
    if isinstance(exc, ReferenceDataError):
        body["problems"] = exc.problems
    return body, status


def csrf_error(exc: CSRFError) -> ResponseReturnValue:
    from api.console.i18n import t

    if request.is_json or request.accept_mimetypes.best == "application/json":
        return {"error": "csrf", "message": exc.description}, 400
    return _page(400, t("error.csrf"))


def http_error(exc: HTTPException) -> ResponseReturnValue:
    if _console():
        return _page(exc.code or 500, exc.description or "")
    name = (exc.name or "error").lower().replace(" ", "_")
    # Keep what the exception says beside its body: Retry-After on a 429, Allow on a 405.
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    return {"error": name, "message": exc.description}, exc.code or 500, headers
