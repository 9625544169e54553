"""`auditcage demo`: a synthetic province generated, loaded and served on localhost."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from auditcage import clock
from auditcage.config import DEV_SECRET_KEY, Settings
from auditcage.demo.accounts import DemoAccount


def first_month(months: int, *, today: date | None = None) -> date:
    """The first day of the earliest of `months` closed calendar months before today."""
    today = today or clock.today()
    year, month = today.year, today.month - months
    while month < 1:
        month += 12
        year -= 1
    return date(year, month, 1)


@dataclass
class DemoDatabase:
    settings: Settings
    sessions: Any  # sessionmaker
    accounts: list[DemoAccount]
    province: Any  # auditcage.demo.province.Province


def run_demo(
    settings: Settings,
    *,
    records_target: int,
    months: int,
    seed: int,
    out_dir: Path,
    serve: bool,
    echo: Callable[[str], None] = print,
) -> None:
    import os

    if "AUDITCAGE_DATABASE_URL" not in os.environ:
        settings = replace(settings, database_url="sqlite:///auditcage-demo.db")
    demo = prepare_demo(
        settings,
        records_target=records_target,
        months=months,
        seed=seed,
        out_dir=out_dir,
        echo=echo,
    )
    if serve:
        serve_demo(demo, echo=echo)


def prepare_demo(
    settings: Settings,
    *,
    records_target: int,
    months: int,
    seed: int,
    out_dir: Path,
    echo: Callable[[str], None] = print,
    password: str | None = None,
) -> DemoDatabase:
    """Generate, load, ingest, evaluate and route the sample province; create demo accounts."""
    from auditcage.demo import generate, write_scenario
    from auditcage.records.intake import IntakeReport, accept_batch
    from auditcage.records.readers import read_records
    from auditcage.reference import service
    from auditcage.reference.cache import ReferenceCache
    from auditcage.storage.schema import upgrade
    from auditcage.storage.session import make_engine, make_session_factory

    if not settings.source_keys:
        settings = replace(settings, source_keys=_demo_keys())
    if not settings.admin_token:
        settings = replace(settings, admin_token="demo-admin-token")
    # The demo is the one place the development secret key is allowed (Settings.check_secrets).
    settings = replace(settings, demo_data=True, secret_key=settings.secret_key or DEV_SECRET_KEY)

    started = time.perf_counter()
    # include_invalid: a few broken records, so the quarantine has something to show.
    province = generate(
        seed=seed,
        start=first_month(months),
        months=months,
        records_target=records_target,
        include_invalid=True,
    )
    reference_dir, records_path = write_scenario(province, out_dir)
    echo(f"generated the sample province in {out_dir}/ ({time.perf_counter() - started:.1f}s)")

    engine = make_engine(settings.database_url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        loads = service.load_directory(session, reference_dir, actor="demo")
    echo(f"loaded {len(loads)} reference datasets ({sum(load.rows for load in loads)} rows)")

    cache = ReferenceCache()
    report = IntakeReport()
    items = read_records(records_path)
    while True:
        batch = [item for _, item in zip(range(2000), items, strict=False)]
        if not batch:
            break
        with sessions.begin() as session:
            part = accept_batch(
                session,
                batch,
                source=str(records_path),
                notices=cache.notice_source(session),
                keep_outcomes=False,
            )
        report.merge(part)
    echo(
        f"ingested {report.read} records: {report.accepted} accepted "
        f"({report.accepted_with_warnings} with warnings), {report.duplicates} duplicates, "
        f"{report.quarantined} quarantined"
    )
    from auditcage.engine.runner import RecordWorker

    worker = RecordWorker(sessions, rules_dir=settings.rules_dir)
    evaluated = worker.run_once()
    ranked = sorted(evaluated.by_rule.items(), key=lambda item: (-item[1], item[0]))
    echo(
        f"evaluated {evaluated.records} records with the rule packs: {evaluated.hits} hits "
        f"({', '.join(f'{rule} {n}' for rule, n in ranked[:12])}{' …' if len(ranked) > 12 else ''})"
    )
    planted = {c.catalogue_id for c in province.planted if c.fires} - {"QUARANTINE"}
    echo(f"planted cases of {len(planted)} catalogue ids (see {out_dir}/planted.jsonl)")
    from notifications.worker import NotificationWorker

    # Demo addresses (example.test) cannot receive: messages are queued, not sent; point R2
    # `notify` at real receivers and run `auditcage notifier` to deliver them.
    notified = NotificationWorker(sessions, settings).run_once(deliver=False)
    echo(
        f"acknowledgement loop: {notified.routed} alerts routed and queued for their chiefs, "
        f"{notified.escalations} escalation steps, {notified.digests} digests"
    )
    from auditcage.demo.accounts import ensure_demo_accounts

    with sessions.begin() as session:
        accounts = ensure_demo_accounts(session, service.build_index(session), password=password)
    echo(f"console accounts (sign in at http://{settings.host}:{settings.port}/console/):")
    for a in accounts:
        echo(
            f"  {a.role:<16}{a.username:<13}{a.password:<15}"
            f"{a.staff_id or '':<10}{a.unit_code or ''}"
        )
    from api.auth import issue_staff_token

    echo("staff tokens for the alerts API (Authorization: Bearer <token>):")
    for a in accounts:
        if a.staff_id:
            echo(f"  {a.username:<13}{issue_staff_token(settings.secret_key, a.staff_id)}")
    echo(f"database: {_without_password(settings.database_url)}")
    echo("source-system keys (Authorization: Bearer <key>):")
    for key, source in settings.source_key_map().items():
        echo(f"  {source:<16}{key}")
    echo(f"administrator token: {settings.admin_token}")
    return DemoDatabase(settings, sessions, accounts, province)


def serve_demo(demo: DemoDatabase, *, echo: Callable[[str], None] = print) -> None:
    import threading

    from api import create_app
    from auditcage.engine.runner import RecordWorker
    from notifications.worker import NotificationWorker

    settings = demo.settings
    worker = RecordWorker(demo.sessions, rules_dir=settings.rules_dir)
    notifications = NotificationWorker(demo.sessions, settings)

    def keep_evaluating() -> None:  # records posted to the API get evaluated too
        while True:
            time.sleep(5)
            worker.run_once()
            notifications.run_once(deliver=False)

    threading.Thread(target=keep_evaluating, name="record-worker", daemon=True).start()
    echo(f"serving on http://{settings.host}:{settings.port}/console/  (Ctrl-C stops)")
    create_app(settings).run(host=settings.host, port=settings.port, threaded=True)


def _without_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _demo_keys() -> str:
    """One intake key per known source system (demo values, printed on the terminal)."""
    from auditcage.records.enums import KNOWN_SOURCE_SYSTEMS

    # 32 characters at least, as every source-system key (auditcage.config)
    return ",".join(
        f"{s}=demo-{s.replace('_', '-')}-intake-key-for-the-demo-only"
        for s in sorted(KNOWN_SOURCE_SYSTEMS)
    )
