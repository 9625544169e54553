"""Spark back-test throughput (issue 10) beside the default engine, on the same data, in one run.

Prints lines `name: value unit`:
- `scale_records`: records of the scenario (valid, evaluated by every engine);
- `replay_default`: the default engine (`engine.replay.evaluate`, one process) in records/s;
- `partitioned_local`: the partitioned plan (families by key bucket, then the batch rules)
  with a pandas groupby in this process, no Spark: what partitioning costs by itself;
- `spark_1_worker`, `spark_2_workers`: `run_on_spark` on a standalone cluster on 127.0.0.1
  with one and then two one-core workers (512 MiB executors), in records/s, each the second of
  two runs (the first compiles the rules in every executor's Python worker; it is printed as
  `…_cold`), with the seconds of the family stage on Spark and of the batch rules (rates and
  ledgers, on the driver) beside it;
- `spark_stream_2_workers`: `auditcage cluster worker`'s query (cluster.streaming) over the
  same records stored in a SQLite file, four micro-batches, two workers, records/s (its hits
  are the default engine's hits of the streamed rules: rates and ledgers are not streamed);
- `spark_session_start`: seconds to start the driver's SparkSession on the cluster.
Every engine's hits are compared with the default engine's; a difference stops the run.

    python bench/scale.py [--size 6000] [--partitions 8] [--file records.ndjson --reference DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import make_scenario  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=6000, help="records of the scenario")
    parser.add_argument("--partitions", type=int, default=8, help="Spark shuffle partitions")
    parser.add_argument("--file", type=Path, help="records (NDJSON) instead of a scenario")
    parser.add_argument("--reference", type=Path, help="reference directory for --file")
    parser.add_argument("--rules", type=Path, default=ROOT / "rules")
    args = parser.parse_args()

    import orjson

    from auditcage.cluster.engine import run_on_spark
    from auditcage.cluster.partition import GroupContext
    from auditcage.cluster.run import as_of_of, run_local, run_partitioned
    from auditcage.cluster.spark import session
    from auditcage.cluster.standalone import StandaloneCluster
    from auditcage.engine.replay import ReplaySummary, evaluate, valid_records
    from auditcage.engine.session import build_engine, load_rules
    from auditcage.reference.service import index_from_directory

    with tempfile.TemporaryDirectory(prefix="auditcage-scale-") as tmp:
        if args.file:
            if args.reference is None:
                parser.error("--reference is required with --file")
            reference_dir, records_path = args.reference, args.file
        else:
            reference_dir, records_path = make_scenario(args.size, Path(tmp))
        records = [r for _, _, r in valid_records([records_path], ReplaySummary())]
        ref = index_from_directory(reference_dir)
        ruleset, compiled = load_rules(args.rules)
        n = len(records)
        print(f"scale_records: {n} records")

        started = time.perf_counter()
        engine = build_engine(ruleset, compiled, ref)
        default = sorted(
            orjson.dumps(h.as_json()).decode()
            for h in evaluate(engine, records, as_of=as_of_of(records, None))
        )
        _rate("replay_default", n, time.perf_counter() - started)

        def check(name: str, lines: list[str]) -> None:
            if sorted(lines) != default:
                raise SystemExit(f"{name}: hits differ from the default engine's")

        ctx = GroupContext.of(build_engine(ruleset, compiled, ref), as_of_of(records, None))
        started = time.perf_counter()
        local = run_partitioned(ctx, records, run_local)
        _rate("partitioned_local", n, time.perf_counter() - started)
        check("partitioned_local", list(local.hits["line"]))

        with StandaloneCluster(workers=1) as cluster:
            started = time.perf_counter()
            spark = session(cluster.url, partitions=args.partitions, app="auditcage-scale")
            print(f"spark_session_start: {time.perf_counter() - started:.1f} s")
            try:
                for workers, name in ((1, "spark_1_worker"), (2, "spark_2_workers")):
                    if workers > 1:
                        cluster.add_worker()
                        _wait_for_executors(spark, workers)
                    for attempt in ("_cold", ""):
                        started = time.perf_counter()
                        result = run_on_spark(
                            args.rules,
                            records,
                            ref,
                            as_of=None,
                            master=None,
                            partitions=args.partitions,
                            session=spark,
                        )
                        _rate(name + attempt, n, time.perf_counter() - started)
                        check(name, list(result.hits["line"]))
                    print(f"{name}_families: {result.timings['families_s']:.1f} s")
                    print(f"{name}_batch_rules: {result.timings['batch_s']:.1f} s")
                _stream(spark, args, records, reference_dir, default, Path(tmp))
            finally:
                spark.stop()
    return 0


def _stream(spark, args, records, reference_dir, default, tmp: Path) -> None:  # type: ignore[no-untyped-def]
    """`spark_stream_2_workers`: the records stored (event order) in a SQLite file, streamed
    through the families in four micro-batches; its hits against the default engine's."""
    import orjson
    from sqlalchemy import select

    from auditcage.alerts.models import Hit
    from auditcage.cluster.streaming import StreamSettings, catch_up, start_stream, stream_context
    from auditcage.records.intake import accept_batch, canonical
    from auditcage.reference import service
    from auditcage.storage.schema import upgrade
    from auditcage.storage.session import make_engine, make_session_factory

    url = f"sqlite:///{tmp / 'stream.db'}"
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        service.load_directory(session, reference_dir, actor="bench")
        raw = [orjson.loads(orjson.dumps(canonical(r))) for r in records]
        accept_batch(session, list(enumerate(raw)), source="bench")
    with sessions.begin() as session:
        ctx, rules_dir, release = stream_context(session, args.rules, buckets=8)
    ctx.as_of = max(r["action_time"] for r in records)
    settings = StreamSettings(
        url,
        tmp / "checkpoint",
        records_per_batch=-(-len(records) // 4),
        as_of=ctx.as_of,
        trigger_seconds=0,
    )
    try:
        started = time.perf_counter()
        catch_up(start_stream(spark, ctx, rules_dir, settings))
        _rate("spark_stream_2_workers", len(records), time.perf_counter() - started)
    finally:
        release()
    batch = {r.uid for r in ctx.plan.batch_rules}
    wanted = set()
    for line in default:
        hit = orjson.loads(line)
        uid = f"{hit['rule_id']}#{hit['sub']}" if hit["sub"] else hit["rule_id"]
        if uid not in batch:
            wanted.add(hit["id"])
    with sessions() as session:
        stored = set(session.scalars(select(Hit.id)))
    if stored != wanted:
        raise SystemExit("spark_stream: hits differ from the default engine's (families)")


def _rate(name: str, records: int, seconds: float) -> None:
    print(f"{name}: {records / seconds:.0f} records/s ({seconds:.1f} s)", flush=True)


def _wait_for_executors(spark, count: int, timeout: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    """Until the application has `count` executors (the new worker's joins it)."""
    deadline = time.monotonic() + timeout
    status = spark.sparkContext._jsc.sc().getExecutorMemoryStatus
    while status().size() - 1 < count:  # the driver is in the map too
        if time.monotonic() > deadline:
            raise SystemExit(f"{count} executors not up after {timeout:.0f} s")
        time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main())
