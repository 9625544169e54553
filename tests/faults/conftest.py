"""Fault tests: real `auditcage` processes killed with SIGKILL, receivers that hang, a database
that goes away. Every wait has a timeout, so a broken test fails instead of hanging."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from auditcage.alerts.models import Alert, Hit
from auditcage.config import DEFAULT_RULES_DIR
from auditcage.engine.models import WorkerCursor
from auditcage.engine.runner import CURSOR

# The real receivers of the delivery tests, started and stopped around each test.
from tests.notifications.conftest import http_receiver, smtp_receiver  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]


def start(url: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """`auditcage --database-url URL ARGS…` in its own process, output captured."""
    return subprocess.Popen(
        [sys.executable, "-m", "auditcage", "--database-url", url, *args],
        # The notifier, like the API, refuses to start without a secret key.
        env={
            "AUDITCAGE_SECRET_KEY": "fault-test-secret",
            **os.environ,
            "PYTHONPATH": str(ROOT),
            **(env or {}),
        },
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run(
    url: str, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`auditcage … ARGS` to completion; fails the test on a non-zero exit or a timeout."""
    process = start(url, *args, env=env)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"auditcage {' '.join(args)} did not finish in {timeout} s:\n{err[-3000:]}")
    assert process.returncode == 0, f"auditcage {' '.join(args)} failed:\n{err[-3000:]}"
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def kill9(process: subprocess.Popen[str]) -> str:
    """SIGKILL: no handler runs, nothing is rolled back but the open transaction. Returns stderr."""
    process.send_signal(signal.SIGKILL)
    _, err = process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL
    return err


def stop(process: subprocess.Popen[str]) -> str:
    """End a process this test started (SIGTERM, then SIGKILL); returns its stderr."""
    if process.poll() is None:
        process.terminate()
    try:
        _, err = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate(timeout=20)
    return err


def wait_for(
    condition: Callable[[], bool], *, timeout: float, what: str, every: float = 0.05
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


def rules_with_packs(root: Path, packs: Iterable[str]) -> Path:
    """The shipped rules directory (lists, reference tables, routing) with only these packs:
    fault tests need real rules, not all of them, to stay within CI's time."""
    left_out = {p.parent.name for p in DEFAULT_RULES_DIR.glob("*/pack.yaml")} - set(packs)
    directory = root / "rules"
    shutil.copytree(
        DEFAULT_RULES_DIR,
        directory,
        ignore=lambda folder, names: (
            left_out.intersection(names) if Path(folder) == DEFAULT_RULES_DIR else set()
        ),
    )
    return directory


def make_scenario(root: Path, records_target: int) -> tuple[Path, Path]:
    """(reference directory, records file) of a small demo province: August to October 2026."""
    from auditcage.demo import generate, write_scenario

    province = generate(seed=3, start=date(2026, 8, 1), months=3, records_target=records_target)
    return write_scenario(province, root)


def store_scenario(engine: Engine, scenario: tuple[Path, Path]) -> int:
    """Load the reference data and store every record; returns the last record's seq."""
    from auditcage.records.intake import accept_batch
    from auditcage.records.models import Record
    from auditcage.records.readers import read_records
    from auditcage.reference import service
    from auditcage.storage.session import make_session_factory

    reference, records = scenario
    with make_session_factory(engine).begin() as session:
        service.load_directory(session, reference, actor="test")
        accept_batch(session, read_records(records), source="test")
        return session.scalar(select(func.max(Record.seq))) or 0


def cursor_seq(engine: Engine) -> int:
    with Session(engine) as session:
        cursor = session.get(WorkerCursor, CURSOR)
        return cursor.seq if cursor else 0


def outcome(engine: Engine) -> tuple[set[tuple[object, ...]], set[tuple[object, ...]]]:
    """Every hit with what it says, and every alert with the hits filed into it (not its status
    or severity: the restarted worker's notification pass routes alerts, the baseline does not)."""
    with Session(engine) as session:
        hits = {
            (h.id, h.rule_id, h.key, h.severity, tuple(h.serials), h.message, h.superseded)
            for h in session.scalars(select(Hit))
        }
        grouped: dict[int, list[str]] = {}
        for hit_id, alert_id in session.execute(select(Hit.id, Hit.alert_id)):
            grouped.setdefault(alert_id, []).append(hit_id)
        alerts = {
            (a.group_key, tuple(a.rule_ids), tuple(sorted(grouped.get(a.id, []))))
            for a in session.scalars(select(Alert))
        }
    return hits, alerts


def uninterrupted(
    scenario: tuple[Path, Path], rules_dir: Path, database: Path, *, batch: int, as_of: str
) -> tuple[set[tuple[object, ...]], set[tuple[object, ...]]]:
    """`outcome` of one worker evaluating the scenario without a fault, on a SQLite file.
    In-process and I/O-light: a test runs it in a thread beside the processes it disturbs."""
    from auditcage import clock
    from auditcage.engine.runner import RecordWorker
    from auditcage.storage.schema import upgrade
    from auditcage.storage.session import make_engine, make_session_factory

    engine = make_engine(f"sqlite:///{database}")
    try:
        upgrade(engine)
        store_scenario(engine, scenario)
        worker = RecordWorker(make_session_factory(engine), rules_dir=rules_dir, batch_size=batch)
        worker.run_once(as_of=datetime.fromisoformat(as_of).astimezone(clock.SHANGHAI))
        return outcome(engine)
    finally:
        engine.dispose()
