"""`auditcage cluster worker`: the families on Spark Structured Streaming, state in Spark.

    stored records (by seq) ──source──▶ (family, bucket) rows ──transformWithStateInPandas──▶
    hits ──foreachBatch──▶ the hits and alerts tables

- **Source** (`auditcage_records`, a Python data source): micro-batches are ranges of the
  records table's `seq` (intake order, the order the single-machine worker reads). An offset is
  `{"seq", "watermark_us", "sweep_us"}`: the last seq of the range, the latest action_time read
  so far, and the instant the batch sweeps deadlines at. Offsets are computed from stored data
  only (records are immutable), and Spark keeps them in the checkpoint, so a retried
  micro-batch reads the same records and sweeps at the same instant.
- **Sweeps** follow event time: just before the latest action_time read so far (a record at
  that very instant may still be in the next range); `as_of`, when given, once the stream has
  caught up (a back-fill judged at a chosen instant, as `replay --as-of`). Each micro-batch
  carries one marker row per (family, bucket) with the instant.
- **State**: `cluster.step` — each group's evaluator, pickled, in a ValueState of the RocksDB
  state store, written to the checkpoint. Hit ids are a pure function of the input, and the
  sink writes a hit once (`store_hits` skips stored ids), so a replayed micro-batch writes
  nothing twice; a missed deadline met later is re-emitted with its delay and the sink keeps
  the later detail.
- Rate and ledger rules judge whole populations: they are not part of the stream (they run
  at period close in batch, `cluster.batch`).

Records are expected in event-time order within the lateness of §0.2 (as intake delivers
them); a record arriving out of order across micro-batches is evaluated late-marked, and the
superseding of the hits it invalidates is the single-machine worker's only (not yet here).
"""

from __future__ import annotations

import itertools
import pickle
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import pandas as pd

from auditcage import clock
from auditcage.cluster.families import EVENT, KEY_BUCKETS, Family
from auditcage.cluster.partition import (
    GROUP_COLUMNS,
    HIT_COLUMNS,
    GroupContext,
    epoch_us,
    explode,
    hits_frame,
)
from auditcage.cluster.spark import GROUP_SCHEMA, HIT_SCHEMA, RunSpec, context_of
from auditcage.cluster.step import on_deadline, owned, step
from auditcage.engine.hits import HitDraft
from auditcage.records.validation import revive
from auditcage.rulepacks.model import Kind

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.streaming import StreamingQuery

    from auditcage.cluster.sink import HitSink

SOURCE_NAME = "auditcage_records"
SOURCE_SCHEMA = "seq long, at_us long, payload string"
MARKER_SEQ = -1  # a sweep marker: at_us is the instant, payload empty
STREAM_HIT_SCHEMA = HIT_SCHEMA + ", draft binary"
_EPOCH = datetime(1970, 1, 1, tzinfo=clock.SHANGHAI)


def at_of(us: int) -> datetime:
    return clock.to_shanghai(_EPOCH + timedelta(microseconds=int(us)))


# --- source ----------------------------------------------------------------------------------


@cache
def _engine(url: str) -> Any:
    from auditcage.storage.session import make_engine

    return make_engine(url)


def _range_facts(url: str, after: int, limit: int | None) -> tuple[int, int | None]:
    """(last seq, latest action_time in µs) of the next `limit` records after seq `after`."""
    from sqlalchemy import func, select

    from auditcage.records.models import Record

    inner = select(Record.seq, Record.action_time).where(Record.seq > after).order_by(Record.seq)
    if limit is not None:
        inner = inner.limit(limit)
    sub = inner.subquery()
    with _engine(url).connect() as conn:
        last, latest = conn.execute(select(func.max(sub.c.seq), func.max(sub.c.action_time))).one()
    if last is None:
        return after, None
    return int(last), epoch_us(clock.to_shanghai(latest))


@dataclass(frozen=True)
class _Range:
    """One partition of a micro-batch: seqs in (after, until], and the sweep marker (last)."""

    after: int
    until: int
    sweep_us: int | None


