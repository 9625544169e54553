"""An absence rule's `look_back`: how far before its arming record a step still counts.

Without it the engine keeps 90 d (SEEN_HORIZON); with it the records of the rule's key are kept
that long, so a step 150 d before the arming completes a rule looking back 200 d only.
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

ABSENCE = """id: VIO-98
name: {{zh: 测试回看, en: Test look-back}}
kind: {kind}
catalogue_kind: A
status: active
severity: orange
when: 'action == "revoke"'
key: serial_no
deadline_from: action_time - {days}d
period: {{amount: {hours}, unit: hours}}
{look_back}expect: 'action == "decide" and action_time < first.action_time'
message: {{zh: "撤销 {{serial_no}}", en: "revoked {{serial_no}}"}}
examples:
  fires: [{{}}]
  quiet: [{{}}]
"""


def _text(days: int | None, kind: str = "absence") -> str:
    span = days or 90
    look_back = f"look_back: {days}d\n" if days else ""
    return ABSENCE.format(kind=kind, days=span, hours=span * 24 + 1, look_back=look_back)


def _engine(tmp_path: Path, days: int | None):  # type: ignore[no-untyped-def]
    files = {"violation/vio_98_look_back.yaml": _text(days)}
    ruleset, compiled = load_rules(make_rules_dir(tmp_path, files))
    return build_engine(ruleset, compiled, ReferenceIndex({}))


def _rec(n: int, action: str, days: float) -> dict:
    at = T0 + timedelta(days=days)
    overrides = {
        "record_id": f"violation:look-{n}",
        "serial_no": "S1",
        "action": action,
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


def _fired(engine, records: list[dict]) -> bool:  # type: ignore[no-untyped-def]
    evaluator = engine.evaluator()
    for record in records:
        evaluator.process(record, engine.enricher.enrich(record).derived)
    as_of = max(r["action_time"] for r in records) + timedelta(hours=2)
    return bool(evaluator.sweep(as_of))


def test_a_step_beyond_the_default_90_days_is_not_seen(tmp_path: Path) -> None:
    records = [_rec(1, "decide", 0), _rec(2, "revoke", 150)]
    assert _fired(_engine(tmp_path, None), records)


def test_a_rule_look_back_keeps_an_older_step_and_still_ends(tmp_path: Path) -> None:
    engine = _engine(tmp_path, 200)
    assert not _fired(engine, [_rec(1, "decide", 0), _rec(2, "revoke", 150)])
    assert _fired(engine, [_rec(1, "decide", 0), _rec(2, "revoke", 201)])


def test_look_back_on_another_kind_is_refused(tmp_path: Path) -> None:
    directory = make_rules_dir(tmp_path, {"violation/vio_98_look_back.yaml": _text(200, "event")})
    ruleset, issues = load_ruleset(directory)
    _, compile_issues = compile_ruleset(ruleset)
    problems = [str(i) for i in [*issues, *compile_issues]]
    assert any("look_back: only absence rules have it" in p for p in problems), problems
