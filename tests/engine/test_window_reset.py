"""reset_when on windowed rules: a counted record meeting it breaks the streak.

Only the events after the window's last reset event count, the reset itself not counted, so a
count rule over "pass or fail" with reset_when "fail" counts consecutive passes. The result does
not depend on the arrival order.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from auditcage import clock
from auditcage.engine.compiled import compile_ruleset
from auditcage.engine.session import build_engine, load_rules
from auditcage.engine.windows import Band, Event, Measure, firings
from auditcage.records.validation import validate_record
from auditcage.reference.index import ReferenceIndex
from auditcage.rulepacks.packs import load_ruleset
from tests.builders import make_record
from tests.engine.ruledir import make_rules_dir

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=clock.SHANGHAI)
W = timedelta(days=1)


def ev(minutes: float, serial: str, reset: bool = False) -> Event:
    return Event(T0 + timedelta(minutes=minutes), f"r-{serial}", serial, None, "", None, reset)


def _fired_at(events: list[Event], at_least: int = 3) -> list[float]:
    result = firings(events, window=W, bands=[Band(at_least, "orange")], measure=Measure.COUNT)
    return [(f.anchor.time - T0).total_seconds() / 60 for f in result]


def test_a_reset_event_empties_the_window_and_does_not_count_itself() -> None:
    assert _fired_at([ev(0, "a"), ev(1, "b"), ev(2, "x", reset=True), ev(3, "c")]) == []
    # three after the reset: the streak is complete again
    after = [ev(0, "a"), ev(1, "x", reset=True), ev(2, "b"), ev(3, "c"), ev(4, "d")]
    assert _fired_at(after) == [4]


def test_without_a_reset_in_the_window_every_event_counts() -> None:
    assert _fired_at([ev(0, "a"), ev(1, "b"), ev(2, "c")]) == [2]
    # the streak is bounded by the window too: a at 0 has left it when c comes 24 h later
    assert _fired_at([ev(0, "a"), ev(1, "b"), ev(24 * 60, "c")]) == []


def test_the_evidence_of_a_firing_is_the_streak_only() -> None:
    events = [ev(0, "a"), ev(1, "x", reset=True), ev(2, "b"), ev(3, "c"), ev(4, "d")]
    (firing,) = firings(events, window=W, bands=[Band(3, "orange")], measure=Measure.COUNT)
    assert [e.serial_no for e in firing.evidence] == ["b", "c", "d"]
    assert firing.value == 3


STREAK = """id: VIO-97
name: {{zh: 测试连续, en: Test streak}}
kind: count
catalogue_kind: C
status: active
severity: orange
when: 'action == "decide"'
{reset}
key: plate_no
window: 1d
bands: [{{at_least: 4, severity: orange}}]
message: {{zh: "{{key}} 达到 {{count}}", en: "{{key}} reached {{count}}"}}
examples:
  fires: [{{}}]
  quiet: [{{}}]
"""


def _stream(count: int, seed: int) -> list[dict]:
    rnd = random.Random(seed)
    records = []
    for n in range(count):
        at = T0 + timedelta(minutes=rnd.randrange(0, 600))
        result = validate_record(
            make_record(
                "violation",
                **{
                    "record_id": f"violation:streak-{n}",
                    "serial_no": f"S{n}",
                    "plate_no": rnd.choice(["黔A12345", "黔A54321"]),
                    "points": 12 if rnd.random() < 0.15 else 3,
                    "action_time": at.isoformat(),
                    "accepted_at": (at - timedelta(minutes=5)).isoformat(),
                    "completed_at": at.isoformat(),
                    "violation.decision.decided_at": at.isoformat(),
                },
            )
        )
        assert result.record is not None, result.rejections
        records.append(result.record)
    return records


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_streaks_in_any_arrival_order_give_the_hits_of_the_sorted_stream(
    tmp_path: Path, seed: int
) -> None:
    text = STREAK.format(reset='reset_when: "points >= 12"')
    ruleset, compiled = load_rules(make_rules_dir(tmp_path, {"violation/vio_97_streak.yaml": text}))
    engine = build_engine(ruleset, compiled, ReferenceIndex({}))
    records = _stream(60, seed)

    def hits_of(order: list[dict]) -> set[str]:
        evaluator = engine.evaluator()
        out = set()
        for record in order:
            for hit in evaluator.process(record, engine.enricher.enrich(record).derived):
                out.add(hit.id)
        return out - set(evaluator.superseded)

    expected = hits_of(sorted(records, key=lambda r: (r["action_time"], r["record_id"])))
    assert expected
    shuffled = list(records)
    random.Random(seed).shuffle(shuffled)
    assert hits_of(shuffled) == expected


def _issues(tmp_path: Path, text: str) -> list[str]:
    directory = make_rules_dir(tmp_path, {"violation/vio_97_streak.yaml": text})
    ruleset, issues = load_ruleset(directory)
    _, compile_issues = compile_ruleset(ruleset)
    return [str(i) for i in [*issues, *compile_issues]]


def test_reset_when_on_an_event_rule_is_refused_with_its_line(tmp_path: Path) -> None:
    text = STREAK.format(reset='reset_when: "points >= 12"').replace("kind: count", "kind: event")
    for line in ("key: plate_no\n", "window: 1d\n", "bands: [{at_least: 4, severity: orange}]\n"):
        text = text.replace(line, "")
    (issue,) = _issues(tmp_path, text)
    assert "vio_97_streak.yaml:8: VIO-97: reset_when: only count, distinct and sum rules" in issue


def test_a_misspelt_field_in_reset_when_is_reported_against_reset_when(tmp_path: Path) -> None:
    (issue,) = _issues(tmp_path, STREAK.format(reset='reset_when: "pionts >= 12"'))
    assert "VIO-97: reset_when:" in issue and "did you mean points?" in issue
