"""schemathesis against a live API on loopback: every operation of /api/v1/openapi.json, with a
seeded province and valid credentials, never answers 500 nor anything its document does not say.

The server is a real HTTP server (werkzeug, threaded) over the test database. Each operation is
one pytest item running schemathesis' hypothesis strategies, positive and negative, under the
hypothesis profile (HYPOTHESIS_PROFILE=ci keeps the file to about a minute). schemathesis' own
pytest loader (`schemathesis.pytest.from_fixture`) is not used: 4.32 reads `Function._nodeid`,
which pytest 9.2 no longer has.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
import schemathesis
from hypothesis import given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi import checks as openapi_checks
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from werkzeug.serving import WSGIRequestHandler, make_server

from api import create_app
from api.auth import issue_staff_token
from api.openapi import build
from auditcage import clock
from auditcage.config import Settings
from notifications import pipeline
from tests.conftest import ADMIN_TOKEN, SOURCE_KEYS, truncate_all
from tests.notifications import province as p
from tests.notifications import scenario

# PostgreSQL too: it refuses text SQLite stores (U+0000), which only its run showed.
pytestmark = pytest.mark.db

SECRET = "test-secret"
# Who calls the alert operations: the owner of the seeded alerts, an inspector (review, dismiss,
# assign), an officer of another brigade who must see nothing, and a chief on leave (refused).
STAFF = (p.EAST_CHIEF, p.DETACHMENT_INSPECTOR, p.WEST_OFFICER, p.WEST_CHIEF)
CALLERS = st.just(p.EAST_CHIEF) | st.sampled_from(STAFF)  # the owner, half the time
# Each case is an HTTP round trip through the whole stack: half the profile's examples (20 in CI).
EXAMPLES = max(10, settings.default.max_examples // 2)
# ignored_auth would send every case twice more; the last test here checks auth once per operation.
CHECKS = (
    not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
    openapi_checks.negative_data_rejection,
)

# NDJSON and CSV bodies are documented as strings: send them as the text they are.
schemathesis.serializer.alias(["application/x-ndjson", "text/csv"], "text/plain")


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: object, **kwargs: object) -> None:
        """Thousands of requests: pytest would keep every access-log line."""


@dataclass(frozen=True)
class LiveApi:
    url: str
    alert_ids: tuple[int, ...]


def _seed(engine: Engine, app_settings: Settings) -> tuple[int, ...]:
    """The small province, its red alert routed to 城东, and a blue alert for the inspectors."""
    red = scenario.store_and_route(engine, app_settings)
    with Session(engine) as session, session.begin():
        blue = scenario.alert(session, severity="blue", hit_id="st-blue", at=scenario.NOW).id
    with Session(engine) as session, session.begin():
        notifier = scenario.notifier(session, app_settings)
        assert pipeline.route_new_alerts(session, notifier, now=scenario.NOW) == 1
    return red, blue


@pytest.fixture(scope="module")
def live_api(db_engine: Engine, database_url: str) -> Iterator[LiveApi]:
    truncate_all(db_engine)
    clock.freeze(scenario.NOW + timedelta(minutes=5))
    app_settings = Settings(
        database_url=database_url,
        secret_key=SECRET,
        source_keys=SOURCE_KEYS,
        admin_token=ADMIN_TOKEN,
    )
    alert_ids = _seed(db_engine, app_settings)
    app = create_app(app_settings)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveApi(f"http://127.0.0.1:{server.server_port}", alert_ids)
    finally:
        server.shutdown()
        thread.join()
        app.extensions["auditcage.engine"].dispose()
        clock.freeze(None)
        truncate_all(db_engine)


@pytest.fixture(scope="module")
def api_schema(live_api: LiveApi) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{live_api.url}/api/v1/openapi.json")


def _operations() -> list[tuple[str, str, GenerationMode]]:
    """(method, path, mode) of every documented operation; replacing reference data goes last,
    since a replaced dataset (staff, units) changes what every other operation may do."""
    app = create_app(Settings(database_url="sqlite://", secret_key=SECRET))
    paths = build(app)["paths"]
    found = []
    for path, item in paths.items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            found.append((method.upper(), path, GenerationMode.POSITIVE))
            # an operation without parameters or body has nothing to get wrong
            if item.get("parameters") or operation.get("parameters") or "requestBody" in operation:
                found.append((method.upper(), path, GenerationMode.NEGATIVE))
    return sorted(found, key=lambda op: op[1].startswith("/api/v1/reference"))


OPERATIONS = _operations()


def _credentials(path: str, staff_id: str) -> dict[str, str]:
    if path.startswith(("/api/v1/records", "/api/v1/precheck")):
        return {"Authorization": "Bearer key-violation-0123456789abcdef0123"}
    if path.startswith("/api/v1/reference"):
        return {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    if path.startswith("/api/v1/alerts"):
        return {"Authorization": f"Bearer {issue_staff_token(SECRET, staff_id)}"}
    return {}


def _can_show_its_violation(case: schemathesis.Case) -> bool:
    """Whether a negative case reaches the server broken as it was generated."""
    # NDJSON and CSV are text, and any text is some: only a JSON body can break its schema.
    if case.media_type not in (None, "application/json"):
        return False
    # A query parameter whose value is an empty list is not sent at all.
    return not any(value == [] for value in (case.query or {}).values())


def _cases(
    operation: schemathesis.APIOperation, mode: GenerationMode, alert_ids: tuple[int, ...]
) -> st.SearchStrategy[schemathesis.Case]:
    generated = operation.as_strategy(generation_mode=mode)
    if mode is GenerationMode.NEGATIVE:
        generated = generated.filter(_can_show_its_violation)
    if "{alert_id}" not in operation.path:
        return generated
    # Most cases aim at a seeded alert, so the steps get past "not found"; an empty body is the
    # plain acknowledgement, which generated bodies (a delegation, mostly) seldom are.
    seeded = [
        operation.as_strategy(generation_mode=mode, path_parameters={"alert_id": a}, **body)
        for a in alert_ids
        for body in ({}, {"body": {}} if operation.body and mode is GenerationMode.POSITIVE else {})
    ]
    return generated | st.one_of(*seeded)


@pytest.mark.parametrize(
    ("method", "path", "mode"), OPERATIONS, ids=lambda v: getattr(v, "value", v)
)
def test_every_operation_answers_as_its_document_says(
    method: str,
    path: str,
    mode: GenerationMode,
    live_api: LiveApi,
    api_schema: schemathesis.BaseSchema,
) -> None:
    operation = api_schema[path][method]

    @settings(max_examples=EXAMPLES)
    @given(case=_cases(operation, mode, live_api.alert_ids), staff_id=CALLERS)
    def answers_as_documented(case: schemathesis.Case, staff_id: str) -> None:
        case.call_and_validate(
            base_url=live_api.url,
            headers=_credentials(path, staff_id),
            checks=list(CHECKS),
            timeout=30,
        )

    answers_as_documented()


@pytest.mark.parametrize(("method", "path"), sorted({(m, p) for m, p, _ in OPERATIONS}))
def test_every_secured_operation_refuses_a_call_without_valid_credentials(
    method: str, path: str, live_api: LiveApi, api_schema: schemathesis.BaseSchema
) -> None:
    operation = api_schema[path][method]
    if not operation.definition.raw.get("security"):
        assert path == "/api/v1/openapi.json"
        return
    known = {"alert_id": live_api.alert_ids[0], "dataset": "units"}
    case = operation.Case(path_parameters={k: v for k, v in known.items() if f"{{{k}}}" in path})
    for headers in ({}, {"Authorization": "Bearer not-a-key"}):
        response = case.call(base_url=live_api.url, headers=headers)
        assert response.status_code in (401, 403), (headers, response.text)
        case.validate_response(response, checks=[openapi_checks.status_code_conformance])
