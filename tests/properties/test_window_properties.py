"""Windowed rules through the real evaluator: what fires, and the distinct count each hit
reports, equal a brute-force reading of catalogue §0.2 over the same records, whatever order
they arrive in (every out-of-order record is a late one, within the 24 h lateness)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from auditcage import clock
from auditcage.engine.session import build_engine, load_rules
from auditcage.records.validation import validate_record
from auditcage.reference.index import ReferenceIndex
from tests.builders import make_record, valid_resident_id
from tests.engine.ruledir import make_rules_dir

T0 = datetime(2024, 6, 3, 10, 0, tzinfo=clock.SHANGHAI)
WINDOW = timedelta(hours=1)
AT_LEAST = 3
PLATES = ("黔A12345", "黔A54321")
LICENCES = tuple(valid_resident_id(seq=f"{n:03d}") for n in range(1, 6))

DISTINCT_RULE = f"""id: VIO-95
name: {{zh: 测试不同值, en: Test distinct}}
kind: distinct
catalogue_kind: D
status: active
severity: yellow
when: 'action == "decide"'
key: plate_no
field: license_no
window: 1h
bands: [{{at_least: {AT_LEAST}, severity: yellow}}]
message: {{zh: "{{key}} 达到 {{value}}", en: "{{key}} reached {{value}}"}}
examples:
  fires: [{{}}]
  quiet: [{{}}]
"""


class Quiet:
    """The engine under a short repr: hypothesis prints a failing call's arguments."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    def __repr__(self) -> str:
        return "<engine with VIO-95>"


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Quiet:
    rules = make_rules_dir(
        tmp_path_factory.mktemp("distinct"),
        {"violation/vio_95_distinct_licences_test.yaml": DISTINCT_RULE},
    )
    ruleset, compiled = load_rules(rules)
    return Quiet(build_engine(ruleset, compiled, ReferenceIndex({})))


def _record(n: int, minute: int, plate: int, licence: int) -> dict[str, Any]:
    at = (T0 + timedelta(minutes=minute)).isoformat()
    raw = make_record(
        "violation",
        record_id=f"violation:w-{n:03d}",
        serial_no=f"S{n:03d}",
        plate_no=PLATES[plate],
        license_no=LICENCES[licence],
        action_time=at,
        accepted_at=at,
        completed_at=at,
        **{"violation.decision.decided_at": at},
    )
    validation = validate_record(raw)
    assert validation.record is not None, validation.rejections
    return validation.record


def _brute_force(records: list[dict[str, Any]]) -> dict[str, int]:
    """§0.2 read literally, per plate: the window of r is (t − W, t]; a plate fires when its
    distinct licences reach the band, then stays silent until t + W. Anchor → distinct count."""
    fired: dict[str, int] = {}
    for plate in PLATES:
        mine = sorted(
            (r for r in records if r["plate_no"] == plate),
            key=lambda r: (r["action_time"], r["record_id"]),
        )
        silent_until = None
        for r in mine:
            t = r["action_time"]
            if silent_until is not None and t >= silent_until:
                silent_until = None
            in_window = [x for x in mine if t - WINDOW < x["action_time"] <= t]
            distinct = len({x["license_no"] for x in in_window})
            if distinct >= AT_LEAST and silent_until is None:
                fired[r["record_id"]] = distinct
                silent_until = t + WINDOW
    return fired


def _evaluate(quiet: Quiet, arrivals: list[dict[str, Any]]) -> dict[str, int]:
    """Anchor → reported distinct count of the hits still valid after the last arrival."""
    engine = quiet.engine
    evaluator = engine.evaluator()
    hits = {}
    for record in arrivals:
        for hit in evaluator.process(record, engine.enricher.enrich(record).derived):
            hits[hit.id] = hit
    return {h.anchor: h.detail["value"] for i, h in hits.items() if i not in evaluator.superseded}


STREAMS = st.lists(
    st.tuples(
        st.integers(0, 24).map(lambda n: n * 10),  # minutes after T0, on a grid: ties happen
        st.integers(0, len(PLATES) - 1),
        st.integers(0, len(LICENCES) - 1),
    ),
    max_size=25,
)
# In time order: licences at 10 and 20, two more both at 30; the window of the first record at
# 30 holds all four, the second one included (§0.2 item 4: equal times, whatever the arrival).
TIE_AT_THE_ANCHOR = [(10, 0, 0), (20, 0, 1), (30, 0, 2), (30, 0, 3)]
# Fires at 70 (silent until 130), then at 140 with three licences; the record at 110 arrives
# last, inside the window of 140 without moving it: the window of 140 holds four licences.
LATE_INSIDE_THE_WINDOW = [(40, 0, 1), (50, 0, 4), (70, 0, 0), (90, 0, 4), (120, 0, 2)]
LATE_INSIDE_THE_WINDOW += [(140, 0, 0), (110, 0, 1)]


def _arrivals(stream: list[tuple[int, int, int]], seed: int | None) -> tuple[list, list]:
    """The records, and the order they arrive in: shuffled by `seed`, or as listed (None)."""
    records = [_record(n, *item) for n, item in enumerate(stream)]
    arrivals = list(records)
    if seed is not None:
        random.Random(seed).shuffle(arrivals)
    return records, arrivals


@given(stream=STREAMS, seed=st.integers(0, 2**32 - 1))
@example(stream=TIE_AT_THE_ANCHOR, seed=None)
@example(stream=LATE_INSIDE_THE_WINDOW, seed=None)
def test_what_fires_is_the_brute_force_reading_for_any_order_of_arrival(
    engine: Quiet, stream: list[tuple[int, int, int]], seed: int | None
) -> None:
    records, shuffled = _arrivals(stream, seed)
    assert _evaluate(engine, shuffled).keys() == _brute_force(records).keys()


@given(stream=STREAMS, seed=st.integers(0, 2**32 - 1))
@example(stream=TIE_AT_THE_ANCHOR, seed=None)
@example(stream=LATE_INSIDE_THE_WINDOW, seed=None)
def test_the_distinct_count_a_hit_reports_is_the_brute_force_count(
    engine: Quiet, stream: list[tuple[int, int, int]], seed: int | None
) -> None:
    records, shuffled = _arrivals(stream, seed)
    assert _evaluate(engine, shuffled) == _brute_force(records)
