"""`auditcage export parquet`: stored history for back-tests on a cluster (issue 10)."""

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