def _reader_classes() -> tuple[type, type]:
    """The data source and its stream reader (pyspark is imported only when streaming)."""
    from pyspark.sql.datasource import DataSource, DataSourceStreamReader, InputPartition
    from pyspark.sql.streaming.datasource import ReadMaxRows

    class RangePartition(InputPartition):
        def __init__(self, value: _Range) -> None:
            super().__init__(value)

    class StoredRecordsReader(DataSourceStreamReader):
        def __init__(self, options: dict[str, str]) -> None:
            self.url = options["url"]
            self.per_batch = int(options.get("records_per_batch", "10000"))
            self.slices = int(options.get("slices", "2"))
            as_of = options.get("as_of")
            self.as_of_us = epoch_us(datetime.fromisoformat(as_of)) if as_of else None

        def initialOffset(self) -> dict:
            return {"seq": 0, "watermark_us": -1, "sweep_us": -1}

        def getDefaultReadLimit(self) -> Any:
            return ReadMaxRows(self.per_batch)

        def latestOffset(self, start: dict, limit: Any) -> dict:
            rows = int(limit.max_rows) if isinstance(limit, ReadMaxRows) else None
            last, latest = _range_facts(self.url, int(start["seq"]), rows)
            if last == start["seq"]:
                return start
            watermark = max(int(start["watermark_us"]), latest or -1)
            caught_up = _range_facts(self.url, last, 1)[0] == last
            if caught_up and self.as_of_us is not None:
                sweep = max(self.as_of_us, watermark - 1)
            else:
                sweep = watermark - 1
            return {"seq": last, "watermark_us": watermark, "sweep_us": sweep}

        def partitions(self, start: dict, end: dict) -> Sequence[Any]:
            after, until = int(start["seq"]), int(end["seq"])
            if until <= after:
                return []
            width = max(1, -(-(until - after) // self.slices))
            cuts = [*range(after, until, width), until]
            return [
                RangePartition(_Range(lo, hi, int(end["sweep_us"]) if hi == until else None))
                for lo, hi in itertools.pairwise(cuts)
            ]

        def read(self, partition: Any) -> Iterator[tuple[Any, ...]]:
            from sqlalchemy import select

            from auditcage.records.models import Record

            span: _Range = partition.value
            query = (
                select(Record.seq, Record.payload)
                .where(Record.seq > span.after, Record.seq <= span.until)
                .order_by(Record.seq)
            )
            with _engine(self.url).connect() as conn:
                for seq, payload in conn.execute(query):
                    record = revive(payload)
                    if record is not None:
                        yield seq, epoch_us(record["action_time"]), orjson.dumps(payload).decode()
            if span.sweep_us is not None:
                yield MARKER_SEQ, span.sweep_us, ""

    class StoredRecordsSource(DataSource):
        @classmethod
        def name(cls) -> str:
            return SOURCE_NAME

        def schema(self) -> str:
            return SOURCE_SCHEMA

        def streamReader(self, schema: Any) -> Any:
            return StoredRecordsReader(dict(self.options))

    return StoredRecordsSource, StoredRecordsReader


def explode_with_markers(ctx: GroupContext, frame: pd.DataFrame) -> pd.DataFrame:
    """`partition.explode` for records, and one marker row per stateful group for a sweep."""
    markers = frame[frame["seq"] == MARKER_SEQ]
    parts = [explode(ctx, frame[frame["seq"] != MARKER_SEQ])]
    for at_us in markers["at_us"]:
        rows = [
            (family.name, bucket, "", int(at_us), MARKER_SEQ, "")
            for family in ctx.plan.families
            if _has_deadlines(family)  # the others have nothing to sweep
            for bucket in range(1 if family.whole else ctx.buckets)
        ]
        parts.append(pd.DataFrame(rows, columns=GROUP_COLUMNS))
    # Object columns: a concatenation of pandas 3 string columns is a chunked Arrow array,
    # which pyspark's Arrow writer does not take.
    return pd.concat(parts, ignore_index=True).astype(
        {"family": object, "key": object, "payload": object}
    )


def _has_deadlines(family: Family) -> bool:
    return any(rule.rule.kind is Kind.ABSENCE for rule in family.rules)


# --- the stateful processor ------------------------------------------------------------------


def write_spec(spec: RunSpec, checkpoint: Path) -> Path:
    """The run's rules and reference beside the checkpoint (shared storage): executors read
    it from there, since Spark would turn a closure this large into a broadcast variable,
    which the stateful processor's Python runner cannot load."""
    checkpoint.mkdir(parents=True, exist_ok=True)
    path = checkpoint / f"auditcage-run-{spec.token}.pickle"
    if not path.exists():
        path.write_bytes(pickle.dumps(spec, protocol=pickle.HIGHEST_PROTOCOL))
    return path


@cache
def _spec_at(path: str) -> RunSpec:
    spec = pickle.loads(Path(path).read_bytes())  # written by start_stream, our own
    if not isinstance(spec, RunSpec):
        raise TypeError(f"{path} does not hold an auditcage run")
    return spec


def _context(path: str) -> GroupContext:
    return context_of(_spec_at(path))


def processor_for(spec_path: str) -> Any:
    from pyspark.sql.streaming import StatefulProcessor
    from pyspark.sql.types import BinaryType, StructField, StructType

    class FamilyProcessor(StatefulProcessor):
        """One (family, bucket) group: `cluster.step` over its micro-batches."""

        def init(self, handle: Any) -> None:
            schema = StructType([StructField("evaluator", BinaryType(), True)])
            self.group = handle.getValueState("group", schema)

        def handleInputRows(self, key: Any, rows: Iterator[pd.DataFrame], timerValues: Any) -> Any:
            ctx = _context(spec_path)
            name, bucket = str(key[0]), int(key[1])
            family = ctx.plan.family(name)
            frame = pd.concat(list(rows), ignore_index=True)
            data = frame[frame["seq"] != MARKER_SEQ].drop_duplicates("seq")
            sweeps = frame.loc[frame["seq"] == MARKER_SEQ, "at_us"]
            state = self.group.get()[0] if self.group.exists() else None
            hits: list[HitDraft] = []
            if len(data):
                batch = [
                    (int(seq), revive(orjson.loads(payload)))
                    for seq, payload in zip(data["seq"], data["payload"], strict=True)
                ]
                state, found = step(ctx, family, state, batch)
                hits += found
            if len(sweeps):
                state, found = on_deadline(ctx, family, state, at_of(int(sweeps.max())))
                hits += found
            if state is not None and name != EVENT:
                self.group.update((state,))
            yield stream_hits_frame(owned(ctx, family, bucket, hits))

        def close(self) -> None:
            pass

    return FamilyProcessor()


def stream_hits_frame(hits: list[HitDraft]) -> pd.DataFrame:
    """HIT_COLUMNS and the pickled draft, which the sink stores (its key is unmasked)."""
    # Object columns: pandas 3 keeps strings in Arrow-backed arrays, which the stateful
    # processor's Arrow writer does not take.
    frame = hits_frame(hits).astype(object)
    frame["draft"] = pd.Series(
        [pickle.dumps(h, protocol=pickle.HIGHEST_PROTOCOL) for h in hits], dtype=object
    )
    return frame


# --- the query -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StreamSettings:
    database_url: str
    checkpoint: Path
    records_per_batch: int = 10_000
    as_of: datetime | None = None
    trigger_seconds: float = 5.0


def stream_context(
    session: Any, fallback_rules: Path, *, buckets: int = KEY_BUCKETS
) -> tuple[GroupContext, Path, Any]:
    """The active rules (published version, else `fallback_rules`) and the stored reference,
    as the single-machine worker builds them; `release()` removes a materialised version.
    `buckets`: key buckets per family, the stream's state groups (fixed with the checkpoint)."""
    import contextlib

    from auditcage.engine.runner import active_rules_dir
    from auditcage.engine.session import build_engine, load_rules
    from auditcage.reference.service import build_index

    stack = contextlib.ExitStack()
    directory, _label = stack.enter_context(active_rules_dir(session, fallback_rules))
    ruleset, rules = load_rules(directory)
    engine = build_engine(ruleset, rules, build_index(session))
    return GroupContext.of(engine, None, buckets), directory, stack.close


def register_source(spark: SparkSession) -> None:
    source, _ = _reader_classes()
    spark.dataSource.register(source)


def start_stream(
    spark: SparkSession,
    ctx: GroupContext,
    rules_dir: Path,
    settings: StreamSettings,
    sink: HitSink | None = None,
) -> StreamingQuery:
    """Start the query (micro-batches every `trigger_seconds`; `catch_up` to drain it)."""
    spark.conf.set(
        "spark.sql.streaming.stateStore.providerClass",
        "org.apache.spark.sql.execution.streaming.state.RocksDBStateStoreProvider",
    )
    register_source(spark)
    spec_path = str(write_spec(RunSpec.of(rules_dir, ctx), settings.checkpoint))
    records: DataFrame = (
        spark.readStream.format(SOURCE_NAME)
        .option("url", settings.database_url)
        .option("records_per_batch", str(settings.records_per_batch))
        .option("slices", str(max(1, spark.sparkContext.defaultParallelism)))
        .option("as_of", settings.as_of.isoformat() if settings.as_of else "")
        .load()
    )

    def explode_batches(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for frame in frames:
            yield explode_with_markers(_context(spec_path), frame)

    hits = (
        records.mapInPandas(explode_batches, GROUP_SCHEMA)
        .groupBy("family", "bucket")
        .transformWithStateInPandas(
            statefulProcessor=processor_for(spec_path),
            outputStructType=STREAM_HIT_SCHEMA,
            outputMode="Append",
            timeMode="None",
        )
    )
    from auditcage.cluster.sink import HitSink

    sink = sink or HitSink(settings.database_url, ctx.engine)
    writer = (
        hits.writeStream.foreachBatch(sink.write_batch)
        .option("checkpointLocation", str(settings.checkpoint))
        .queryName("auditcage-families")
    )
    # Not availableNow: Spark plans that trigger with ReadAllAvailable, one batch of everything,
    # where records_per_batch must cut the stream.
    return writer.trigger(processingTime=f"{settings.trigger_seconds} seconds").start()


def catch_up(query: StreamingQuery) -> None:
    """Block until every stored record is evaluated and its hits stored, then stop."""
    try:
        query.processAllAvailable()
    finally:
        query.stop()


assert set(HIT_COLUMNS) < set(STREAM_HIT_SCHEMA.replace(",", " ").split())
