"""What schemathesis found in the JSON API, pinned as plain examples (test_schemathesis.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from api.auth import issue_staff_token
from tests.builders import make_record
from tests.conftest import ADMIN_TOKEN
from tests.notifications import province as p
from tests.notifications.scenario import load_province

pytestmark = pytest.mark.db

VIOLATION_KEY = {"Authorization": "Bearer key-violation"}


@pytest.fixture
def province(committing_engine: Engine) -> None:
    load_province(committing_engine)


def _staff(staff_id: str = p.EAST_CHIEF) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_staff_token('test-secret', staff_id)}"}


def test_an_alert_id_beyond_the_id_column_is_not_found_rather_than_a_database_error(
    client,
) -> None:
    # SQLite's driver overflowed on it, PostgreSQL's integer would have refused it: both a 500.
    response = client.get("/api/v1/alerts/539275772251480369659904", headers=_staff())
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_a_record_with_a_nul_character_is_refused_not_a_lost_batch(client) -> None:
    # PostgreSQL cannot store U+0000 in jsonb: the batch failed as a whole with a 500.
    record = make_record("violation", record_id="violation:nul-1", subject_name="张\x00三")
    response = client.post("/api/v1/records", json=[record], headers=VIOLATION_KEY)
    assert response.status_code == 400
    assert "U+0000" in response.get_json()["message"]


def test_an_escaped_backslash_before_u0000_is_text_and_accepted(client) -> None:
    record = make_record("violation", record_id="violation:nul-2", reason_text="路径\\u0000")
    response = client.post("/api/v1/records", json=[record], headers=VIOLATION_KEY)
    assert response.status_code == 200 and response.get_json()["read"] == 1


def test_nul_is_refused_in_ndjson_precheck_and_reference_bodies_as_well(client) -> None:
    ndjson = b'{"record_id": "violation:nul-3", "subject_name": "\\u0000"}\n'
    answers = [
        client.post(
            "/api/v1/records",
            data=ndjson,
            headers={**VIOLATION_KEY, "Content-Type": "application/x-ndjson"},
        ),
        client.post("/api/v1/precheck", json={"subject_name": "\x00"}, headers=VIOLATION_KEY),
        client.put(
            "/api/v1/reference/watchlist",
            data=b"kind,value\nphone,138\x00\n",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "text/csv"},
        ),
    ]
    assert [a.status_code for a in answers] == [400, 400, 400]


def test_an_unknown_alert_filter_is_refused_rather_than_ignored(client, province) -> None:
    # `?stauts=pushed` listing every alert would look like an answer.
    response = client.get("/api/v1/alerts?stauts=pushed", headers=_staff())
    assert response.status_code == 422
    assert response.get_json()["fields"] == {"stauts": ["Unknown field."]}


def test_a_dismissal_reason_is_checked_by_the_schema_and_named_in_the_answer(
    client, province
) -> None:
    response = client.post(
        "/api/v1/alerts/1/dismiss",
        json={"reason_code": "bored"},
        headers=_staff(p.DETACHMENT_INSPECTOR),
    )
    assert response.status_code == 422
    assert "reason_code" in response.get_json()["fields"]
