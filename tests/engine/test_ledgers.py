"""Ledger rules judge reference rows in the sweeper: once each, linked to the records seen."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from auditcage import clock
from auditcage.config import DEFAULT_RULES_DIR
from auditcage.engine.replay import evaluate
from auditcage.engine.session import build_engine, load_rules
from auditcage.records.validation import validate_record
from auditcage.reference.index import ReferenceIndex
from tests.engine.ruledir import event_rule, make_rules_dir

CP_46 = DEFAULT_RULES_DIR / "checkpoints" / "cp_46_evidence_av_deleted_before_retention.yaml"


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(clock.SHANGHAI)


def _base() -> dict[str, Any]:
    bases = yaml.safe_load((DEFAULT_RULES_DIR / "examples" / "base_records.yaml").read_text())
    return bases["violation"]


def _reference(clips: list[dict[str, Any]]) -> ReferenceIndex:
    rows = yaml.safe_load((DEFAULT_RULES_DIR / "examples" / "reference.yaml").read_text())
    return ReferenceIndex({"units": rows["units"], "staff": rows["staff"], "bodycam_index": clips})


def _clip(clip_id: str, deleted_at: str | None, **extra: Any) -> dict[str, Any]:
    return {
        "clip_id": clip_id,
        "staff_id": "520211",
        "started_at": "2024-06-11T10:00:00+08:00",
        "ended_at": "2024-06-11T10:20:00+08:00",
        "retention_class": "normal",
        "deleted_at": deleted_at,
        **extra,
    }


def _decision(record_id: str, clip: str, **fields: Any) -> dict[str, Any]:
    raw = {**_base(), "record_id": record_id, "bodycam_refs": [clip], **fields}
    result = validate_record(raw)
    assert result.record is not None, result.rejections
    return result.record


def _hits(rules_dir: Path, records: list[dict[str, Any]], ref: ReferenceIndex, as_of: str):
    ruleset, rules = load_rules(rules_dir)
    engine = build_engine(ruleset, rules, ref)
    return [h for h in evaluate(engine, records, as_of=_t(as_of)) if h.rule_id == "CP-46"]


def _rules(tmp_path: Path, **more: str) -> Path:
    return make_rules_dir(
        tmp_path,
        {"checkpoints/cp_46.yaml": CP_46.read_text(encoding="utf-8"), **more},
    )


def test_deleting_a_clip_whose_record_is_in_another_rules_hit_is_red(tmp_path: Path) -> None:
    alerting = event_rule("VIO-11", 'operator_role == "auxiliary"', severity="red")
    rules = _rules(tmp_path, **{"violation/vio_11.yaml": alerting})
    ref = _reference([_clip("BC-1", "2024-07-01T09:00:00+08:00")])
    auxiliary = _decision("violation:A-1", "BC-1")
    hits = _hits(rules, [auxiliary], ref, "2024-07-15T00:00:00+08:00")
    assert [(h.severity, h.record_ids) for h in hits] == [("red", ("violation:A-1",))]
    police = _decision("violation:P-1", "BC-1", operator_id="520211", operator_role="police")
    quiet_rules = _rules(tmp_path / "q", **{"violation/vio_11.yaml": alerting})
    assert [h.severity for h in _hits(quiet_rules, [police], ref, "2024-07-15T00:00:00+08:00")] == [
        "orange"
    ]


def test_a_row_is_judged_once_at_the_first_sweep_after_its_time(tmp_path: Path) -> None:
    ruleset, rules = load_rules(_rules(tmp_path))
    ref = _reference([_clip("BC-1", "2024-07-01T09:00:00+08:00"), _clip("BC-2", None)])
    engine = build_engine(ruleset, rules, ref)
    evaluator = engine.evaluator()
    assert evaluator.sweep(_t("2024-07-01T08:59:59+08:00")) == []
    first = [h for h in evaluator.sweep(_t("2024-07-01T09:00:00+08:00")) if h.rule_id == "CP-46"]
    assert [h.key for h in first] == ["bodycam_index.clip_id=BC-1"]
    assert first[0].at == _t("2024-07-01T09:00:00+08:00")
    assert first[0].unit_code == "520102000000"  # the officer's R2 unit, not the root
    assert [
        h for h in evaluator.sweep(_t("2025-01-01T00:00:00+08:00")) if h.rule_id == "CP-46"
    ] == []


def test_links_older_than_the_link_horizon_are_forgotten(tmp_path: Path) -> None:
    from auditcage.engine import ledgers

    ruleset, rules = load_rules(_rules(tmp_path))
    ref = _reference([_clip("BC-1", "2027-01-01T09:00:00+08:00")])
    engine = build_engine(ruleset, rules, ref)
    evaluator = engine.evaluator()
    old = _decision("violation:OLD", "BC-1")
    evaluator.process(old, engine.enricher.enrich(old).derived)
    assert evaluator.ledgers._linked == {"violation:OLD": 1}
    later = _decision(
        "violation:LATER",
        "BC-9",
        action_time="2026-09-01T10:00:00+08:00",
        accepted_at="2026-09-01T09:50:00+08:00",
        completed_at="2026-09-01T10:00:00+08:00",
    )
    evaluator.process(later, engine.enricher.enrich(later).derived)
    assert "violation:OLD" not in evaluator.ledgers._linked
    assert (later["action_time"] - old["action_time"]).days > ledgers.LINK_DAYS


def test_a_restarted_worker_does_not_judge_again_what_its_last_sweep_judged(
    tmp_path: Path,
) -> None:
    ruleset, rules = load_rules(_rules(tmp_path))
    ref = _reference([_clip("BC-1", "2024-07-01T09:00:00+08:00")])
    evaluator = build_engine(ruleset, rules, ref).evaluator()
    evaluator.ledgers.judged_until = _t("2024-07-02T00:00:00+08:00")  # swept before the restart
    assert [
        h for h in evaluator.sweep(_t("2024-07-15T00:00:00+08:00")) if h.rule_id == "CP-46"
    ] == []
