"""End to end: a generated province with one planted positive and one near miss for every
catalogue id, through `auditcage replay`, judged case by case.

The plants are built from the catalogue's definitions (auditcage/demo/plants*.py never reads
rules/), so a rule that misreads its definition fails here even when its own examples pass.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from auditcage.demo.plants import PLANTS
from auditcage.demo.scenario import generate
from auditcage.rulepacks.coverage import CATALOGUE_IDS
from tests.e2e.planted import Verdict, judge, replay_province


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> list[Verdict]:
    province = generate(seed=7, records_target=4000)
    hits, written = replay_province(province, tmp_path_factory.mktemp("province"))
    return judge(province.planted, hits, written)


def test_every_catalogue_id_has_a_planted_positive_and_a_near_miss() -> None:
    positives = {spec.catalogue_id for spec in PLANTS if spec.fires}
    near_misses = {spec.catalogue_id for spec in PLANTS if not spec.fires}
    assert sorted(set(CATALOGUE_IDS) - positives) == []
    assert sorted(set(CATALOGUE_IDS) - near_misses) == []
    assert all(spec.severity for spec in PLANTS if spec.fires)


def test_every_planted_positive_fires_at_its_severity(verdicts: list[Verdict]) -> None:
    positives = [v for v in verdicts if v.case.fires]
    assert {v.case.catalogue_id for v in positives} == set(CATALOGUE_IDS)
    assert [str(v) for v in positives if not v.passed] == []


def test_every_near_miss_stays_quiet(verdicts: list[Verdict]) -> None:
    near_misses = [v for v in verdicts if not v.case.fires]
    assert {v.case.catalogue_id for v in near_misses} == set(CATALOGUE_IDS)
    assert [str(v) for v in near_misses if not v.passed] == []


def test_the_judge_fails_a_near_miss_that_fired_and_a_positive_that_did_not(
    tmp_path: Path,
) -> None:
    from auditcage.demo.plants import PlantedCase

    positive = PlantedCase("VIO-03", "S1", ["r1"], "planted", True, "red")
    near = PlantedCase("VIO-03", "S2", ["r2"], "near miss", False, None)
    hit = {"id": "h", "rule_id": "VIO-03", "severity": "orange", "record_ids": ["r1", "r2"]}
    wrong_severity, fired = judge([positive, near], [hit], {"r1", "r2"})
    assert not wrong_severity.passed and not fired.passed
    (absent,) = judge([near], [], {"r1"})
    assert not absent.passed and "not in the scenario" in absent.why
