"""POST /api/v1/records: a source system with its own key; an outcome for every record."""

from __future__ import annotations

import orjson
import pytest

from tests.builders import make_record

pytestmark = pytest.mark.db

VIOLATION_KEY = {"Authorization": "Bearer key-violation-0123456789abcdef0123"}


def test_intake_refuses_a_request_without_a_key(client) -> None:
    response = client.post("/api/v1/records", json=[make_record("violation")])
    assert response.status_code == 401


def test_intake_refuses_a_wrong_key(client) -> None:
    response = client.post(
        "/api/v1/records", json=[make_record("violation")], headers={"Authorization": "Bearer nope"}
    )
    assert response.status_code == 403


def test_intake_answers_the_outcome_of_every_record(client) -> None:
    good = make_record("violation", record_id="violation:api-1")
    bad = make_record("violation", record_id="violation:api-2", points=40)
    response = client.post("/api/v1/records", json=[good, bad, good], headers=VIOLATION_KEY)
    assert response.status_code == 200
    body = response.get_json()
    assert (body["accepted"], body["quarantined"], body["duplicates"]) == (1, 1, 1)
    outcomes = [(o["position"], o["record_id"], o["outcome"]) for o in body["outcomes"]]
    assert (0, "violation:api-1", "accepted") in outcomes
    assert (2, "violation:api-1", "duplicate") in outcomes
    quarantined = next(o for o in body["outcomes"] if o["outcome"] == "quarantined")
    assert quarantined["position"] == 1
    assert quarantined["problems"][0]["field"] == "points"


def test_intake_takes_ndjson_and_names_the_line_of_a_broken_one(client) -> None:
    body = orjson.dumps(make_record("violation", record_id="violation:nd-1")) + b"\n[oops\n"
    response = client.post(
        "/api/v1/records",
        data=body,
        headers={**VIOLATION_KEY, "Content-Type": "application/x-ndjson"},
    )
    report = response.get_json()
    assert report["accepted"] == 1 and report["quarantined"] == 1
    broken = next(o for o in report["outcomes"] if o["outcome"] == "quarantined")
    assert broken["position"] == 2 and broken["problems"][0]["code"] == "invalid_json"


def test_a_key_of_one_source_cannot_post_records_of_another(client) -> None:
    vehicle = make_record("vehicle", record_id="vehicle_reg:borrowed")
    response = client.post("/api/v1/records", json=[vehicle], headers=VIOLATION_KEY)
    report = response.get_json()
    assert report["accepted"] == 0 and report["quarantined"] == 1
    assert report["outcomes"][0]["problems"][0]["code"] == "source_mismatch"


def test_a_body_that_is_not_json_is_a_clear_400(client) -> None:
    response = client.post(
        "/api/v1/records", data=b"{{", headers={**VIOLATION_KEY, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert "not JSON" in response.get_json()["message"]
