"""`auditcage export parquet` (stored history for back-tests on a cluster) and `auditcage
cluster worker` (the families streaming on Spark), issue 10."""

from __future__ import annotations

from pathlib import Path

import click


def register(main: click.Group, sessions_of, settings_of) -> None:  # type: ignore[no-untyped-def]
    """Attach the export commands to the CLI group (cli.py is the composition root)."""

    @main.group()
    def export() -> None:
        """Export stored data for other engines."""

    @export.command("parquet")
    @click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path))
    @click.option("--since", help="Only records from this time.")
    @click.option("--until", help="Only records before this time.")
    @click.pass_context
    def export_parquet(
        ctx: click.Context, out_dir: Path, since: str | None, until: str | None
    ) -> None:
        """Stored records as Parquet partitioned by month (month=YYYY-MM/), for
        `rules backtest --parquet DIR [--engine spark]`. Needs the spark extra (pyarrow)."""
        from auditcage.cli_engine import _as_of
        from auditcage.cluster.export import export_parquet as run

        with sessions_of(settings_of(ctx)).begin() as session:
            summary = run(session, out_dir, since=_as_of(since), until=_as_of(until))
        click.echo(f"{summary.records} records written to {out_dir}")
        for month, count in sorted(summary.by_month.items()):
            click.echo(f"  month={month}  {count}")

    @main.group()
    def cluster() -> None:
        """Run auditcage on an Apache Spark cluster (the spark extra)."""

    @cluster.command("worker")
    @click.option("--master", help="Spark master URL (spark://HOST:PORT; default local[2]).")
    @click.option(
        "--checkpoint",
        required=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="Checkpoint directory on storage every executor reaches (offsets and state).",
    )
    @click.option(
        "--partitions",
        default=64,
        show_default=True,
        type=click.IntRange(min=1),
        help="State partitions; fixed for the life of the checkpoint.",
    )
    @click.option(
        "--key-buckets",
        default=32,
        show_default=True,
        type=click.IntRange(min=1),
        help="Key buckets per family (the state groups); fixed for the life of the checkpoint.",
    )
    @click.option("--records-per-batch", default=10_000, show_default=True, type=int)
    @click.option("--trigger-seconds", default=5.0, show_default=True, type=float)
    @click.option("--as-of", "as_of", help="Sweep deadlines at this instant once caught up.")
    @click.option("--once", is_flag=True, help="Evaluate what is stored, then stop.")
    @click.pass_context
    def cluster_worker(
        ctx: click.Context,
        master: str | None,
        checkpoint: Path,
        partitions: int,
        key_buckets: int,
        records_per_batch: int,
        trigger_seconds: float,
        as_of: str | None,
        once: bool,
    ) -> None:
        """Stream stored records through the families on Spark into the hits table.

        Rate and ledger rules are not part of the stream (they judge whole populations at
        period close: `auditcage worker` or a back-test runs them)."""
        from auditcage.cli_engine import _as_of
        from auditcage.cluster import spark as spark_session
        from auditcage.cluster.streaming import (
            StreamSettings,
            catch_up,
            start_stream,
            stream_context,
        )

        spark_session.require_pyspark()
        settings = settings_of(ctx)
        with sessions_of(settings).begin() as session:
            group_ctx, rules_dir, release = stream_context(
                session, settings.rules_dir, buckets=key_buckets
            )
        try:
            spark = spark_session.session(master, partitions=partitions, app="auditcage-stream")
            query = start_stream(
                spark,
                group_ctx,
                rules_dir,
                StreamSettings(
                    settings.database_url,
                    checkpoint,
                    records_per_batch=records_per_batch,
                    as_of=_as_of(as_of),
                    trigger_seconds=0 if once else trigger_seconds,
                ),
            )
            click.echo(f"streaming on {spark.sparkContext.master}, checkpoint {checkpoint}")
            if once:
                catch_up(query)
            else:
                query.awaitTermination()
        finally:
            release()
