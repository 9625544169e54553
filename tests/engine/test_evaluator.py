"""The evaluator: every matching rule fires, arrival order does not matter, state stays bounded."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from auditcage import clock
from auditcage.engine.session import build_engine, load_rules
from auditcage.records.validation import validate_record
from auditcage.reference.index import ReferenceIndex
from tests.builders import make_record
from tests.engine.ruledir import count_rule, event_rule, make_rules_dir

T0 = datetime(2024, 6, 3, 10, 0, tzinfo=clock.SHANGHAI)


def _engine(tmp_path: Path, rules: dict[str, str], filters: str = "python"):  # type: ignore[no-untyped-def]
    ruleset, compiled = load_rules(make_rules_dir(tmp_path, rules))
    engine = build_engine(ruleset, compiled, ReferenceIndex({}))
    engine.filters = filters
    return engine


def _valid(**overrides) -> dict:  # type: ignore[no-untyped-def]
    result = validate_record(make_record("violation", **overrides))
    assert result.record is not None, result.rejections
    return result.record


@pytest.mark.parametrize("filters", ["python", "durable"])
def test_one_record_matching_three_rules_yields_three_hits(tmp_path: Path, filters: str) -> None:
    engine = _engine(
        tmp_path,
        {
            "violation/vio_90_first_test_rule.yaml": event_rule("VIO-90", 'action == "decide"'),
            "violation/vio_91_second_test_rule.yaml": event_rule("VIO-91", "points > 0"),
            "violation/vio_92_third_test_rule.yaml": event_rule("VIO-92", 'service == "violation"'),
        },
        filters,
    )
    evaluator = engine.evaluator()
    record = _valid()
    hits = evaluator.process(record, engine.enricher.enrich(record).derived)
    assert sorted(h.rule_id for h in hits) == ["VIO-90", "VIO-91", "VIO-92"]


def _stream(count: int, seed: int) -> list[dict]:
    rnd = random.Random(seed)
    records = []
    for n in range(count):
        at = T0 + timedelta(minutes=rnd.randrange(0, 240))
        records.append(
            _valid(
                **{
                    "record_id": f"violation:ooo-{n}",
                    "serial_no": f"S{rnd.randrange(0, 12)}",
                    "plate_no": rnd.choice(["黔A12345", "黔A54321"]),
                    "action_time": at.isoformat(),
                    "accepted_at": (at - timedelta(minutes=5)).isoformat(),
                    "completed_at": at.isoformat(),
                    "violation.decision.decided_at": at.isoformat(),
                }
            )
        )
    return records


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_records_in_any_arrival_order_give_the_hits_of_the_sorted_stream(
    tmp_path: Path, seed: int
) -> None:
    engine = _engine(
        tmp_path,
        {
            "violation/vio_93_plate_window_test.yaml": count_rule(
                "VIO-93", key="plate_no", window="1h", at_least=4, when='action == "decide"'
            )
        },
    )
    records = _stream(60, seed)

    def hits_of(order: list[dict]) -> set[str]:
        """Hits emitted, less those a later out-of-order record superseded."""
        evaluator = engine.evaluator()
        out = set()
        for record in order:
            for hit in evaluator.process(record, engine.enricher.enrich(record).derived):
                out.add(hit.id)
        return out - set(evaluator.superseded)

    in_order = sorted(records, key=lambda r: (r["action_time"], r["record_id"]))
    shuffled = list(records)
    random.Random(seed).shuffle(shuffled)
    expected = hits_of(in_order)
    assert expected  # the scenario does fire
    assert hits_of(shuffled) == expected


SEQUENCE = """id: VIO-94
name: {zh: 测试序列, en: Test sequence}
kind: sequence
catalogue_kind: Q
status: active
severity: orange
first: 'action == "decide"'
when: 'action == "revoke"'
key: serial_no
within: 1h
message: {zh: "撤销 {serial_no}", en: "revoked {serial_no}"}
examples:
  fires: [{}]
  quiet: [{}]
"""


def test_sequence_starts_that_never_complete_are_pruned_by_their_within(tmp_path: Path) -> None:
    engine = _engine(tmp_path, {"violation/vio_94_sequence_test_rule.yaml": SEQUENCE})
    evaluator = engine.evaluator()
    base = _valid()
    # 20 000 starts 30 s apart (about a week): 80 times what pruning may keep, so a leak fails.
    for n in range(20_000):
        at = T0 + timedelta(seconds=30 * n)
        # A fresh dict per record, with its own time; only the serial (the key) repeats.
        record = {
            **base,
            "record_id": f"violation:start-{n}",
            "serial_no": "ONE",
            "action_time": at,
        }
        evaluator.process(record, {})
    kept = sum(len(s.firsts) for s in evaluator._sequences.values())
    assert kept <= 2 * 3600 // 30 + 2  # within × 2 of starts, not 20 000


def test_a_step_that_arrives_before_its_arming_record_still_meets_the_deadline() -> None:
    from dataclasses import replace as with_records

    from auditcage.config import DEFAULT_RULES_DIR
    from auditcage.engine.examples import run_example

    ruleset, compiled = load_rules(DEFAULT_RULES_DIR)
    cp08 = next(r for r in compiled if r.rule.id == "CP-08" and r.rule.sub == "a")
    on_time = [e for e in cp08.rule.examples if not e.should_fire and len(e.records) > 1]
    assert on_time, "CP-08(a) has a quiet example where a later record delivers on time"
    for example in on_time:
        reversed_order = with_records(example, records=tuple(reversed(example.records)))
        result = run_example(cp08, reversed_order, ruleset)
        assert result.passed, f"{example.label} in reverse order: {result.problem}"
