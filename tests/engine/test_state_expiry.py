"""Per-key state that no record within the lateness can reach any more is dropped as event time
passes (Evaluator.expire): a province gives the same hits with and without it, in event-time
order and with records arriving up to the lateness late, and keeps fewer keys."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from auditcage import clock
from auditcage.config import DEFAULT_RULES_DIR
from auditcage.demo import generate, write_scenario
from auditcage.engine import evaluator as evaluator_module
from auditcage.engine.replay import ReplaySummary, sorted_valid_records
from auditcage.engine.session import Engine, build_engine, load_rules
from auditcage.engine.windows import LATENESS
from auditcage.reference.index import ReferenceIndex
from auditcage.reference.service import index_from_directory
from tests.engine.ruledir import make_rules_dir
from tests.properties.test_window_properties import DISTINCT_RULE, _record

NEVER = timedelta(days=100_000)


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, list[dict[str, Any]]]:
    scenario = generate(seed=11, start=date(2026, 6, 1), months=4, records_target=3000)
    reference, records = write_scenario(scenario, tmp_path_factory.mktemp("expiry"))
    engine = build_engine(*load_rules(DEFAULT_RULES_DIR), index_from_directory(reference))
    ordered = list(sorted_valid_records([records], ReplaySummary(), now=clock.now()))
    return engine, ordered


def _run(
    engine: Engine,
    records: list[dict[str, Any]],
    every: timedelta,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[list[tuple[str, str]], int]:
    """The valid hits (id and detail) and the number of window and sequence keys held."""
    monkeypatch.setattr(evaluator_module, "EXPIRE_EVERY", every)
    evaluator = engine.evaluator()
    hits = []
    for record in records:
        hits += evaluator.process(record, engine.enricher.enrich(record).derived)
    hits += evaluator.sweep(records[-1]["action_time"])
    ids = sorted((h.id, str(h.detail)) for h in hits if h.id not in evaluator.superseded)
    keys = len(evaluator._windows) + len(evaluator._sequences) + len(evaluator._pairs)
    return ids, keys


def test_expiring_stale_keys_keeps_every_hit_and_drops_state(
    province: tuple[Engine, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, records = province
    kept, kept_keys = _run(engine, records, NEVER, monkeypatch)
    expired, expired_keys = _run(engine, records, timedelta(days=1), monkeypatch)
    assert expired == kept and len(kept) > 50
    assert expired_keys < kept_keys * 0.9


def test_records_arriving_up_to_the_lateness_late_see_the_same_state(
    province: tuple[Engine, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, records = province
    # Shuffle within blocks of 12 hours of event time: every record is at most 12 h late.
    blocks: dict[int, list[dict[str, Any]]] = {}
    start = records[0]["action_time"]
    for record in records:
        blocks.setdefault(int((record["action_time"] - start) / (LATENESS / 2)), []).append(record)
    shuffled = []
    rng = random.Random(5)
    for n in sorted(blocks):
        block = blocks[n]
        rng.shuffle(block)
        shuffled += block
    kept, _ = _run(engine, shuffled, NEVER, monkeypatch)
    expired, _ = _run(engine, shuffled, timedelta(hours=6), monkeypatch)
    assert expired == kept


def test_a_key_silent_past_its_horizon_is_dropped(tmp_path: Path) -> None:
    rules = make_rules_dir(tmp_path, {"violation/vio_95_distinct_test.yaml": DISTINCT_RULE})
    engine = build_engine(*load_rules(rules), ReferenceIndex({}))
    evaluator = engine.evaluator()
    # Plate 0 at minute 0, plate 1 three days later: 1 h window, 2 h + 24 h lateness horizon.
    first, later = _record(0, 0, 0, 0), _record(1, 60 * 24 * 3, 1, 1)
    for record in (first, later):
        evaluator.process(record, engine.enricher.enrich(record).derived)
    assert [key for _, key in evaluator._windows] == [f"plate_no={later['plate_no']}"]
