"""Record intake is limited per source-system key (api/ratelimit.py, the sign-in limiter's
sliding window): 429 with Retry-After, nothing stored from a refused request, one log line per
episode, and one key's flood leaves the other keys alone."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from api import create_app
from auditcage import clock
from auditcage.config import Settings
from auditcage.records.models import Record
from tests.builders import make_record
from tests.conftest import SOURCE_KEY_OF
from tests.notifications.scenario import NOW

pytestmark = pytest.mark.db

VIOLATION = {"Authorization": f"Bearer {SOURCE_KEY_OF['violation']}"}
VEHICLE = {"Authorization": f"Bearer {SOURCE_KEY_OF['vehicle_reg']}"}


@pytest.fixture
def travel() -> Iterator[Any]:
    clock.freeze(NOW)
    yield lambda **delta: clock.freeze(NOW + timedelta(**delta))
    clock.freeze(None)


@pytest.fixture
def app(app_settings: Settings, travel) -> Iterator[Flask]:
    app = create_app(replace(app_settings, intake_limit_per_key=3))
    yield app
    app.extensions["auditcage.engine"].dispose()


def _post(client: Any, record_id: str, headers: dict[str, str]) -> Any:
    source = "vehicle" if headers is VEHICLE else "violation"
    record = make_record(source, record_id=record_id)
    return client.post("/api/v1/records", json=[record], headers=headers)


def _stored(engine: Engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(Record)) or 0


def test_a_key_posting_past_its_limit_is_answered_429_with_retry_after_and_nothing_stored(
    app: Flask, committing_engine: Engine, travel
) -> None:
    client = app.test_client()
    for second in range(3):
        travel(seconds=second * 10)
        assert _post(client, f"violation:limit-{second}", VIOLATION).status_code == 200
    travel(seconds=25)
    refused = _post(client, "violation:limit-refused", VIOLATION)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "35"  # the first request leaves the window at 60 s
    assert refused.get_json()["error"] == "too_many_requests"
    assert "3 requests a minute" in refused.get_json()["message"]
    assert _stored(committing_engine) == 3
    travel(seconds=60)
    again = _post(client, "violation:limit-refused", VIOLATION)
    assert again.status_code == 200 and again.get_json()["accepted"] == 1  # not a duplicate


def test_one_keys_flood_leaves_another_keys_intake_alone(app: Flask, travel) -> None:
    client = app.test_client()
    answers = [_post(client, f"violation:flood-{i}", VIOLATION).status_code for i in range(5)]
    assert answers == [200, 200, 200, 429, 429]
    assert _post(client, "vehicle_reg:calm-1", VEHICLE).status_code == 200


def test_a_throttled_key_is_logged_once_per_episode_without_the_key(
    app: Flask, travel, caplog: pytest.LogCaptureFixture
) -> None:
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="api.auth"):
        for i in range(6):
            _post(client, f"violation:log-{i}", VIOLATION)
    throttled = [r.getMessage() for r in caplog.records if "throttled" in r.getMessage()]
    assert throttled == [
        "intake of violation throttled: more than 3 requests a minute with its key"
    ]
    assert SOURCE_KEY_OF["violation"] not in caplog.text


def test_the_default_intake_limit_is_far_above_what_the_load_test_offers() -> None:
    # bench/load.py offers 40 records/s in batches of 20 (2 requests/s) by default.
    assert Settings().intake_limit_per_key >= 10 * 60 * 2
