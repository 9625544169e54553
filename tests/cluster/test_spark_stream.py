"""Spark streaming = batch: stored records streamed in micro-batches of a fixed size through
the families on a standalone cluster (state in Spark's RocksDB store) store the hits the
default engine's replay finds for those rules; and a worker killed mid-stream, with the query
restarted from its checkpoint, loses no hit and writes none twice."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from auditcage.alerts.models import Hit
from auditcage.engine.replay import ReplaySummary, replay, valid_records
from auditcage.records.intake import accept_batch
from auditcage.records.readers import read_records
from auditcage.reference import service
from auditcage.storage.session import make_session_factory
from tests.cluster.conftest import HAVE_PYSPARK, NO_PYSPARK, Scenario

pytestmark = [
    pytest.mark.spark,
    pytest.mark.db,
    pytest.mark.skipif(not HAVE_PYSPARK, reason=NO_PYSPARK),
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas"),
]

RULES = Path(__file__).resolve().parents[2] / "rules"
BATCHES = 6  # micro-batches of the stream; it is stopped after the second


def _in_event_order(scenario: Scenario, out: Path) -> Path:
    """The scenario's records in action_time order (then file order), as intake would bring
    a live stream: the order the stream's equality with the replay assumes."""
    records = [r for _, _, r in valid_records([scenario.records_path], ReplaySummary())]
    lines = {
        orjson.loads(line)["record_id"]: line
        for line in scenario.records_path.read_bytes().splitlines()
        if line.strip()
    }
    out.write_bytes(b"\n".join(lines[r["record_id"]] for r in records) + b"\n")
    return out


def _wait_for_batches(query: Any, count: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while (query.lastProgress or {}).get("batchId", -1) < count - 1:
        if query.exception() is not None:
            raise query.exception()
        assert time.monotonic() < deadline, "the stream made no progress"
        time.sleep(0.5)


def test_a_stream_cut_and_restarted_after_a_worker_is_killed_stores_the_replays_hits(
    scenario: Scenario,
    cluster: Any,
    spark: Any,
    committing_engine: Engine,
    database_url: str,
    tmp_path: Path,
) -> None:
    from auditcage.cluster.sink import HitSink
    from auditcage.cluster.streaming import StreamSettings, catch_up, start_stream, stream_context

    ordered = _in_event_order(scenario, tmp_path / "ordered.ndjson")
    sessions = make_session_factory(committing_engine)
    with sessions.begin() as session:
        service.load_directory(session, scenario.reference_dir, actor="test")
        report = accept_batch(session, read_records(ordered), source="test")
    with sessions.begin() as session:
        ctx, rules_dir, release = stream_context(session, RULES, buckets=4)
    out = io.BytesIO()
    replay([ordered], reference_dir=scenario.reference_dir, hits_out=out, rules_dir=RULES)
    batch_rules = {rule.uid for rule in ctx.plan.batch_rules}
    expected = {
        hit["id"]
        for hit in map(orjson.loads, out.getvalue().splitlines())
        if (f"{hit['rule_id']}#{hit['sub']}" if hit["sub"] else hit["rule_id"]) not in batch_rules
    }
    assert len(expected) > 100

    ctx.as_of = max(r["action_time"] for _, _, r in valid_records([ordered], ReplaySummary()))
    settings = StreamSettings(
        database_url,
        tmp_path / "checkpoint",
        records_per_batch=-(-report.accepted // BATCHES),
        as_of=ctx.as_of,
        trigger_seconds=0,
    )
    first, second = HitSink(database_url, ctx.engine), HitSink(database_url, ctx.engine)
    try:
        query = start_stream(spark, ctx, rules_dir, settings, sink=first)
        _wait_for_batches(query, 2)
        cluster.kill_worker()  # mid-stream: its executor and the tasks on it are lost
        query.stop()
        cluster.add_worker()
        with Session(committing_engine) as session:
            stored_before = session.scalar(select(func.count()).select_from(Hit))
        assert 0 < stored_before < len(expected)  # stopped part-way

        catch_up(start_stream(spark, ctx, rules_dir, settings, sink=second))
    finally:
        release()

    with Session(committing_engine) as session:
        stored = set(session.scalars(select(Hit.id)))
    assert stored == expected
    assert first.stored + second.stored == len(expected)  # no hit written twice
    assert first.batches >= 2 and second.batches >= 1
