"""GET /api/v1/openapi.json: the JSON API described from its marshmallow schemas (OpenAPI 3).

Every /api/v1 view has an entry in OPERATIONS, keyed by its Flask endpoint; the paths and their
parameters come from the URL map, so the document cannot drift from the routes that exist.
tests/api/test_openapi.py fails for a route without an entry, and the schemathesis test checks
the answers against the document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any, Final

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Flask, current_app
from flask.typing import ResponseReturnValue
from marshmallow import Schema
from werkzeug.routing import Rule

from api.db import MAX_ROW_ID
from api.schemas import (
    AlertDetailOut,
    AlertHistoryOut,
    AlertListOut,
    ErrorOut,
    IntakeReportOut,
    InvalidPayloadOut,
    InvalidRecordOut,
    PrecheckOut,
    ReferenceLoadOut,
    ReferenceQuery,
    TrackingStateOut,
)
from auditcage.reference.datasets import DATASETS

bp = Blueprint("openapi", __name__, url_prefix="/api/v1")

PREFIX: Final = "/api/v1"

SECURITY_SCHEMES: Final[dict[str, dict[str, Any]]] = {
    "sourceKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "The API key of one source system (AUDITCAGE_SOURCE_KEYS); "
        "X-API-Key: <key> is accepted as well.",
    },
    "adminToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "The administrator token (AUDITCAGE_ADMIN_TOKEN).",
    },
    "staffToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "A signed staff token (`auditcage token issue`); it names one active "
        "staff member, whose role and jurisdiction decide what they see.",
    },
}

ERRORS: Final[dict[int, str]] = {
    400: "The body is not what the operation reads (not JSON, not an object, text with U+0000 "
    "outside record intake, which quarantines such a record alone), or a step the domain refuses "
    "as invalid input.",
    401: "No credentials, or a staff token that is not valid or has expired.",
    403: "The credentials may not do this.",
    404: "No such resource, or one the caller may not see.",
    409: "The alert is not in a state that allows this step, or another user moved it first.",
    413: "The body is larger than the API accepts (64 MB).",
    422: "The payload breaks its schema; `fields` names each field and what is wrong.",
    429: "Too many requests with this key (AUDITCAGE_INTAKE_LIMIT_PER_KEY a minute); "
    "`Retry-After` says how many seconds to wait.",
}


@dataclass(frozen=True)
class Operation:
    """What the document says about one view beyond its path."""

    summary: str
    ok: type[Schema] | dict[str, Any]
    security: str | None
    errors: tuple[int, ...] = ()
    body: type[Schema] | dict[str, Any] | None = None  # a schema: an application/json object
    query: type[Schema] | None = None
    path: dict[str, dict[str, Any]] = field(default_factory=dict)  # overrides of a path parameter
    unprocessable: type[Schema] | dict[str, Any] = InvalidPayloadOut  # what a 422 answers


def _alert_step(summary: str, body: type[Schema] | dict[str, Any]) -> Operation:
    return Operation(
        summary,
        TrackingStateOut,
        "staffToken",
        (400, 401, 403, 404, 409, 413, 422),
        body=body,
    )


def _operations() -> dict[str, Operation]:
    # Imported here: the view modules import api.schemas, as this module does.
    from api.v1.alerts import (
        AcknowledgeIn,
        AlertsQuery,
        AssignIn,
        DismissIn,
        ReturnIn,
        ReviewIn,
    )
    from notifications.report_schema import FeedbackReportIn

    records_body = {
        "required": True,
        "description": "A JSON array of records (catalogue §1), one record as an object, or "
        "NDJSON (also application/ndjson, application/jsonl). Every record is answered in "
        "`outcomes`: one that breaks the contract is quarantined, not refused.",
        "content": {
            "application/json": {
                "schema": {"oneOf": [{"type": "array", "items": {}}, {"type": "object"}]}
            },
            "application/x-ndjson": {"schema": {"type": "string"}},
        },
    }
    reference_body = {
        "required": True,
        "description": "Every row of the dataset (catalogue §7.2), which replaces it as a whole: "
        "a JSON array of objects, NDJSON, or CSV with a header line.",
        "content": {
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
            "application/x-ndjson": {"schema": {"type": "string"}},
            "text/csv": {"schema": {"type": "string"}},
        },
    }
    precheck_body = {
        "required": True,
        "description": "One candidate record (catalogue §1), before the transaction completes.",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
    return {
        "openapi.serve": Operation("This document", {"type": "object"}, None),
        "records_api.ingest": Operation(
            "Take a batch of records from a source system; the outcome of every record",
            IntakeReportOut,
            "sourceKey",
            (400, 401, 403, 413, 429),
            body=records_body,
        ),
        "precheck_api.check": Operation(
            "May the window system complete this transaction? allow, review or block",
            PrecheckOut,
            "sourceKey",
            (400, 401, 403, 413, 422),
            body=precheck_body,
            unprocessable=InvalidRecordOut,
        ),
        "reference_api.replace": Operation(
            "Replace one reference dataset atomically",
            ReferenceLoadOut,
            "adminToken",
            (400, 401, 403, 404, 413, 422),
            body=reference_body,
            query=ReferenceQuery,
            path={"dataset": {"type": "string", "enum": sorted(DATASETS)}},
            unprocessable=ErrorOut,
        ),
        "alerts_api.mine": Operation(
            "The alerts the caller may see, newest first",
            AlertListOut,
            "staffToken",
            (401, 403, 422),
            query=AlertsQuery,
        ),
        "alerts_api.detail": Operation(
            "One alert: hits (masked), routing and deadlines",
            AlertDetailOut,
            "staffToken",
            (401, 403, 404),
        ),
        "alerts_api.history": Operation(
            "Every step taken on one alert", AlertHistoryOut, "staffToken", (401, 403, 404)
        ),
        "alerts_api.acknowledge": _alert_step("Acknowledge (签收), or delegate", AcknowledgeIn),
        "alerts_api.feedback": _alert_step(
            "File an initial feedback or the final report", FeedbackReportIn
        ),
        "alerts_api.review": _alert_step("Accept (and close) or return the report", ReviewIn),
        "alerts_api.return_report": _alert_step("Return the report to the unit", ReturnIn),
        "alerts_api.dismiss": _alert_step("Dismiss the alert as a false positive", DismissIn),
        "alerts_api.assign": _alert_step("Hand a blue alert to a unit", AssignIn),
    }


def build(app: Flask) -> dict[str, Any]:
    """The OpenAPI document of every /api/v1 route of `app` that OPERATIONS describes."""
    spec = APISpec(
        title="auditcage",
        version=version("auditcage"),
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "The JSON API of auditcage (数据铁笼)."},
    )
    for name, scheme in SECURITY_SCHEMES.items():
        spec.components.security_scheme(name, scheme)
    operations = _operations()
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        described = operations.get(rule.endpoint)
        if not rule.rule.startswith(PREFIX) or described is None:
            continue
        path, parameters = _path(rule, described)
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        spec.path(
            path=path,
            parameters=parameters,
            operations={m.lower(): _operation(rule.endpoint, described) for m in methods},
        )
    return spec.to_dict()


_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
_CONVERTED: Final[dict[str, dict[str, Any]]] = {
    "int": {"type": "integer", "minimum": 0, "maximum": MAX_ROW_ID},  # api.db.RowIdConverter
    "default": {"type": "string", "pattern": "^[^/]+$"},
}


def _path(rule: Rule, described: Operation) -> tuple[str, list[dict[str, Any]]]:
    parameters = []
    for match in _ARGUMENT.finditer(rule.rule):
        name, converter = match["name"], match["converter"] or "default"
        schema = described.path.get(name) or _CONVERTED.get(converter, _CONVERTED["default"])
        parameters.append({"in": "path", "name": name, "required": True, "schema": schema})
    return _ARGUMENT.sub(r"{\g<name>}", rule.rule), parameters


def _operation(endpoint: str, described: Operation) -> dict[str, Any]:
    responses: dict[int, Any] = {200: _json("OK", described.ok)}
    for status in described.errors:
        schema = described.unprocessable if status == 422 else ErrorOut
        responses[status] = _json(ERRORS[status], schema)
    if 429 in responses:
        responses[429]["headers"] = {
            "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}
        }
    operation: dict[str, Any] = {
        "operationId": endpoint.replace(".", "_"),
        "summary": described.summary,
        "tags": [endpoint.split(".", 1)[0].removesuffix("_api")],
        "responses": responses,
        "security": [{described.security: []}] if described.security else [],
    }
    if isinstance(described.body, dict):
        operation["requestBody"] = described.body
    elif described.body is not None:  # optional: no body reads as {}
        operation["requestBody"] = {"content": {"application/json": {"schema": described.body}}}
    if described.query is not None:
        operation["parameters"] = [{"in": "query", "schema": described.query}]
    return operation


def _json(description: str, schema: type[Schema] | dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def document() -> dict[str, Any]:
    """The document of the running app, built once."""
    built = current_app.extensions.get("auditcage.openapi")
    if built is None:
        built = current_app.extensions["auditcage.openapi"] = build(current_app)
    return built


@bp.get("/openapi.json")
def serve() -> ResponseReturnValue:
    return document()
