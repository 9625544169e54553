"""Rule versions: what changed between two, publishing refuses what fails, rollback goes back."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from auditcage.audit import trail
from auditcage.audit.models import AuditEntry
from auditcage.config import DEFAULT_RULES_DIR
from auditcage.errors import NotFound
from auditcage.rulepacks import publish
from auditcage.rulepacks.diff import diff
from auditcage.rulepacks.packs import RulePackError, load_ruleset

VEH04 = "vehicle/veh_04_frequent_transfers.yaml"


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, target)
    return target


def _edit(root: Path, relative: str, old: str, new: str) -> None:
    path = root / relative
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_threshold_change_is_major_and_a_message_change_is_a_patch(rules_copy: Path) -> None:
    before, _ = load_ruleset(DEFAULT_RULES_DIR)
    _edit(rules_copy, VEH04, "{at_least: 3, severity: yellow}", "{at_least: 2, severity: yellow}")
    _edit(rules_copy, VEH04, "一年内已办理", "一年内共办理")
    after, _ = load_ruleset(rules_copy)
    changes = [(c.level, c.rule) for c in diff(before, after)]
    assert ("major", "VEH-04(a)") in changes and ("patch", "VEH-04(a)") in changes


def test_severity_change_is_minor(rules_copy: Path) -> None:
    before, _ = load_ruleset(DEFAULT_RULES_DIR)
    _edit(
        rules_copy,
        "staff/stf_04_auxiliary_police_only_action.yaml",
        "severity: red",
        "severity: orange",
    )
    after, _ = load_ruleset(rules_copy)
    assert [(c.level, c.rule) for c in diff(before, after)] == [("minor", "STF-04")]


@pytest.mark.db
def test_publish_refuses_a_pack_with_a_misspelt_field(session: Session, rules_copy: Path) -> None:
    _edit(
        rules_copy,
        VEH04,
        'when: business_type == "VEH_TRANSFER"',
        'when: busness_type == "VEH_TRANSFER"',
    )
    with pytest.raises(RulePackError) as refused:
        publish.publish(session, rules_copy, actor="author", reason="typo")
    assert "busness_type" in str(refused.value) and "did you mean business_type" in str(
        refused.value
    )
    assert publish.active_version(session) is None


@pytest.mark.db
def test_publish_refuses_a_rule_whose_example_fails(session: Session, rules_copy: Path) -> None:
    _edit(rules_copy, VEH04, "{at_least: 3, severity: yellow}", "{at_least: 30, severity: yellow}")
    with pytest.raises(publish.PublishRefused, match="VEH-04a-fires"):
        publish.publish(session, rules_copy, actor="author", reason="too strict")


@pytest.mark.db
def test_publish_then_rollback_are_recorded_with_who_and_why(
    session: Session, rules_copy: Path
) -> None:
    first = publish.publish(session, DEFAULT_RULES_DIR, actor="author", reason="initial")
    _edit(rules_copy, VEH04, "一年内已办理", "一年内共办理")
    second = publish.publish(session, rules_copy, actor="author", reason="wording")
    assert publish.active_version(session).id == second.id
    back = publish.rollback(session, actor="inspector", reason="wording unclear")
    assert back.id == first.id and publish.active_version(session).id == first.id
    actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions[-3:] == ["rules.publish", "rules.publish", "rules.rollback"]
    assert trail.verify(session).ok


@pytest.mark.db
def test_rollback_without_an_earlier_version_is_a_clear_error(session: Session) -> None:
    publish.publish(session, DEFAULT_RULES_DIR, actor="author", reason="initial")
    with pytest.raises(NotFound, match="no earlier version"):
        publish.rollback(session, actor="author", reason="oops")


def test_the_examples_of_unchanged_files_run_once_and_an_edit_runs_them_again(
    rules_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auditcage.engine import examples
    from auditcage.engine.session import load_rules

    runs: list[str] = []
    real = examples.run_example

    def counted(rule, example, ruleset):  # type: ignore[no-untyped-def]
        runs.append(example.label)
        return real(rule, example, ruleset)

    monkeypatch.setattr(examples, "run_example", counted)
    monkeypatch.setattr(examples, "_FAILING", {})
    only = "vehicle/veh_04_frequent_transfers.yaml"
    for path in rules_copy.rglob("*.yaml"):  # a small ruleset keeps this test quick
        relative = path.relative_to(rules_copy).as_posix()
        if (
            relative.count("/") == 1
            and relative.split("/")[0] not in ("lists", "examples", "reference")
            and relative != only
            and not relative.endswith("pack.yaml")
        ):
            path.unlink()
    ruleset, compiled = load_rules(rules_copy)
    assert examples.failing(compiled, ruleset) == () and runs
    first = len(runs)
    assert examples.failing(compiled, ruleset) == () and len(runs) == first
    _edit(rules_copy, VEH04, "{at_least: 3, severity: yellow}", "{at_least: 30, severity: yellow}")
    ruleset, compiled = load_rules(rules_copy)
    assert [r.example.label for r in examples.failing(compiled, ruleset)] and len(runs) == 2 * first
