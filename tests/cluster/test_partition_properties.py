"""The partitioned plan gives the default engine's hits for any input, not only the generated
province: hypothesis draws records of every service with few plates, people and operators (key
collisions), times on a coarse grid (equal timestamps), a file order unrelated to time (late
records), days without records (idle gaps) and a month boundary, and any bucket count. The
whole shipped catalogue runs on both paths; a pandas groupby stands in for Spark."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from auditcage import clock
from auditcage.cluster.partition import GroupContext
from auditcage.cluster.run import as_of_of, run_local, run_partitioned
from auditcage.engine.replay import evaluate
from auditcage.engine.session import build_engine, load_rules
from auditcage.records.validation import validate_record
from auditcage.reference.index import ReferenceIndex
from tests.builders import make_record, valid_resident_id

RULES = Path(__file__).resolve().parents[2] / "rules"
# Two days before a month's end: a run of 30-minute slots crosses into July, and a gap of
# days pushes later records past deadlines counted in working days.
T0 = datetime(2024, 6, 29, 8, 0, tzinfo=clock.SHANGHAI)
SERVICES = ("vehicle", "license", "accident", "violation")
PLATES = ("黔A12345", "黔A54321", "黔B00001")
PEOPLE = tuple(valid_resident_id(seq=f"{n:03d}") for n in range(1, 5))
OPERATORS = ("F520133", "F520134")


class Quiet:
    """The engine under a short repr: hypothesis prints a failing call's arguments."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    def __repr__(self) -> str:
        return "<engine with the shipped catalogue>"


@pytest.fixture(scope="module")
def engine() -> Quiet:
    ruleset, compiled = load_rules(RULES)
    return Quiet(build_engine(ruleset, compiled, ReferenceIndex({})))


def _record(n: int, service: int, slot: int, plate: int, person: int, operator: int) -> Any:
    at = T0 + timedelta(minutes=30 * slot)
    overrides: dict[str, Any] = {
        "record_id": f"{SERVICES[service]}:p-{n:03d}",
        "serial_no": f"S{n % 7:03d}",  # serials shared across records: same-serial rules
        "subject_id_no": PEOPLE[person],
        "license_no": PEOPLE[(person + 1) % len(PEOPLE)],
        "operator_id": OPERATORS[operator],
        "action_time": at.isoformat(),
        "accepted_at": (at - timedelta(minutes=20)).isoformat(),
    }
    if make_record(SERVICES[service]).get("plate_no") is not None:  # a plate needs its owner
        overrides["plate_no"] = PLATES[plate]
    if SERVICES[service] == "violation":
        overrides["violation.decision.decided_at"] = at.isoformat()
        overrides["completed_at"] = at.isoformat()
    validation = validate_record(make_record(SERVICES[service], **overrides))
    return validation.record  # None when a combination breaks the contract: not evaluated


RECORDS = st.lists(
    st.tuples(
        st.integers(0, len(SERVICES) - 1),
        # mostly within three days, sometimes a week later (an idle gap)
        st.one_of(st.integers(0, 144), st.integers(400, 480)),
        st.integers(0, len(PLATES) - 1),
        st.integers(0, len(PEOPLE) - 1),
        st.integers(0, len(OPERATORS) - 1),
    ),
    max_size=30,
)
# Five violation decisions of one plate and operator an hour apart, across the month's end,
# then one record a week later: windows, same-operator counts and deadlines all fire.
BURST = [(3, 64 + 2 * i, 0, i % 4, 0) for i in range(5)] + [(3, 420, 0, 0, 0)]


def _default_lines(quiet: Quiet, records: list[dict[str, Any]]) -> list[str]:
    ordered = sorted(enumerate(records), key=lambda item: (item[1]["action_time"], item[0]))
    hits = evaluate(quiet.engine, (r for _, r in ordered), as_of=None)
    return sorted(orjson.dumps(hit.as_json()).decode() for hit in hits)


def _partitioned_lines(quiet: Quiet, records: list[dict[str, Any]], buckets: int) -> list[str]:
    ordered = [r for _, r in sorted(enumerate(records), key=lambda i: (i[1]["action_time"], i[0]))]
    ctx = GroupContext.of(quiet.engine, as_of_of(ordered, None), buckets)
    return sorted(run_partitioned(ctx, ordered, run_local).hits["line"])


def _records(draws: list[tuple[int, ...]], seed: int) -> list[dict[str, Any]]:
    records = [r for n, d in enumerate(draws) if (r := _record(n, *d)) is not None]
    random.Random(seed).shuffle(records)  # file order is not time order
    return records


@given(draws=RECORDS, seed=st.integers(0, 2**16), buckets=st.sampled_from([1, 2, 5, 32]))
@example(draws=BURST, seed=0, buckets=2)
def test_partitioned_hits_equal_the_default_engines_for_any_records(
    engine: Quiet, draws: list[tuple[int, ...]], seed: int, buckets: int
) -> None:
    records = _records(draws, seed)
    assert _partitioned_lines(engine, records, buckets) == _default_lines(engine, records)


def test_the_burst_example_fires_rules_of_several_families(engine: Quiet) -> None:
    """The comparison above is not vacuous: its explicit example produces hits of several
    rules, and every drawn record of it passes validation."""
    records = _records(BURST, 0)
    assert len(records) == len(BURST)
    fired = {orjson.loads(line)["rule_id"] for line in _default_lines(engine, records)}
    assert len(fired) >= 2, fired


def test_most_drawn_combinations_are_valid_records() -> None:
    """The strategy exercises the engine, not the validator: almost every draw is a record."""
    rng = random.Random(1)
    draws = [
        (rng.randrange(4), rng.randrange(480), rng.randrange(3), rng.randrange(4), rng.randrange(2))
        for _ in range(200)
    ]
    valid = sum(_record(n, *d) is not None for n, d in enumerate(draws))
    assert valid >= 180, valid
