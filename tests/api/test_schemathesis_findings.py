"""What schemathesis found in the JSON API, pinned as plain examples (test_schemathesis.py)."""

from __future__ import annotations

import orjson
import pytest
from sqlalchemy import Engine

from api.auth import issue_staff_token
from tests.builders import make_record
from tests.conftest import ADMIN_TOKEN
from tests.notifications import province as p
from tests.notifications.scenario import load_province

pytestmark = pytest.mark.db

VIOLATION_KEY = {"Authorization": "Bearer key-violation-0123456789abcdef0123"}


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


def test_a_record_with_a_nul_character_is_quarantined_alone_not_a_lost_batch(client) -> None:
    # PostgreSQL cannot store U+0000 in jsonb: the batch failed as a whole with a 500.
    good = make_record("violation", record_id="violation:nul-0")
    record = make_record("violation", record_id="violation:nul-1", window_id="GY\x00W07")
    response = client.post("/api/v1/records", json=[good, record], headers=VIOLATION_KEY)
    assert response.status_code == 200
    body = response.get_json()
    assert (body["accepted"], body["quarantined"]) == (1, 1)
    held = body["outcomes"][1]
    assert (held["record_id"], held["outcome"]) == ("violation:nul-1", "quarantined")
    assert held["problems"][0]["field"] == "window_id"
    assert held["problems"][0]["code"] == "nul_character"
    assert "U+0000" in held["problems"][0]["reason"]


def test_an_ndjson_line_with_a_nul_is_quarantined_and_the_next_line_read(client) -> None:
    good = make_record("violation", record_id="violation:nul-4")
    ndjson = b'{"record_id": "violation:nul-3", "window_id": "\\u0000"}\n' + orjson.dumps(good)
    response = client.post(
        "/api/v1/records",
        data=ndjson,
        headers={**VIOLATION_KEY, "Content-Type": "application/x-ndjson"},
    )
    assert response.status_code == 200
    body = response.get_json()
    assert (body["accepted"], body["quarantined"]) == (1, 1)
    assert "nul_character" in {p["code"] for p in body["outcomes"][0]["problems"]}


def test_an_escaped_backslash_before_u0000_is_text_and_accepted(client) -> None:
    record = make_record("violation", record_id="violation:nul-2", reason_text="路径\\u0000")
    response = client.post("/api/v1/records", json=[record], headers=VIOLATION_KEY)
    assert response.status_code == 200 and response.get_json()["read"] == 1
    assert response.get_json()["quarantined"] == 0


def test_nul_is_refused_in_precheck_and_reference_bodies(client) -> None:
    answers = [
        client.post("/api/v1/precheck", json={"subject_name": "\x00"}, headers=VIOLATION_KEY),
        client.put(
            "/api/v1/reference/watchlist",
            data=b"kind,value\nphone,138\x00\n",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "text/csv"},
        ),
    ]
    assert [a.status_code for a in answers] == [400, 400]
    assert all("U+0000" in a.get_json()["message"] for a in answers)


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
