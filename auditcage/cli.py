"""The `auditcage` command line: the composition root of the core, the API and the notifier."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import click
import orjson

from auditcage.config import Settings
from auditcage.errors import AuditcageError


def _settings(ctx: click.Context) -> Settings:
    return ctx.ensure_object(dict).setdefault("settings", Settings.from_env())


def _sessions(settings: Settings):  # type: ignore[no-untyped-def]
    from auditcage.storage.schema import upgrade
    from auditcage.storage.session import make_engine, make_session_factory

    engine = make_engine(settings.database_url)
    upgrade(engine)
    context = click.get_current_context(silent=True)
    if context is not None:
        context.call_on_close(engine.dispose)  # no connection outlives the command
    return make_session_factory(engine)


class AuditcageGroup(click.Group):
    """Turns domain errors into one clear line on stderr and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AuditcageError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)


@click.group(cls=AuditcageGroup)
@click.option("--database-url", envvar="AUDITCAGE_DATABASE_URL", help="SQLAlchemy URL.")
@click.pass_context
def main(ctx: click.Context, database_url: str | None) -> None:
    """auditcage — supervisory audit of traffic-police window business (数据铁笼)."""
    settings = Settings.from_env()
    if database_url:
        from dataclasses import replace

        settings = replace(settings, database_url=database_url)
    from auditcage import logs

    logs.configure(settings.log_level)
    ctx.ensure_object(dict)["settings"] = settings


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Create or migrate the database schema to the current version."""
    _sessions(_settings(ctx))
    click.echo("database is at the current schema")


# --- intake -------------------------------------------------------------------------------------


def _batches(items: Iterator[tuple[int, Any]], size: int) -> Iterator[list[tuple[int, Any]]]:
    while batch := list(islice(items, size)):
        yield batch


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--batch-size", default=2000, show_default=True, help="Records per transaction.")
@click.pass_context
def ingest(ctx: click.Context, files: tuple[Path, ...], batch_size: int) -> None:
    """Ingest record files (NDJSON, CSV, XLSX; catalogue §7.1) as streams.

    Every record ends accepted, duplicate (reported, not stored twice) or quarantined with its
    reasons (`auditcage quarantine list`). A summary is printed per file and in total.
    """
    from auditcage.records.intake import IntakeReport, accept_batch
    from auditcage.records.progress import tracked_records
    from auditcage.reference.cache import ReferenceCache

    sessions = _sessions(_settings(ctx))
    cache = ReferenceCache()
    total = IntakeReport()
    for path in files:
        report = IntakeReport()
        with tracked_records(path, show=sys.stderr.isatty()) as items:
            for batch in _batches(items, batch_size):
                with sessions.begin() as session:
                    notices = cache.notice_source(session)
                    part = accept_batch(
                        session, batch, source=str(path), notices=notices, keep_outcomes=False
                    )
                report.merge(part)
        _print_summary(str(path), report)
        total.merge(report)
    if len(files) > 1:
        _print_summary("total", total)


def _print_summary(title: str, report: Any) -> None:
    click.echo(f"{title}:")
    click.echo(f"  read                    {report.read}")
    click.echo(f"  accepted                {report.accepted}")
    click.echo(f"  accepted with warnings  {report.accepted_with_warnings}")
    click.echo(f"  duplicates              {report.duplicates}")
    click.echo(f"  quarantined             {report.quarantined}")
    for code, count in sorted(report.quarantined_by_reason.items()):
        click.echo(f"    {code:<28}{count}")
    if report.warnings_by_code:
        click.echo("  warnings by code:")
        for code, count in sorted(report.warnings_by_code.items()):
            click.echo(f"    {code:<28}{count}")


# --- quarantine ---------------------------------------------------------------------------------


@main.group()
def quarantine() -> None:
    """Records that failed validation: list, show, correct and replay."""


@quarantine.command("list")
@click.option("--code", help="Only records with this reason code (e.g. id_checksum).")
@click.option("--limit", default=50, show_default=True)
@click.pass_context
def quarantine_list(ctx: click.Context, code: str | None, limit: int) -> None:
    """Pending quarantined records, oldest first (personal data masked)."""
    from auditcage.records import quarantine as q

    sessions = _sessions(_settings(ctx))
    with sessions.begin() as session:
        items = q.pending(session, code=code, limit=limit)
        for item in items:
            first = item.reasons[0] if item.reasons else {"field": "", "reason": ""}
            click.echo(
                f"{item.id:>6}  {item.source}:{item.position}  {item.record_id or '-'}  "
                f"[{item.codes}]  {first['field']}: {first['reason']}"
            )
        if not items:
            click.echo("no pending quarantined records")


@quarantine.command("show")
@click.argument("quarantine_id", type=int)
@click.option("--unmask", is_flag=True, help="Show personal data (recorded in the audit trail).")
@click.pass_context
def quarantine_show(ctx: click.Context, quarantine_id: int, unmask: bool) -> None:
    """One quarantined record: where it came from, every reason, and its payload."""
    from auditcage.audit import trail
    from auditcage.records import quarantine as q
    from auditcage.records.masking import mask_record

    sessions = _sessions(_settings(ctx))
    with sessions.begin() as session:
        item = q.get(session, quarantine_id)
        click.echo(f"quarantined record {item.id} ({item.state}), attempts {item.attempts}")
        click.echo(f"source {item.source}, position {item.position}, record_id {item.record_id}")
        for reason in item.reasons:
            click.echo(f"  {reason['field'] or '(record)'}: {reason['reason']} [{reason['code']}]")
        payload = item.payload
        if unmask:
            trail.record(
                session,
                actor=_cli_actor(),
                action="quarantine.unmask",
                subject=("quarantined_record", item.id),
            )
        elif isinstance(payload, dict):
            payload = mask_record(payload)
        if payload is not None:
            click.echo(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode())
        else:
            click.echo(f"raw line: {item.raw_text if unmask else '(not JSON; use --unmask)'}")


@quarantine.command("replay")
@click.argument("quarantine_ids", type=int, nargs=-1)
@click.option(
    "--payload",
    "payload_file",
    type=click.Path(exists=True, path_type=Path),
    help="A corrected record (JSON) to replay instead of the stored one.",
)
@click.option("--all", "replay_all", is_flag=True, help="Replay every pending record as it is.")
@click.pass_context
def quarantine_replay(
    ctx: click.Context, quarantine_ids: tuple[int, ...], payload_file: Path | None, replay_all: bool
) -> None:
    """Run quarantined records through intake again, optionally corrected.

    Accepted records leave the quarantine (state `replayed`); the others stay with new reasons.
    """
    from auditcage.audit import trail
    from auditcage.records import quarantine as q
    from auditcage.reference.cache import ReferenceCache

    if payload_file and len(quarantine_ids) != 1:
        raise click.UsageError("--payload corrects exactly one quarantined record")
    corrected = orjson.loads(payload_file.read_bytes()) if payload_file else None
    sessions = _sessions(_settings(ctx))
    cache = ReferenceCache()
    with sessions.begin() as session:
        ids = list(quarantine_ids)
        if replay_all:
            ids += [item.id for item in q.pending(session, limit=1_000_000)]
        if not ids:
            raise click.UsageError("name quarantined record ids, or use --all")
        notices = cache.notice_source(session)
        for quarantine_id in ids:
            result = q.replay(
                session, quarantine_id, actor=_cli_actor(), corrected=corrected, notices=notices
            )
            trail.record(
                session,
                actor=_cli_actor(),
                action="quarantine.replay",
                subject=("quarantined_record", quarantine_id),
                detail={"outcome": result.outcome.value, "record_id": result.record_id},
            )
            reasons = "; ".join(f"{r['field']}: {r['reason']}" for r in result.reasons)
            click.echo(
                f"{quarantine_id}: {result.outcome.value} {result.record_id or ''} {reasons}"
            )


def _cli_actor() -> str:
    import getpass

    return f"cli:{getpass.getuser()}"


# --- reference data -----------------------------------------------------------------------------


@main.group()
def reference() -> None:
    """Reference datasets (catalogue §7.2)."""


@reference.command("load")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.pass_context
def reference_load(ctx: click.Context, directory: Path) -> None:
    """Load every dataset file of DIRECTORY; each replaces its dataset atomically.

    The shipped policy tables (rules/reference/) are loaded unless DIRECTORY has a file of the
    same name. A dataset with an invalid row is refused whole and the previous data stays.
    """
    from auditcage.reference import service

    sessions = _sessions(_settings(ctx))
    with sessions.begin() as session:
        loads = service.load_directory(session, directory, actor=_cli_actor())
    for load in loads:
        click.echo(f"{load.dataset:<24}{load.rows:>8} rows  from {load.source}")


@reference.command("list")
@click.pass_context
def reference_list(ctx: click.Context) -> None:
    """The current version of every dataset: rows, source, when and by whom."""
    from auditcage.reference import service

    sessions = _sessions(_settings(ctx))
    with sessions.begin() as session:
        for load in service.current_loads(session):
            click.echo(
                f"{load.dataset:<24}{load.rows:>8} rows  {load.loaded_at:%Y-%m-%d %H:%M}  "
                f"{load.actor}  {load.source}"
            )


# --- serving and the demo -----------------------------------------------------------------------


@main.command()
@click.option("--host", default=None, help="Default AUDITCAGE_HOST or 127.0.0.1.")
@click.option("--port", default=None, type=int, help="Default AUDITCAGE_PORT or 8000.")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve the API with Flask's server (use gunicorn 'api.wsgi:app' in production)."""
    from api import create_app

    settings = _settings(ctx)
    _sessions(settings)
    app = create_app(settings)
    app.run(host=host or settings.host, port=port or settings.port, threaded=True)


