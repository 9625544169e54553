"""Spark batch = the default engine: `replay --engine spark` and `rules backtest --engine
spark` on a standalone cluster write the same hits and the same report as the default
engine, on the catalogue scenario (every id planted), with 1 and with 3 shuffle partitions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from auditcage.cli import main
from auditcage.engine import backtest
from auditcage.engine.replay import ReplaySummary, valid_records
from auditcage.reference.service import index_from_directory
from tests.cluster.conftest import HAVE_PYSPARK, NO_PYSPARK, Scenario

pytestmark = [
    pytest.mark.spark,
    pytest.mark.skipif(not HAVE_PYSPARK, reason=NO_PYSPARK),
    # pyspark 4.x warns that pandas 3 is "not yet fully supported"; these tests are the check.
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas"),
]

RULES = Path(__file__).resolve().parents[2] / "rules"


def _replay(scenario: Scenario, out: Path, *engine: str) -> tuple[str, list[str]]:
    result = CliRunner().invoke(
        main,
        [
            "replay",
            str(scenario.records_path),
            "--reference",
            str(scenario.reference_dir),
            "--hits",
            str(out),
            "--rules",
            str(RULES),
            *engine,
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return result.output, [line for line in out.read_text().splitlines() if line]


@pytest.fixture(scope="module")
def default_replay(
    scenario: Scenario, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, list[str]]:
    return _replay(scenario, tmp_path_factory.mktemp("default") / "hits.ndjson")


def test_the_cluster_has_two_one_core_workers(cluster: Any, spark: Any) -> None:
    assert cluster.alive_workers() == 2
    assert spark.sparkContext.master == cluster.url
    assert spark.sparkContext.defaultParallelism == 2


def test_replay_on_spark_writes_the_default_engines_hits_and_summary(
    scenario: Scenario,
    spark: Any,
    cluster: Any,
    default_replay: tuple[str, list[str]],
    tmp_path: Path,
) -> None:
    default_output, default_lines = default_replay
    output, lines = _replay(
        scenario,
        tmp_path / "hits.ndjson",
        "--engine",
        "spark",
        "--master",
        cluster.url,
        "--partitions",
        "3",
    )
    assert sorted(lines) == sorted(default_lines)
    assert output == default_output  # read, accepted, swept, per severity, per rule
    # Not a vacuous comparison: every kind of rule fired, every planted id among the hits.
    kinds = {line.split('"kind":"', 1)[1].split('"', 1)[0] for line in lines}
    assert {"C", "Q", "A", "R"} <= {k[0] for k in kinds}
    fired = {line.split('"rule_id":"', 1)[1].split('"', 1)[0] for line in lines}
    assert scenario.planted_ids <= fired


def test_a_backtest_on_one_partition_reports_what_the_default_engine_reports(
    scenario: Scenario, spark: Any, default_replay: tuple[str, list[str]]
) -> None:
    from auditcage.cluster.engine import backtest_frame, run_on_spark

    records = [r for _, _, r in valid_records([scenario.records_path], ReplaySummary())]
    ref = index_from_directory(scenario.reference_dir)
    result = run_on_spark(RULES, records, ref, as_of=None, master=None, partitions=1, session=spark)
    assert sorted(result.hits["line"]) == sorted(default_replay[1])

    on_spark = backtest.Backtest(backtest_frame(result.hits), len(records))
    default = backtest.run(RULES, records, ref)
    assert on_spark.records == default.records
    assert on_spark.per_rule().to_string() == default.per_rule().to_string()
    assert on_spark.per_month().to_string() == default.per_month().to_string()
    assert backtest.compare(default, on_spark)[["gained", "lost"]].to_numpy().sum() == 0
