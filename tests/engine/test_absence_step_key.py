"""An absence rule's `step_key`: armed on one path of its record, completed by another path of
the expected step (a release's related_serial_no against a decide's own serial_no)."""

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

ABSENCE = """id: VIO-98
name: {{zh: 测试双路径键, en: Test two-path key}}
kind: {kind}
catalogue_kind: A
status: active
severity: red
when: 'action == "revoke"'
key: related_serial_no
{step_key}deadline_from: action_time - 90d
period: {{amount: 2161, unit: hours}}
expect: 'action == "decide" and action_time < first.action_time'
message: {{zh: "撤销 {{serial_no}}", en: "revoked {{serial_no}}"}}
examples:
  fires: [{{}}]
  quiet: [{{}}]
"""


def _rules(tmp_path: Path, kind: str = "absence", step_key: str = "step_key: serial_no\n"):  # type: ignore[no-untyped-def]
    text = ABSENCE.format(kind=kind, step_key=step_key)
    return make_rules_dir(tmp_path, {"violation/vio_98_step_key.yaml": text})


def _rec(n: int, action: str, hours: float, serial: str, related: str | None = None) -> dict:
    at = T0 + timedelta(hours=hours)
    overrides = {
        "record_id": f"violation:step-{n}",
        "serial_no": serial,
        "violation.violation_id": serial,
        "action": action,
        "action_time": at.isoformat(),
        "accepted_at": (at - timedelta(days=3)).isoformat(),
        "violation.decision.decided_at": at.isoformat(),
        "related_serial_no": related,
    }
    if action == "revoke":
        overrides.update(reason_code="self_correction", before={"amount": 200.0})
        overrides["after"] = {"amount": 0}
    result = validate_record(make_record("violation", **overrides))
    assert result.record is not None, result.rejections
    return result.record


def _engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    ruleset, compiled = load_rules(_rules(tmp_path))
    return build_engine(ruleset, compiled, ReferenceIndex({}))


def _keys(engine, records: list[dict]) -> list[str]:  # type: ignore[no-untyped-def]
    evaluator = engine.evaluator()
    for record in records:
        evaluator.process(record, engine.enricher.enrich(record).derived)
    return [h.key for h in evaluator.sweep(T0 + timedelta(days=2))]


def test_the_decide_of_the_named_item_completes_the_arming_record(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    decided = [_rec(1, "decide", 0, "ITEM"), _rec(2, "revoke", 5, "OWN", related="ITEM")]
    assert _keys(engine, decided) == []
    late = [_rec(2, "revoke", 5, "OWN", related="ITEM"), _rec(1, "decide", 0, "ITEM")]
    assert _keys(engine, late) == []


def test_a_decide_of_the_arming_records_own_serial_does_not_count(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    records = [_rec(1, "decide", 0, "OWN"), _rec(2, "revoke", 5, "OWN", related="ITEM")]
    assert _keys(engine, records) == ["serial_no=ITEM"]


def test_step_key_on_another_kind_is_refused(tmp_path: Path) -> None:
    ruleset, issues = load_ruleset(_rules(tmp_path, kind="event"))
    _, compile_issues = compile_ruleset(ruleset)
    problems = [str(i) for i in [*issues, *compile_issues]]
    assert any("step_key: only absence rules have it" in p for p in problems), problems
