"""The families on Apache Spark: `groupBy(family, key).applyInPandas(replay_group)`.

The driver broadcasts what every executor needs to rebuild the run's `GroupContext`: the
rules directory's files (compiled on the executor, once per Python worker: compiled rules are
closures and do not pickle), the reference index (pickled: plain rows and dicts, so stored
reference and a reference directory reach the executors alike), and the sweep instant.
Executors need auditcage installed (the same version as the driver) and nothing else: no
shared file system, no database.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from auditcage.cluster.partition import (
    GROUP_COLUMNS,
    HIT_COLUMNS,
    RECORD_COLUMNS,
    GroupContext,
    explode,
    replay_group,
)
from auditcage.errors import AuditcageError
from auditcage.reference.index import ReferenceIndex

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

RECORD_SCHEMA = "at_us long, seq long, payload string"
GROUP_SCHEMA = "family string, bucket int, key string, at_us long, seq long, payload string"
HIT_SCHEMA = (
    "id string, rule_id string, sub string, severity string, unit_code string, at string, "
    "record_ids array<string>, key string, line string"
)
assert RECORD_SCHEMA.count(",") + 1 == len(RECORD_COLUMNS)
assert GROUP_SCHEMA.count(",") + 1 == len(GROUP_COLUMNS)

# Small on purpose: a test machine shares two cores with other work (docs/scale.md sizes a
# real deployment).
DEFAULT_CONF = {
    "spark.driver.memory": "1g",
    "spark.executor.memory": "512m",
    "spark.executor.cores": "1",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    # Python workers are reused between tasks, so the rules compile once per worker.
    "spark.python.worker.reuse": "true",
}


class SparkUnavailable(AuditcageError):
    """pyspark is not installed: `pip install 'auditcage[spark]'` (and Java 17)."""


def require_pyspark() -> None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise SparkUnavailable(
            "--engine spark needs the spark extra: pip install 'auditcage[spark]' "
            "and a Java 17 runtime (Debian: openjdk-17-jre-headless)"
        ) from None


def session(
    master: str | None = None, *, partitions: int = 8, app: str = "auditcage", **conf: str
) -> SparkSession:
    """A SparkSession on `master` (default local[2]); executors run this interpreter."""
    require_pyspark()
    # pyspark 4.x warns on every pandas call that pandas 3 is "not yet fully supported";
    # tests/cluster proves the paths used here give the default engine's hits.
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
    from pyspark.sql import SparkSession

    # The executors' Python must be one that has auditcage: by default, the driver's own.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = SparkSession.builder.master(master or "local[2]").appName(app)
    settings = {**DEFAULT_CONF, "spark.sql.shuffle.partitions": str(partitions), **conf}
    for name, value in settings.items():
        builder = builder.config(name, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def active_session(master: str | None) -> SparkSession | None:
    """This process's running SparkSession on `master`, if any (a caller's, kept open)."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is None or active.sparkContext.master != (master or "local[2]"):
        return None
    return active


@dataclass(frozen=True)
class RunSpec:
    """What the executors need, small enough to broadcast."""

    token: str  # names the run: executors cache its context under it
    rules_files: dict[str, bytes]  # path inside the rules directory → content
    reference: bytes  # the pickled ReferenceIndex
    as_of: datetime | None
    buckets: int

    @classmethod
    def of(cls, rules_dir: Path, ctx: GroupContext) -> RunSpec:
        import hashlib

        rules_dir = Path(rules_dir)
        files = {
            str(p.relative_to(rules_dir)): p.read_bytes()
            for p in sorted(rules_dir.rglob("*"))
            if p.is_file()
        }
        reference = pickle.dumps(ctx.engine.ref, protocol=pickle.HIGHEST_PROTOCOL)
        digest = hashlib.sha256(reference)
        for name, content in files.items():
            digest.update(name.encode() + b"\0" + content)
        digest.update(f"{ctx.as_of}|{ctx.buckets}".encode())
        return cls(digest.hexdigest()[:24], files, reference, ctx.as_of, ctx.buckets)


_CONTEXTS: dict[str, GroupContext] = {}


def context_of(spec: RunSpec) -> GroupContext:
    """The run's GroupContext in this executor process, built on first use."""
    ctx = _CONTEXTS.get(spec.token)
    if ctx is None:
        from auditcage.engine.session import build_engine, load_rules

        rules_dir = Path(tempfile.gettempdir()) / f"auditcage-rules-{spec.token}"
        for name, content in spec.rules_files.items():
            target = rules_dir / name
            if not target.exists() or target.read_bytes() != content:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
        ruleset, rules = load_rules(rules_dir)
        ref: ReferenceIndex = pickle.loads(spec.reference)  # our own broadcast, not input
        _CONTEXTS.clear()  # one run at a time per executor: never keep an old reference
        engine = build_engine(ruleset, rules, ref)
        ctx = _CONTEXTS[spec.token] = GroupContext.of(engine, spec.as_of, spec.buckets)
    return ctx


def family_hits(spark: SparkSession, spec: RunSpec, records: DataFrame) -> pd.DataFrame:
    """The hits of every family (HIT_COLUMNS), collected to the driver."""
    shipped = spark.sparkContext.broadcast(spec)

    def explode_batches(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        ctx = context_of(shipped.value)
        for frame in frames:
            yield explode(ctx, frame)

    def one_group(frame: pd.DataFrame) -> pd.DataFrame:
        return replay_group(context_of(shipped.value), frame)

    grouped = (
        records.mapInPandas(explode_batches, GROUP_SCHEMA)
        .groupBy("family", "bucket")
        .applyInPandas(one_group, HIT_SCHEMA)
    )
    try:
        with _pyspark_on_pandas3():
            rows = grouped.toPandas()
    finally:
        shipped.unpersist()
    return rows[HIT_COLUMNS] if len(rows) else pd.DataFrame(columns=HIT_COLUMNS)


def records_dataframe(spark: SparkSession, frame: pd.DataFrame) -> DataFrame:
    """Records built on the driver (RECORD_COLUMNS) as a Spark DataFrame."""
    slices = max(1, spark.sparkContext.defaultParallelism)
    with _pyspark_on_pandas3():
        created = spark.createDataFrame(frame[RECORD_COLUMNS], RECORD_SCHEMA)
    return created.repartition(slices)


@contextlib.contextmanager
def _pyspark_on_pandas3() -> Iterator[None]:
    """pyspark 4.x still passes pandas 3 the deprecated `copy=` keyword when it converts
    Arrow batches; the warning is pyspark's to fix, and as an error (the tests' setting) it
    would abort the conversion."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The copy keyword is deprecated")
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
        yield


def spark_runner(spark: SparkSession, rules_dir: Path) -> Any:
    """A FamilyRunner (cluster.run) for this session."""

    def run(ctx: GroupContext, frame: pd.DataFrame) -> pd.DataFrame:
        spec = RunSpec.of(rules_dir, ctx)
        return family_hits(spark, spec, records_dataframe(spark, frame))

    return run