@main.command()
@click.option(
    "--records",
    "records_target",
    default=20_000,
    show_default=True,
    help="How many records to generate.",
)
@click.option("--months", default=3, show_default=True, help="Closed calendar months of history.")
@click.option("--seed", default=7, show_default=True)
@click.option(
    "--dir",
    "out_dir",
    default="demo-province",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the files go.",
)
@click.option("--serve/--no-serve", default=True, show_default=True)
@click.pass_context
def demo(
    ctx: click.Context, records_target: int, months: int, seed: int, out_dir: Path, serve: bool
) -> None:
    """Create the demo database with a synthetic province, load it, and serve the API.

    Uses AUDITCAGE_DATABASE_URL, or sqlite:///auditcage-demo.db when it is not set.
    """
    from auditcage.demo_run import run_demo

    settings = _settings(ctx)
    run_demo(
        settings,
        records_target=records_target,
        months=months,
        seed=seed,
        out_dir=out_dir,
        serve=serve,
        echo=click.echo,
    )


# --- the engine: worker, replay, rules ----------------------------------------------------------

from auditcage.cli_engine import register as _register_engine  # noqa: E402

_register_engine(main, _sessions, _settings, _cli_actor)

from auditcage.cli_accounts import register as _register_accounts  # noqa: E402

