"""`replay --engine spark` and `rules backtest --engine spark`: the default engine's inputs
and outputs (the same hits file, the same report), with the families run on Spark."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import pandas as pd

from auditcage import clock
from auditcage.cluster.partition import GroupContext
from auditcage.cluster.run import PartitionedResult, as_of_of, run_partitioned, write_lines
from auditcage.engine.backtest import COLUMNS, Backtest
from auditcage.engine.replay import ReplaySummary, valid_records
from auditcage.engine.session import build_engine, load_rules
from auditcage.reference.index import ReferenceIndex
from auditcage.reference.service import index_from_directory

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def run_on_spark(
    rules_dir: Path,
    records: Sequence[dict[str, Any]],
    ref: ReferenceIndex,
    *,
    as_of: datetime | None,
    master: str | None,
    partitions: int,
    session: SparkSession | None = None,
) -> PartitionedResult:
    """Records in replay order through the families on Spark, then the batch rules here.

    `session`: an open SparkSession to use (and leave open); else this process's active
    session on `master` if there is one (left open too), else a new one, stopped after the
    run. `partitions` is the shuffle's partition count either way."""
    from auditcage.cluster import spark

    ruleset, compiled = load_rules(rules_dir)  # refuses invalid packs before Spark starts
    ctx = GroupContext.of(build_engine(ruleset, compiled, ref), as_of_of(records, as_of))
    if session is None:
        session = spark.active_session(master)
    own = session is None
    active = spark.session(master, partitions=partitions) if session is None else session
    active.conf.set("spark.sql.shuffle.partitions", str(partitions))
    try:
        return run_partitioned(ctx, records, spark.spark_runner(active, rules_dir))
    finally:
        if own:
            active.stop()


def replay_on_spark(
    inputs: list[Path],
    *,
    reference_dir: Path,
    hits_out: BinaryIO,
    rules_dir: Path,
    as_of: datetime | None = None,
    master: str | None = None,
    partitions: int = 8,
) -> ReplaySummary:
    """`engine.replay.replay` with the families on Spark: same validation, same summary, the
    same hits (written in time order rather than evaluation order)."""
    from auditcage.cluster import spark

    spark.require_pyspark()
    ref = index_from_directory(reference_dir)
    summary = ReplaySummary()
    records = [r for _, _, r in valid_records(inputs, summary, now=clock.now())]
    summary.as_of = as_of_of(records, as_of)
    result = run_on_spark(
        rules_dir, records, ref, as_of=as_of, master=master, partitions=partitions
    )
    summary.hits_by_severity.update(result.hits["severity"])
    summary.hits_by_rule.update(result.hits["rule_id"])
    write_lines(result.hits, hits_out)
    return summary


def backtest_on_spark(
    rules_dir: Path,
    records: Sequence[dict[str, Any]],
    ref: ReferenceIndex,
    *,
    as_of: datetime | None = None,
    master: str | None = None,
    partitions: int = 8,
) -> Backtest:
    """`engine.backtest.run` with the families on Spark: the same Backtest report."""
    result = run_on_spark(
        rules_dir, records, ref, as_of=as_of, master=master, partitions=partitions
    )
    return Backtest(backtest_frame(result.hits), len(records))


def backtest_frame(hits: pd.DataFrame) -> pd.DataFrame:
    """HIT_COLUMNS as the back-test's frame (engine.backtest.COLUMNS)."""
    if hits.empty:
        return pd.DataFrame(columns=COLUMNS)
    at = [clock.to_shanghai(datetime.fromisoformat(t)) for t in hits["at"]]
    frame = pd.DataFrame(
        {
            "id": hits["id"],
            "rule_id": hits["rule_id"],
            "sub": hits["sub"],
            "severity": hits["severity"],
            "unit_code": hits["unit_code"],
            "month": [t.strftime("%Y-%m") for t in at],
            "at": at,
        }
    )
    return frame[COLUMNS]
