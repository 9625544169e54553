"""`auditcage worker`, `auditcage replay` and `auditcage rules …`: the engine's commands."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import click

from auditcage import clock
from auditcage.shutdown import StopRequest


def _as_of(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return clock.to_shanghai(datetime.fromisoformat(value))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO-8601 time") from None


@contextmanager
def _against_dir(ctx: click.Context, against: str) -> Iterator[Path]:
    """'active', 'vN' (a published version, materialised) or a directory path."""
    if against not in ("active",) and not against.startswith("v"):
        yield Path(against)
        return
    from auditcage.cli import _sessions, _settings
    from auditcage.errors import NotFound
    from auditcage.rulepacks import publish
    from auditcage.rulepacks.models import RuleVersion

    with _sessions(_settings(ctx)).begin() as session:
        if against == "active":
            version = publish.active_version(session)
        else:
            version = session.get(RuleVersion, int(against[1:]))
        if version is None:
            raise NotFound(f"no published version {against!r}")
        with publish.materialised(version) as root:
            yield root


def _engine_options(command):  # type: ignore[no-untyped-def]
    """--engine, --master and --partitions: where replay and back-tests run."""
    command = click.option(
        "--partitions",
        default=8,
        show_default=True,
        type=click.IntRange(min=1),
        help="--engine spark: shuffle partitions of the (family, key) groups.",
    )(command)
    command = click.option(
        "--master",
        help="--engine spark: the Spark master URL (spark://HOST:PORT; default local[2]).",
    )(command)
    return click.option(
        "--engine",
        type=click.Choice(["default", "spark"]),
        default="default",
        show_default=True,
        help="spark: the same rules on Apache Spark (pip install 'auditcage[spark]').",
    )(command)


def register(main: click.Group, sessions_of, settings_of, actor_of) -> None:  # type: ignore[no-untyped-def]
    """Attach the engine's commands to the CLI group (cli.py is the composition root)."""

    @main.command()
    @click.option(
        "--once", is_flag=True, help="One full pass (records, then the sweeper) and exit."
    )
    @click.option("--as-of", "as_of", help="Sweep deadlines as of this time (default: now).")
    @click.option("--batch-size", default=1000, show_default=True)
    @click.option("--idle", default=2.0, show_default=True, help="Seconds to sleep when idle.")
    @click.option(
        "--deliver/--no-deliver",
        default=True,
        show_default=True,
        help="Also deliver queued notifications (off when `auditcage notifier` runs beside).",
    )
    @click.pass_context
    def worker(
        ctx: click.Context,
        once: bool,
        as_of: str | None,
        batch_size: int,
        idle: float,
        deliver: bool,
    ) -> None:
        """Evaluate stored records in order with a persisted cursor; sweep deadlines.

        Restart-safe: state is rebuilt from the database, the cursor moves with the hits.
        A newly published rule version is picked up without a restart.
        """
        from auditcage.engine.runner import RecordWorker
        from notifications.worker import NotificationWorker

        settings = settings_of(ctx)
        sessions = sessions_of(settings)
        worker = RecordWorker(sessions, rules_dir=settings.rules_dir, batch_size=batch_size)
        notifications = NotificationWorker(sessions, settings)
        stop = StopRequest().install()
        while not stop():
            started = time.perf_counter()
            result = worker.run_once(as_of=_as_of(as_of), should_stop=stop)
            if once or result.records:
                click.echo(
                    f"rules {result.version}: {result.records} records, {result.hits} new hits"
                    f" ({result.late} late), state rebuilt from {result.rebuilt_from} records"
                    f" in {time.perf_counter() - started:.1f} s"
                )
            if stop():
                break
            started = time.perf_counter()
            report = notifications.run_once(now=_as_of(as_of), deliver=deliver, should_stop=stop)
            if once or report.routed or report.escalations or report.delivery.attempts:
                d = report.delivery
                click.echo(
                    f"alerts: {report.routed} routed, {report.escalations} escalation steps, "
                    f"{report.digests} digests; deliveries: {d.sent} sent, {d.retrying} to "
                    f"retry, {d.failed} failed in {time.perf_counter() - started:.1f} s"
                )
            if once:
                return
            if not result.records:
                stop.wait(idle)
        click.echo("worker stopped")

    @main.command()
    @click.option("--once", is_flag=True, help="Deliver what is due once and exit.")
    @click.option("--idle", default=5.0, show_default=True, help="Seconds between passes.")
    @click.pass_context
    def notifier(ctx: click.Context, once: bool, idle: float) -> None:
        """Deliver queued notifications through apprise (retries, back-off, fallback)."""
        from notifications.worker import NotificationWorker

        settings = settings_of(ctx)
        # Messages carry signed acknowledgement links: refuse an empty or development key.
        settings.check_secrets()
        worker = NotificationWorker(sessions_of(settings), settings)
        stop = StopRequest().install()
        while not stop():
            d = worker.deliver_only(stop)
            if once or d.attempts:
                click.echo(f"deliveries: {d.sent} sent, {d.retrying} to retry, {d.failed} failed")
            if d.released:
                click.echo(f"stopping: {d.released} claimed messages handed back unsent")
            if once:
                return
            stop.wait(idle)
        click.echo("notifier stopped")

    @main.command()
    @click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
    @click.option(
        "--reference",
        "reference_dir",
        required=True,
        type=click.Path(exists=True, file_okay=False, path_type=Path),
    )
    @click.option("--hits", "hits_path", required=True, type=click.Path(path_type=Path))
    @click.option(
        "--rules",
        "rules_dir",
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        help="Rules directory (default: rules/).",
    )
    @click.option("--as-of", "as_of", help="Sweep deadlines as of this time.")
    @_engine_options
    @click.pass_context
    def replay(
        ctx: click.Context,
        inputs: tuple[Path, ...],
        reference_dir: Path,
        hits_path: Path,
        rules_dir: Path | None,
        as_of: str | None,
        engine: str,
        master: str | None,
        partitions: int,
    ) -> None:
        """Evaluate record files in batch into a hits file (catalogue §7.4). Sends nothing.

        With --engine spark the rules run on Apache Spark (the spark extra) and write the
        same hits, in time order.
        """
        from auditcage.engine.replay import replay as run

        settings = settings_of(ctx)
        if engine == "spark":
            from auditcage.cluster.spark import require_pyspark

            require_pyspark()  # before the hits file is opened (and emptied)
        with hits_path.open("wb") as out:
            if engine == "spark":
                from auditcage.cluster.engine import replay_on_spark

                summary = replay_on_spark(
                    list(inputs),
                    reference_dir=reference_dir,
                    hits_out=out,
                    rules_dir=rules_dir or settings.rules_dir,
                    as_of=_as_of(as_of),
                    master=master,
                    partitions=partitions,
                )
            else:
                summary = run(
                    list(inputs),
                    reference_dir=reference_dir,
                    hits_out=out,
                    rules_dir=rules_dir or settings.rules_dir,
                    as_of=_as_of(as_of),
                )
        click.echo(
            f"records read {summary.read}, accepted {summary.accepted}, "
            f"quarantined {summary.quarantined}"
        )
        for code, count in sorted(summary.quarantined_by_reason.items()):
            click.echo(f"  quarantined {code:<24}{count}")
        click.echo(f"deadlines swept as of {summary.as_of.isoformat() if summary.as_of else '-'}")
        click.echo(
            "hits by severity: "
            + ", ".join(
                f"{s} {summary.hits_by_severity.get(s, 0)}"
                for s in ("red", "orange", "yellow", "blue")
            )
        )
        for rule_id, count in sorted(summary.hits_by_rule.items()):
            click.echo(f"  {rule_id:<10}{count}")

    @main.group()
    def rules() -> None:
        """Rule packs: validate, test, list, show, publish, roll back."""

    def _load(directory: Path):  # type: ignore[no-untyped-def]
        from auditcage.engine.session import load_rules

        return load_rules(directory)

    @rules.command("validate")
    @click.option("--rules", "rules_dir", type=click.Path(exists=True, path_type=Path))
    @click.pass_context
    def rules_validate(ctx: click.Context, rules_dir: Path | None) -> None:
        """Check every pack, rule and condition; print each problem as file:line: rule: field."""
        from auditcage.engine.compiled import compile_ruleset
        from auditcage.precheck.policy import FILE as PRECHECK_FILE
        from auditcage.precheck.policy import validate_precheck_policy
        from auditcage.rulepacks.packs import load_ruleset
        from notifications.policy import validate_policy

        directory = rules_dir or settings_of(ctx).rules_dir
        ruleset, issues = load_ruleset(directory)
        _, compile_issues = compile_ruleset(ruleset)
        routing = directory / "routing.yaml"
        policy_issues = validate_policy(routing) if routing.exists() else []
        precheck = directory / PRECHECK_FILE
        if precheck.exists():
            uids = [f"{r.id}#{r.sub}" if r.sub else r.id for r in ruleset.rules]
            policy_issues += validate_precheck_policy(precheck, uids)
        problems = [*issues, *compile_issues, *policy_issues]
        for issue in problems:
            click.echo(str(issue), err=True)
        if problems:
            sys.exit(1)
        click.echo(
            f"{len(ruleset.rules)} rules in {len(ruleset.packs)} packs"
            + (" and the routing policy" if routing.exists() else "")
            + (" and the pre-check policy" if precheck.exists() else "")
            + ": no problem"
        )

    @rules.command("test")
    @click.option("--rules", "rules_dir", type=click.Path(exists=True, path_type=Path))
    @click.option("--rule", "only", help="Only this rule id.")
    @click.pass_context
    def rules_test(ctx: click.Context, rules_dir: Path | None, only: str | None) -> None:
        """Run every example; each must fire or stay quiet as declared."""
        from auditcage.engine.examples import run_example

        ruleset, compiled = _load(rules_dir or settings_of(ctx).rules_dir)
        failed = 0
        total = 0
        for rule in compiled:
            if only and rule.rule.id != only:
                continue
            for example in rule.rule.examples:
                total += 1
                result = run_example(rule, example, ruleset)
                if not result.passed:
                    failed += 1
                    click.echo(f"FAIL {example.label} ({example.source}): {result.problem}")
        click.echo(f"{total - failed} of {total} examples behave as declared")
        if failed:
            sys.exit(1)

    @rules.command("list")
    @click.option("--rules", "rules_dir", type=click.Path(exists=True, path_type=Path))
    @click.pass_context
    def rules_list(ctx: click.Context, rules_dir: Path | None) -> None:
        """Every rule: id, sub, pack, kind, status, severity, name."""
        ruleset, _ = _load(rules_dir or settings_of(ctx).rules_dir)
        for rule in sorted(ruleset.rules, key=lambda r: (r.id, r.sub or "")):
            click.echo(
                f"{rule.label:<10}{rule.pack:<12}{rule.kind.value:<10}{rule.status.value:<9}"
                f"{rule.severity.value:<8}{rule.name.zh}"
            )

    @rules.command("show")
    @click.argument("rule_id")
    @click.option("--rules", "rules_dir", type=click.Path(exists=True, path_type=Path))
    @click.pass_context
    def rules_show(ctx: click.Context, rule_id: str, rules_dir: Path | None) -> None:
        """One rule's file(s), as written."""
        ruleset, _ = _load(rules_dir or settings_of(ctx).rules_dir)
        found = [r for r in ruleset.rules if r.id == rule_id or r.label == rule_id]
        if not found:
            raise click.UsageError(f"no rule {rule_id}")
        for rule in found:
            click.echo(f"# {rule.source}")
            click.echo(Path(rule.source.path).read_text(encoding="utf-8"))

    @rules.command("publish")
    @click.option("--reason", required=True, help="Why (kept in the audit trail).")
    @click.option("--rules", "rules_dir", type=click.Path(exists=True, path_type=Path))
    @click.pass_context
    def rules_publish(ctx: click.Context, reason: str, rules_dir: Path | None) -> None:
        """Validate, run every example, store an immutable version and make it active.

        A running worker switches to it without a restart.
        """
        from auditcage.rulepacks import publish

        settings = settings_of(ctx)
        with sessions_of(settings).begin() as session:
            version = publish.publish(
                session, rules_dir or settings.rules_dir, actor=actor_of(), reason=reason
            )
            click.echo(
                f"published version {version.id} ({version.rules} rules, {version.digest[:12]})"
            )

    @rules.command("rollback")
    @click.option("--reason", required=True, help="Why (kept in the audit trail).")
    @click.pass_context
    def rules_rollback(ctx: click.Context, reason: str) -> None:
        """Make the version before the active one active again."""
        from auditcage.rulepacks import publish

        with sessions_of(settings_of(ctx)).begin() as session:
            version = publish.rollback(session, actor=actor_of(), reason=reason)
            click.echo(f"version {version.id} is active again")

    @rules.command("diff")
    @click.option(
        "--rules",
        "rules_dir",
        type=click.Path(exists=True, path_type=Path),
        help="The candidate rules (default: rules/).",
    )
    @click.option(
        "--against",
        "against",
        default="active",
        show_default=True,
        help="'active' (the published version), vN, or a rules directory.",
    )
    @click.pass_context
    def rules_diff(ctx: click.Context, rules_dir: Path | None, against: str) -> None:
        """Classify the changes from a published version (or directory) to the candidate."""
        from auditcage.rulepacks.diff import diff
        from auditcage.rulepacks.packs import load_ruleset

        settings = settings_of(ctx)
        candidate, _ = load_ruleset(rules_dir or settings.rules_dir)
        with _against_dir(ctx, against) as base_dir:
            base, _ = load_ruleset(base_dir)
        changes = diff(base, candidate)
        for change in changes:
            click.echo(str(change))
        if not changes:
            click.echo("no change")

    @rules.command("backtest")
    @click.argument("inputs", nargs=-1, type=click.Path(exists=True, path_type=Path))
    @click.option("--rules", "rules_dir", type=click.Path(exists=True, path_type=Path))
    @click.option(
        "--against", help="A second ruleset to compare with: 'active', vN or a directory."
    )
    @click.option(
        "--reference",
        "reference_dir",
        type=click.Path(exists=True, path_type=Path),
        help="Reference directory for FILES (stored history uses stored reference).",
    )
    @click.option("--since", help="Only records from this time (stored history).")
    @click.option("--until", help="Only records before this time (stored history).")
    @click.option("--as-of", "as_of", help="Sweep deadlines as of this time.")
    @click.option(
        "--parquet",
        "parquet_dir",
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        help="Records from an `export parquet` directory instead of FILES or stored history.",
    )
    @_engine_options
    @click.pass_context
    def rules_backtest(
        ctx: click.Context,
        inputs: tuple[Path, ...],
        rules_dir: Path | None,
        against: str | None,
        reference_dir: Path | None,
        since: str | None,
        until: str | None,
        as_of: str | None,
        parquet_dir: Path | None,
        engine: str,
        master: str | None,
        partitions: int,
    ) -> None:
        """Run the rules over stored history (or FILES): hits per rule, unit and month.

        With --against, also the hits each rule gains and loses between the two rulesets.
        """
        from auditcage.engine import backtest
        from auditcage.reference.service import build_index, index_from_directory

        settings = settings_of(ctx)
        candidate_dir = rules_dir or settings.rules_dir

        def records_and_reference():  # type: ignore[no-untyped-def]
            if parquet_dir is not None:
                from auditcage.cluster.export import read_parquet_records

                if reference_dir is not None:
                    return read_parquet_records(parquet_dir), index_from_directory(reference_dir)
                with sessions_of(settings).begin() as session:
                    return read_parquet_records(parquet_dir), build_index(session)
            if inputs:
                if reference_dir is None:
                    raise click.UsageError("--reference is required with record files")
                return backtest.from_files(list(inputs)), index_from_directory(reference_dir)
            with sessions_of(settings).begin() as session:
                found = list(
                    backtest.stored_records(session, since=_as_of(since), until=_as_of(until))
                )
                return found, build_index(session)

        def run(directory: Path):  # type: ignore[no-untyped-def]
            if engine == "spark":
                from auditcage.cluster.engine import backtest_on_spark

                return backtest_on_spark(
                    directory,
                    records,
                    ref,
                    as_of=_as_of(as_of),
                    master=master,
                    partitions=partitions,
                )
            return backtest.run(directory, records, ref, as_of=_as_of(as_of))

        if engine == "spark":
            from auditcage.cluster.spark import require_pyspark

            require_pyspark()
        records, ref = records_and_reference()
        result = run(candidate_dir)
        click.echo(f"{result.records} records, {len(result.hits)} hits")
        click.echo(result.per_rule().to_string(index=False))
        months = result.per_month()
        if not months.empty:
            click.echo("\nhits per rule and month:")
            click.echo(months.to_string())
        if against:
            with _against_dir(ctx, against) as base_dir:
                base = run(base_dir)
            click.echo("\ncompared with " + against + ":")
            click.echo(backtest.compare(base, result).to_string(index=False))

    @rules.command("coverage")
    @click.option("--rules", "rules_dir", type=click.Path(exists=True, path_type=Path))
    @click.pass_context
    def rules_coverage(ctx: click.Context, rules_dir: Path | None) -> None:
        """All 118 catalogue ids: pack, kind, status, severity, examples and whether they pass.

        Exits non-zero when an id has no active rule or an example fails.
        """
        from auditcage.engine.examples import run_example
        from auditcage.rulepacks.coverage import CATALOGUE_IDS, coverage

        ruleset, compiled = _load(rules_dir or settings_of(ctx).rules_dir)
        failing = {
            r.example.label
            for rule in compiled
            for e in rule.rule.examples
            if not (r := run_example(rule, e, ruleset)).passed
        }
        rows = coverage(ruleset, failing)
        click.echo(
            f"{'id':<8}{'pack':<12}{'kind':<22}{'status':<9}{'severity':<16}{'examples':>9}  result"
        )
        for row in rows:
            if not row.rules:
                click.echo(
                    f"{row.catalogue_id:<8}{'-':<12}{'-':<22}{'missing':<9}{'-':<16}{0:>9}  MISSING"
                )
                continue
            kinds = ",".join(dict.fromkeys(r.kind.value for r in row.rules))
            statuses = ",".join(dict.fromkeys(r.status.value for r in row.rules))
            severities = ",".join(dict.fromkeys(r.severity.value for r in row.rules))
            result = (
                "ok"
                if row.ok
                else ("FAIL " + " ".join(row.failing) if row.failing else "not active")
            )
            click.echo(
                f"{row.catalogue_id:<8}{row.rules[0].pack:<12}{kinds:<22}{statuses:<9}"
                f"{severities:<16}{row.examples:>9}  {result}"
            )
        covered = sum(1 for r in rows if r.ok)
        click.echo(f"{covered} of {len(CATALOGUE_IDS)} ids covered with every example passing")
        if covered != len(CATALOGUE_IDS):
            sys.exit(1)

    @rules.command("versions")
    @click.pass_context
    def rules_versions(ctx: click.Context) -> None:
        """Published versions, newest first."""
        from auditcage.rulepacks import publish

        with sessions_of(settings_of(ctx)).begin() as session:
            for v in publish.versions(session):
                mark = "*" if v.active else " "
                click.echo(
                    f"{mark} v{v.id:<4}{v.created_at:%Y-%m-%d %H:%M}  {v.actor:<16}"
                    f"{v.rules:>4} rules  {v.reason}"
                )
