"""GET /api/v1/openapi.json: every /api/v1 route is in the document, with auth and error shapes."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from api import create_app
from api.db import MAX_ROW_ID
from api.openapi import SECURITY_SCHEMES
from auditcage.config import Settings

METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    # The document needs no database: a URL that is never opened is enough.
    url = f"sqlite:///{tmp_path_factory.mktemp('openapi') / 'unused.db'}"
    return create_app(Settings(database_url=url, secret_key="test-secret"))


@pytest.fixture(scope="module")
def document(app: Flask) -> dict[str, Any]:
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def _operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def test_every_api_route_of_the_url_map_is_in_the_document(app, document) -> None:
    routes = {
        (method, re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    assert routes, "no /api/v1 routes: the app factory did not register the JSON API"
    assert routes - set(_operations(document)) == set()
    # and nothing in the document that does not exist
    assert set(_operations(document)) - routes == set()


def test_every_operation_but_the_document_itself_names_its_security_scheme(document) -> None:
    assert document["components"]["securitySchemes"].keys() == SECURITY_SCHEMES.keys()
    for (method, path), operation in _operations(document).items():
        if path == "/api/v1/openapi.json":
            assert operation["security"] == []
            continue
        [requirement] = operation["security"]
        assert requirement.keys() <= SECURITY_SCHEMES.keys(), (method, path)
        assert {"401", "403"} <= operation["responses"].keys(), (method, path)


def test_every_response_has_a_json_schema_and_errors_have_the_error_shape(document) -> None:
    schemas = document["components"]["schemas"]
    for (method, path), operation in _operations(document).items():
        for status, response in operation["responses"].items():
            schema = response["content"]["application/json"]["schema"]
            if status.startswith("4"):
                name = schema["$ref"].rsplit("/", 1)[-1]
                assert "error" in schemas[name]["required"], (method, path, status)


def test_operations_with_a_body_document_it_and_its_rejections(document) -> None:
    for (method, path), operation in _operations(document).items():
        if method == "GET":
            assert "requestBody" not in operation
            continue
        assert "application/json" in operation["requestBody"]["content"], (method, path)
        assert {"400", "413", "422"} & operation["responses"].keys(), (method, path)


def test_request_schemas_are_generated_from_the_views_marshmallow_schemas(document) -> None:
    schemas = document["components"]["schemas"]
    review = schemas["ReviewIn"]
    assert review["properties"]["outcome"]["enum"] == ["accept", "return"]
    assert review["required"] == ["outcome"]
    # marshmallow refuses unknown fields, and the document says so
    assert review["additionalProperties"] is False
    report = schemas["FeedbackReportIn"]
    assert {"kind", "facts"} <= set(report["required"])
    assert report["properties"]["attachments"]["items"] == {
        "$ref": "#/components/schemas/AttachmentIn"
    }


def test_path_parameters_follow_the_url_converters(document) -> None:
    [alert_id] = document["paths"]["/api/v1/alerts/{alert_id}"]["parameters"]
    # api.db.RowIdConverter: an id the database column can hold
    assert alert_id["schema"] == {"type": "integer", "minimum": 0, "maximum": MAX_ROW_ID}
    [dataset] = document["paths"]["/api/v1/reference/{dataset}"]["parameters"]
    assert "units" in dataset["schema"]["enum"] and "staff" in dataset["schema"]["enum"]


def test_the_document_loads_in_schemathesis_with_every_operation_resolved(document) -> None:
    import schemathesis
    from schemathesis.core.result import Err

    results = list(schemathesis.openapi.from_dict(document).get_all_operations())
    assert [r.err() for r in results if isinstance(r, Err)] == []
    assert len(results) == len(_operations(document))
