"""Core exceptions and marshmallow errors → JSON, in one place."""

from __future__ import annotations

from typing import Final

from flask import Flask
from flask.typing import ResponseReturnValue
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
    app.register_error_handler(HTTPException, http_error)


def invalid_payload(exc: ValidationError) -> ResponseReturnValue:
    return {"error": "invalid_payload", "fields": exc.messages}, 422


def domain_error(exc: AuditcageError) -> ResponseReturnValue:
    status = next((s for cls, s in HTTP_STATUS.items() if isinstance(exc, cls)), 400)
    body: dict[str, object] = {"error": exc.code, "message": str(exc)}
    if isinstance(exc, ReferenceDataError):
        body["problems"] = exc.problems
    return body, status


def http_error(exc: HTTPException) -> ResponseReturnValue:
    name = (exc.name or "error").lower().replace(" ", "_")
    return {"error": name, "message": exc.description}, exc.code or 500
