"""The partitioned plan without Spark: families, key buckets and the batch rules give the
default engine's hits whatever the bucket count (a pandas groupby stands in for Spark)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from auditcage.cluster.families import EVENT, owner_key, plan_families
from auditcage.cluster.partition import GroupContext
from auditcage.cluster.run import as_of_of, run_local, run_partitioned
from auditcage.engine.replay import ReplaySummary, replay, valid_records
from auditcage.engine.session import build_engine, load_rules
from auditcage.reference.service import index_from_directory
from auditcage.rulepacks.model import Kind

RULES = Path(__file__).resolve().parents[2] / "rules"
# Keys through lists (accident parties, photo hashes with key_near), multi-path keys, a
# sequence, absences, a rate rule and two ledger rules (one counting alerted records).
PLANTS = ["ACC-05", "ACC-06", "VEH-01", "CP-37", "CP-41", "CP-19", "CP-13", "LIC-03", "LIC-13"]


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str]]:
    from auditcage.demo.scenario import generate
    from auditcage.demo.writer import write_scenario

    province = generate(seed=7, records_target=200, plants=PLANTS)
    reference_dir, records_path = write_scenario(province, tmp_path_factory.mktemp("small"))
    out = io.BytesIO()
    replay([records_path], reference_dir=reference_dir, hits_out=out, rules_dir=RULES)
    return reference_dir, records_path, out.getvalue().decode().splitlines()


def test_every_record_rule_is_in_exactly_one_family_and_rates_and_ledgers_run_apart() -> None:
    _, compiled = load_rules(RULES)
    plan = plan_families(compiled)
    placed = [rule.uid for family in plan.families for rule in family.rules]
    assert len(placed) == len(set(placed))
    batch = {rule.uid for rule in plan.batch_rules}
    assert set(placed) | batch == {rule.uid for rule in compiled}
    assert {rule.rule.kind for rule in plan.batch_rules} == {Kind.RATE, Kind.LEDGER}
    assert {r.rule.kind for r in plan.family(EVENT).rules} == {Kind.EVENT}
    near = [f for f in plan.families if f.whole]
    assert near and all(len(f.rules) == 1 and f.rules[0].rule.key_near for f in near)


def test_a_sequence_hit_belongs_to_the_group_of_its_key_not_of_its_same_part() -> None:
    _, compiled = load_rules(RULES)
    family = plan_families(compiled).family("operator_id")
    assert owner_key(family, "operator_id=P1;subject_id_no=X") == "operator_id=P1"
    assert owner_key(family, "operator_id=P1") == "operator_id=P1"
    assert owner_key(plan_families(compiled).family(EVENT), "S-1") is None


@pytest.mark.parametrize("buckets", [1, 7, 32])
def test_partitioned_hits_are_the_default_engines_for_any_bucket_count(
    small: tuple[Path, Path, list[str]], buckets: int
) -> None:
    reference_dir, records_path, default_lines = small
    ruleset, compiled = load_rules(RULES)
    records = [r for _, _, r in valid_records([records_path], ReplaySummary())]
    engine = build_engine(ruleset, compiled, index_from_directory(reference_dir))
    ctx = GroupContext.of(engine, as_of_of(records, None), buckets)
    result = run_partitioned(ctx, records, run_local)
    assert sorted(result.hits["line"]) == sorted(default_lines)
    fired = set(result.hits["rule_id"])
    assert {"ACC-05", "ACC-06", "VEH-01", "CP-19"} <= fired  # lists, key_near, a ledger


def test_an_absence_armed_on_one_path_and_completed_on_another_is_judged_in_one_group(
    tmp_path: Path,
) -> None:
    """VIO-15(a) arms on a release's related_serial_no and is met by the decide of that
    serial: both records reach the group of that value, under the step's path."""
    from auditcage.demo.scenario import generate
    from auditcage.demo.writer import write_scenario

    province = generate(seed=7, records_target=200, plants=["VIO-15"])
    reference_dir, records_path = write_scenario(province, tmp_path)
    out = io.BytesIO()
    replay([records_path], reference_dir=reference_dir, hits_out=out, rules_dir=RULES)
    ruleset, compiled = load_rules(RULES)
    records = [r for _, _, r in valid_records([records_path], ReplaySummary())]
    engine = build_engine(ruleset, compiled, index_from_directory(reference_dir))
    ctx = GroupContext.of(engine, as_of_of(records, None), 5)
    result = run_partitioned(ctx, records, run_local)
    assert sorted(result.hits["line"]) == sorted(out.getvalue().decode().splitlines())
    assert "a" in set(result.hits.loc[result.hits["rule_id"] == "VIO-15", "sub"])
