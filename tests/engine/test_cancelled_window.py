"""A window that a record cancels (CP-41(e)): an issue with no subject-1 pass in the three years
before it fires; a pass that arrives after the issue it precedes supersedes that hit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from auditcage.config import DEFAULT_RULES_DIR
from auditcage.engine.session import build_engine, load_rules
from auditcage.records.validation import validate_record
from auditcage.reference.index import ReferenceIndex
from tests.engine.ruledir import make_rules_dir

CP_41E = DEFAULT_RULES_DIR / "checkpoints" / "cp_41e_licence_issued_without_subject1_pass.yaml"


def _record(**fields: Any) -> dict[str, Any]:
    bases = yaml.safe_load((DEFAULT_RULES_DIR / "examples" / "base_records.yaml").read_text())
    result = validate_record({**bases["license"], **fields})
    assert result.record is not None, result.rejections
    return result.record


ISSUE = {"record_id": "license_mgmt:ISSUE", "business_type": "LIC_ISSUE"}
PASS = {
    "record_id": "exam:PASS",
    "serial_no": "520100230605E00301",
    "business_type": "LIC_EXAM",
    "action": "examine",
    "channel": "station",
    "action_time": "2023-06-05T10:30:00+08:00",
    "accepted_at": "2023-06-01T20:00:00+08:00",
    "completed_at": "2023-06-05T10:30:00+08:00",
    "license": {"license_class": "C1", "exam": {"subject": 1, "attempt": 1, "result": "pass"}},
}


def test_a_late_pass_supersedes_the_hit_of_the_issue_it_precedes(tmp_path: Path) -> None:
    rules_dir = make_rules_dir(
        tmp_path, {"checkpoints/cp_41e.yaml": CP_41E.read_text("utf-8")}, base="license"
    )
    ruleset, rules = load_rules(rules_dir)
    engine = build_engine(ruleset, rules, ReferenceIndex({}))
    evaluator = engine.evaluator()
    issue, late_pass = _record(**ISSUE), _record(**PASS)
    (hit,) = evaluator.process(issue, engine.enricher.enrich(issue).derived)
    assert (hit.rule_id, hit.sub, hit.severity) == ("CP-41", "e", "red")
    assert evaluator.process(late_pass, engine.enricher.enrich(late_pass).derived) == []
    assert hit.id in evaluator.superseded


def test_in_event_time_order_the_pass_keeps_the_issue_quiet(tmp_path: Path) -> None:
    rules_dir = make_rules_dir(
        tmp_path, {"checkpoints/cp_41e.yaml": CP_41E.read_text("utf-8")}, base="license"
    )
    ruleset, rules = load_rules(rules_dir)
    engine = build_engine(ruleset, rules, ReferenceIndex({}))
    evaluator = engine.evaluator()
    hits = []
    for record in (_record(**PASS), _record(**ISSUE)):
        hits += evaluator.process(record, engine.enricher.enrich(record).derived)
    assert hits == [] and evaluator.superseded == set()
