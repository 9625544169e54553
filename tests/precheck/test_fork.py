"""A pre-check leaves the follower's state exactly as it was: compared attribute by attribute over
the whole evaluator, so state a new rule kind adds cannot escape the fork unnoticed."""

from __future__ import annotations

import copy
import dataclasses
from datetime import date
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from auditcage.config import DEFAULT_RULES_DIR
from auditcage.demo import generate, write_scenario
from auditcage.precheck.follower import Follower
from auditcage.precheck.fork import SHARED
from auditcage.records.intake import accept_batch
from auditcage.records.validation import revive, validate_record
from auditcage.reference import service

pytestmark = pytest.mark.db


def _plain(value: Any) -> Any:
    """Comparable by ==: objects without their own equality compared by their attributes."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value) or not hasattr(value, "__dict__"):
        return copy.deepcopy(value)
    return {k: _plain(v) for k, v in vars(value).items()}


def _state(evaluator: Any) -> dict[str, Any]:
    return {k: _plain(v) for k, v in vars(evaluator).items() if k not in SHARED}


def test_evaluating_candidates_changes_no_state_of_the_follower(
    committing_engine: Engine, tmp_path
) -> None:
    province = generate(seed=3, start=date(2026, 8, 1), months=3, records_target=700)
    reference_dir, records_path = write_scenario(province, tmp_path)
    records = [orjson.loads(line) for line in records_path.read_bytes().splitlines() if line]
    sessions = sessionmaker(committing_engine, expire_on_commit=False)
    with sessions.begin() as session:
        service.load_directory(session, reference_dir, actor="test")
        accept_batch(session, list(enumerate(records[:-60])), source="test")
    follower = Follower(DEFAULT_RULES_DIR)
    candidates = [revive(validate_record(raw).record) for raw in records[-60:]]
    with sessions.begin() as session:
        follower.evaluate(session, candidates[0])  # builds and catches up: nothing new after this
        before = _state(follower._evaluator)
        fired = sum(bool(follower.evaluate(session, c).hits) for c in candidates)
        assert _state(follower._evaluator) == before
    assert fired >= 3  # candidates that fired went through window and sequence state
