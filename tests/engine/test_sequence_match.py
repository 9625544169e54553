"""A sequence's `match`: B fires only with an A of the key that meets the pair condition.

`match` is judged on B with `first.` = A; the latest A within T that meets it is the evidence,
an earlier A that meets it is found past a later one that does not, and a late A that meets it
completes the B.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from auditcage import clock
from auditcage.engine.compiled import compile_ruleset
from auditcage.engine.session import build_engine, load_rules
from auditcage.records.validation import validate_record
from auditcage.reference.index import ReferenceIndex
from auditcage.rulepacks.packs import load_ruleset
from tests.builders import make_record
from tests.engine.ruledir import make_rules_dir

T0 = datetime(2024, 6, 3, 10, 0, tzinfo=clock.SHANGHAI)

SEQUENCE = """id: VIO-98
name: {{zh: 测试配对条件, en: Test pair condition}}
kind: {kind}
catalogue_kind: Q
status: active
severity: red
first: 'action == "decide"'
when: 'action == "revoke"'
match: {match}
key: serial_no
within: 24h
message: {{zh: "撤销 {{serial_no}}", en: "revoked {{serial_no}}"}}
examples:
  fires: [{{}}]
  quiet: [{{}}]
"""
SAME_OPERATOR = "operator_id == first.operator_id"


def _engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    text = SEQUENCE.format(kind="sequence", match=SAME_OPERATOR)
    ruleset, compiled = load_rules(make_rules_dir(tmp_path, {"violation/vio_98_match.yaml": text}))
    return build_engine(ruleset, compiled, ReferenceIndex({}))


def _rec(n: int, action: str, hours: float, operator: str) -> dict:
    at = T0 + timedelta(hours=hours)
    overrides = {
        "record_id": f"violation:match-{n}",
        "serial_no": "S1",
        "action": action,
        "operator_id": operator,
        "action_time": at.isoformat(),
        "accepted_at": (at - timedelta(days=3)).isoformat(),
        "violation.decision.decided_at": at.isoformat(),
    }
    if action == "revoke":
        overrides.update(reason_code="self_correction", before={"amount": 200.0})
        overrides["after"] = {"amount": 0}
    result = validate_record(make_record("violation", **overrides))
    assert result.record is not None, result.rejections
    return result.record


def _hits(engine, records: list[dict]) -> list[tuple[str, ...]]:  # type: ignore[no-untyped-def]
    evaluator = engine.evaluator()
    out = []
    for record in records:
        for hit in evaluator.process(record, engine.enricher.enrich(record).derived):
            out.append(hit.record_ids)
    return out


def test_b_fires_only_with_an_a_meeting_the_pair_condition(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    assert _hits(engine, [_rec(1, "decide", 0, "520133"), _rec(2, "revoke", 2, "520140")]) == []
    hits = _hits(engine, [_rec(1, "decide", 0, "520133"), _rec(2, "revoke", 2, "520133")])
    assert hits == [("violation:match-1", "violation:match-2")]


def test_an_earlier_matching_a_is_found_past_a_later_one_that_does_not_match(
    tmp_path: Path,
) -> None:
    engine = _engine(tmp_path)
    records = [
        _rec(1, "decide", 0, "520133"),
        _rec(2, "decide", 1, "520140"),  # the latest A, of another operator
        _rec(3, "revoke", 2, "520133"),
    ]
    assert _hits(engine, records) == [("violation:match-1", "violation:match-3")]


def test_a_late_matching_a_completes_the_b_within_t_only(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    late = [_rec(3, "revoke", 2, "520133"), _rec(1, "decide", 0, "520133")]
    assert _hits(engine, late) == [("violation:match-1", "violation:match-3")]
    too_old = [_rec(3, "revoke", 25, "520133"), _rec(1, "decide", 0, "520133")]
    assert _hits(engine, too_old) == []


def _issues(tmp_path: Path, text: str) -> list[str]:
    directory = make_rules_dir(tmp_path, {"violation/vio_98_match.yaml": text})
    ruleset, issues = load_ruleset(directory)
    _, compile_issues = compile_ruleset(ruleset)
    return [str(i) for i in [*issues, *compile_issues]]


def test_match_on_another_kind_is_refused_with_its_line(tmp_path: Path) -> None:
    text = SEQUENCE.format(kind="event", match=SAME_OPERATOR)
    (issue,) = _issues(tmp_path, text)
    assert "vio_98_match.yaml:9: VIO-98: match: only sequence rules have it" in issue


def test_a_misspelt_field_of_first_in_match_is_reported_against_match(tmp_path: Path) -> None:
    text = SEQUENCE.format(kind="sequence", match="operator_id == first.operatr_id")
    (issue,) = _issues(tmp_path, text)
    assert "VIO-98: match:" in issue and "operator_id" in issue
