from __future__ import annotations

from auditcage.config import DEFAULT_RULES_DIR
from auditcage.rulepacks.coverage import CATALOGUE_IDS, coverage
from auditcage.rulepacks.packs import load_ruleset


def test_the_catalogue_has_72_anomaly_types_and_46_checkpoints() -> None:
    assert len(CATALOGUE_IDS) == 118
    assert sum(1 for i in CATALOGUE_IDS if i.startswith("CP-")) == 46
    assert len(set(CATALOGUE_IDS)) == 118


def test_coverage_names_a_missing_id_and_a_failing_example() -> None:
    ruleset, _ = load_ruleset(DEFAULT_RULES_DIR)
    rows = {row.catalogue_id: row for row in coverage(ruleset, {"STF-04-fires-1"})}
    assert rows["STF-04"].rules and not rows["STF-04"].ok
    assert rows["STF-04"].failing == ("STF-04-fires-1",)
    assert rows["VEH-04"].ok
    missing = [row for row in rows.values() if not row.rules]
    assert all(not row.ok for row in missing)
