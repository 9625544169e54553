"""severity_when on windowed rules (count, distinct, sum): `any:` records of the window raise it.

A record meeting an `any` condition raises every firing whose window counts it; it never makes a
window fire by itself, stops raising once it has left the window, and a raise inside the cooldown
is an upgrade like a higher band. The result depends on the set of records, not their arrival.
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
W = timedelta(hours=1)
YELLOW_AT_3 = [Band(3, "yellow")]


def ev(minutes: float, serial: str, raised: str | None = None) -> Event:
    return Event(T0 + timedelta(minutes=minutes), f"r-{serial}", serial, None, "", raised)


def _severities(events: list[Event], bands: list[Band] = YELLOW_AT_3) -> list[tuple[str, bool]]:
    result = firings(events, window=W, bands=bands, measure=Measure.COUNT)
    return [(f.severity, f.upgrade) for f in result]


def test_a_raising_record_in_the_window_raises_the_firing_above_its_band() -> None:
    assert _severities([ev(0, "a", "orange"), ev(10, "b"), ev(20, "c")]) == [("orange", False)]
    assert _severities([ev(0, "a"), ev(10, "b"), ev(20, "c")]) == [("yellow", False)]


def test_the_highest_raise_in_the_window_wins_and_a_raise_never_lowers_a_band() -> None:
    events = [ev(0, "a", "orange"), ev(10, "b", "red"), ev(20, "c")]
    assert _severities(events) == [("red", False)]
    lower = [ev(0, "a", "blue"), ev(10, "b"), ev(20, "c")]
    assert _severities(lower, [Band(3, "orange")]) == [("orange", False)]


def test_a_raising_record_alone_never_makes_a_window_fire() -> None:
    assert _severities([ev(0, "a", "red"), ev(10, "b", "red")]) == []


def test_a_raising_record_that_has_left_the_window_no_longer_raises() -> None:
    # the raising record at 0 leaves the window (t − 1 h, t] at 60; c fires at 61 with a, b gone
    events = [ev(0, "a", "orange"), ev(30, "b"), ev(59, "x"), ev(61, "c"), ev(62, "d")]
    assert _severities(events) == [("orange", False)]
    later = [ev(0, "a", "orange"), ev(50, "b"), ev(70, "c"), ev(80, "d")]
    assert _severities(later) == [("yellow", False)]


def test_a_raising_record_inside_the_cooldown_is_an_upgrade_and_keeps_the_cooldown() -> None:
    events = [ev(0, "a"), ev(10, "b"), ev(20, "c"), ev(30, "d", "orange"), ev(40, "e")]
    assert _severities(events) == [("yellow", False), ("orange", True)]
    # after the cooldown (20 + 1 h) the key starts afresh, raised while d (at 30) is in the window
    assert _severities([*events, ev(81, "f")])[-1] == ("orange", False)
    assert _severities([*events, ev(91, "f"), ev(95, "g")])[-1] == ("yellow", False)


def test_a_higher_band_after_a_raise_to_its_severity_is_no_second_upgrade() -> None:
    bands = [Band(3, "yellow"), Band(5, "orange")]
    events = [ev(0, "a"), ev(1, "b"), ev(2, "c", "orange"), ev(3, "d"), ev(4, "e")]
    assert _severities(events, bands) == [("orange", False)]


WINDOW_RULE = """id: VIO-93
name: {{zh: 测试窗口, en: Test window}}
kind: count
catalogue_kind: C
status: active
severity: yellow
when: 'action == "decide"'
key: plate_no
window: 1h
bands: [{{at_least: 4, severity: yellow}}]
severity_when:
  - {severity_when}
message: {{zh: "{{key}} 达到 {{count}}", en: "{{key}} reached {{count}}"}}
examples:
  fires: [{{}}]
  quiet: [{{}}]
