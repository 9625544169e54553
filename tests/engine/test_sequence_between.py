"""A sequence's `between`: a record of the key meeting it in [A.time, B.time) cancels the pair.

B pairs with its latest A, so only what lies after that A counts; a C at A's instant counts, one
at B's does not. A C arriving after the B it cancels (out of event-time order) supersedes the hit,
and a later A then pairs the B again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from auditcage import clock
from auditcage.engine.compiled import compile_ruleset
from auditcage.engine.hits import HitDraft
from auditcage.engine.session import build_engine, load_rules
from auditcage.records.validation import validate_record
from auditcage.reference.index import ReferenceIndex
from auditcage.rulepacks.packs import load_ruleset
from tests.builders import make_record
from tests.engine.ruledir import make_rules_dir

T0 = datetime(2024, 6, 3, 10, 0, tzinfo=clock.SHANGHAI)

SEQUENCE = """id: VIO-98
name: {{zh: 测试中间记录, en: Test between}}
kind: {kind}
catalogue_kind: Q
status: active
severity: orange
first: 'action == "archive"'
when: 'action == "modify"'
between: {between}
key: serial_no
within: 30d
message: {{zh: "修改 {{serial_no}}", en: "modified {{serial_no}}"}}
examples:
  fires: [{{}}]
  quiet: [{{}}]
"""
REOPEN = "'action == \"reopen\"'"


def _engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    text = SEQUENCE.format(kind="sequence", between=REOPEN)
    files = {"violation/vio_98_between.yaml": text}
    ruleset, compiled = load_rules(make_rules_dir(tmp_path, files))
    return build_engine(ruleset, compiled, ReferenceIndex({}))


def _rec(n: int, action: str, hours: float, serial: str = "S1") -> dict:
    at = T0 + timedelta(hours=hours)
    overrides = {
        "record_id": f"violation:between-{n}",
        "serial_no": serial,
        "action": action,
        "action_time": at.isoformat(),
        "accepted_at": (at - timedelta(days=3)).isoformat(),
    }
    if action in ("modify", "reopen"):
        overrides.update(reason_code="data_error", before={"amount": 200.0})
        overrides["after"] = {"amount": 100.0}
        overrides["changed_fields"] = ["amount"]
    result = validate_record(make_record("violation", **overrides))
    assert result.record is not None, result.rejections
    return result.record


def _run(engine, records: list[dict]):  # type: ignore[no-untyped-def]
    evaluator = engine.evaluator()
    hits: list[HitDraft] = []
    for record in records:
        hits.extend(evaluator.process(record, engine.enricher.enrich(record).derived))
    return hits, evaluator.superseded


def _pairs(engine, records: list[dict]) -> list[tuple[str, ...]]:  # type: ignore[no-untyped-def]
    return [h.record_ids for h in _run(engine, records)[0]]


def test_a_reopen_between_archive_and_change_keeps_the_change_quiet(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    plain = [_rec(1, "archive", 0), _rec(3, "modify", 48)]
    assert _pairs(engine, plain) == [("violation:between-1", "violation:between-3")]
    reopened = [_rec(1, "archive", 0), _rec(2, "reopen", 24), _rec(3, "modify", 48)]
    assert _pairs(engine, reopened) == []


def test_a_reopen_at_the_archive_instant_counts_and_one_at_the_change_instant_does_not(
    tmp_path: Path,
) -> None:
    engine = _engine(tmp_path)
    at_archive = [_rec(1, "archive", 0), _rec(2, "reopen", 0), _rec(3, "modify", 48)]
    assert _pairs(engine, at_archive) == []
    at_change = [_rec(1, "archive", 0), _rec(2, "reopen", 48), _rec(3, "modify", 48)]
    assert _pairs(engine, at_change) == [("violation:between-1", "violation:between-3")]
    before_archive = [_rec(2, "reopen", -1), _rec(1, "archive", 0), _rec(3, "modify", 48)]
    assert _pairs(engine, before_archive) == [("violation:between-1", "violation:between-3")]


def test_only_a_reopen_after_the_latest_archive_counts(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    records = [
        _rec(1, "archive", 0),
        _rec(2, "reopen", 24),
        _rec(4, "archive", 36),
        _rec(5, "modify", 48),
    ]
    assert _pairs(engine, records) == [("violation:between-4", "violation:between-5")]


def test_a_reopen_of_another_key_does_not_cancel(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    records = [_rec(1, "archive", 0), _rec(2, "reopen", 24, serial="S2"), _rec(3, "modify", 48)]
    assert _pairs(engine, records) == [("violation:between-1", "violation:between-3")]


def test_a_late_reopen_inside_a_fired_pair_supersedes_its_hit(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    hits, superseded = _run(
        engine, [_rec(1, "archive", 0), _rec(3, "modify", 48), _rec(2, "reopen", 24)]
    )
    assert [h.record_ids for h in hits] == [("violation:between-1", "violation:between-3")]
    assert superseded == {hits[0].id}
    hits, superseded = _run(
        engine, [_rec(1, "archive", 0), _rec(3, "modify", 48), _rec(2, "reopen", 49)]
    )
    assert len(hits) == 1 and superseded == set()


def test_a_late_archive_after_the_reopen_pairs_the_change_again(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    records = [
        _rec(1, "archive", 0),
        _rec(3, "modify", 48),
        _rec(2, "reopen", 24),  # cancels (1, 3)
        _rec(4, "archive", 36),  # archived again after the reopen: (4, 3) holds
    ]
    hits, superseded = _run(engine, records)
    assert [h.record_ids for h in hits] == [
        ("violation:between-1", "violation:between-3"),
        ("violation:between-4", "violation:between-3"),
    ]
    # same rule, key, anchor and severity: the id is valid again
    assert hits[0].id == hits[1].id and superseded == set()


def test_between_on_another_kind_is_refused(tmp_path: Path) -> None:
    text = SEQUENCE.format(kind="event", between=REOPEN)
    directory = make_rules_dir(tmp_path, {"violation/vio_98_between.yaml": text})
    ruleset, issues = load_ruleset(directory)
    _, compile_issues = compile_ruleset(ruleset)
    problems = [str(i) for i in [*issues, *compile_issues]]
    assert any("between: only sequence rules have it" in p for p in problems), problems