_register_accounts(main, _sessions, _settings, _cli_actor)

from auditcage.cli_cluster import register as _register_cluster  # noqa: E402

_register_cluster(main, _sessions, _settings)


# --- staff tokens -------------------------------------------------------------------------------


@main.group()
def token() -> None:
    """Bearer tokens for staff using the alerts API (chiefs' devices, inspectors' tools)."""


@token.command("issue")
@click.argument("staff_id")
@click.pass_context
def token_issue(ctx: click.Context, staff_id: str) -> None:
    """Print a token naming STAFF_ID (an active R2 member); valid AUDITCAGE_STAFF_TOKEN_TTL."""
    from api.auth import issue_staff_token
    from auditcage.audit import trail
    from auditcage.reference.service import build_index
    from notifications.access import viewer_of

    settings = _settings(ctx)
    settings.check_secrets()  # a token signed with no key would be refused by the API anyway
    with _sessions(settings).begin() as session:
        viewer = viewer_of(build_index(session), staff_id)
        trail.record(
            session,
            actor=_cli_actor(),
            action="staff_token.issued",
            subject=("staff", staff_id),
            detail={"role": viewer.role, "ttl_s": int(settings.staff_token_ttl.total_seconds())},
        )
    click.echo(issue_staff_token(settings.secret_key, staff_id))


# --- audit trail --------------------------------------------------------------------------------


@main.group()
def audit() -> None:
    """The hash-chained audit trail (全程留痕)."""


@audit.command("verify")
@click.pass_context
def audit_verify(ctx: click.Context) -> None:
    """Prove the audit trail intact, or name the first broken entry (exit status 1)."""
    from auditcage.audit import trail

    sessions = _sessions(_settings(ctx))
    with sessions.begin() as session:
        result = trail.verify(session)
    if result.ok:
        click.echo(f"audit trail intact: {result.entries} entries")
        return
    click.echo(f"audit trail broken at entry {result.first_broken_id}: {result.reason}", err=True)
    sys.exit(1)