"""


def _valid(**overrides) -> dict:  # type: ignore[no-untyped-def]
    result = validate_record(make_record("violation", **overrides))
    assert result.record is not None, result.rejections
    return result.record


def _stream(count: int, seed: int) -> list[dict]:
    rnd = random.Random(seed)
    records = []
    for n in range(count):
        at = T0 + timedelta(minutes=rnd.randrange(0, 240))
        records.append(
            _valid(
                **{
                    "record_id": f"violation:raise-{n}",
                    "serial_no": f"S{rnd.randrange(0, 12)}",
                    "plate_no": rnd.choice(["黔A12345", "黔A54321"]),
                    "points": 12 if rnd.random() < 0.05 else 3,
                    "action_time": at.isoformat(),
                    "accepted_at": (at - timedelta(minutes=5)).isoformat(),
                    "completed_at": at.isoformat(),
                    "violation.decision.decided_at": at.isoformat(),
                }
            )
        )
    return records


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_raised_windows_in_any_arrival_order_give_the_hits_of_the_sorted_stream(
    tmp_path: Path, seed: int
) -> None:
    text = WINDOW_RULE.format(severity_when='{any: "points >= 12", severity: orange}')
    ruleset, compiled = load_rules(make_rules_dir(tmp_path, {"violation/vio_93_raise.yaml": text}))
    engine = build_engine(ruleset, compiled, ReferenceIndex({}))
    records = _stream(60, seed)

    def hits_of(order: list[dict]) -> dict[str, str]:
        evaluator = engine.evaluator()
        out = {}
        for record in order:
            for hit in evaluator.process(record, engine.enricher.enrich(record).derived):
                out[hit.id] = hit.severity
        return {k: v for k, v in out.items() if k not in evaluator.superseded}

    expected = hits_of(sorted(records, key=lambda r: (r["action_time"], r["record_id"])))
    assert "orange" in expected.values() and "yellow" in expected.values()
    shuffled = list(records)
    random.Random(seed).shuffle(shuffled)
    assert hits_of(shuffled) == expected


def _issues(tmp_path: Path, text: str) -> list[str]:
    directory = make_rules_dir(tmp_path, {"violation/vio_93_raise.yaml": text})
    ruleset, issues = load_ruleset(directory)
    _, compile_issues = compile_ruleset(ruleset)
    return [str(i) for i in [*issues, *compile_issues]]


def test_a_windowed_rule_writing_when_is_told_to_write_any_with_file_line_and_field(
    tmp_path: Path,
) -> None:
    text = WINDOW_RULE.format(severity_when='{when: "points >= 12", severity: orange}')
    (issue,) = _issues(tmp_path, text)
    assert "vio_93_raise.yaml:11: VIO-93: severity_when.0:" in issue
    assert "write `any: <condition>`" in issue


def test_any_on_an_event_rule_is_refused(tmp_path: Path) -> None:
    text = WINDOW_RULE.format(severity_when='{any: "points >= 12", severity: orange}')
    text = text.replace("kind: count", "kind: event").replace("bands: [{at_least: 4, ", "#")
    for line in ("key: plate_no\n", "window: 1h\n"):
        text = text.replace(line, "")
    (issue,) = _issues(tmp_path, text)
    assert "severity_when.0: `any` is for count, distinct and sum rules" in issue


def test_an_item_with_both_or_neither_condition_is_refused(tmp_path: Path) -> None:
    both_conditions = '{any: "points > 1", when: "points > 2", severity: red}'
    both = WINDOW_RULE.format(severity_when=both_conditions)
    assert any("write one condition" in i for i in _issues(tmp_path / "both", both))
    neither = WINDOW_RULE.format(severity_when="{severity: red}")
    assert any("write one condition" in i for i in _issues(tmp_path / "neither", neither))


def test_a_misspelt_field_in_an_any_condition_is_reported_against_severity_when(
    tmp_path: Path,
) -> None:
    text = WINDOW_RULE.format(severity_when='{any: "pionts >= 12", severity: orange}')
    (issue,) = _issues(tmp_path, text)
    assert "VIO-93: severity_when" in issue and "did you mean points?" in issue
