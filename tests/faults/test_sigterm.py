"""SIGTERM (docker stop, systemd, Kubernetes) to a running `auditcage worker` or `notifier`: the
batch or message in hand is finished and committed, claimed messages not yet sent are handed
back to the queue, and the process exits 0. Python's default action would end it mid-work."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from auditcage.records.models import Record
from auditcage.storage.session import make_session_factory
from notifications import delivery
from notifications.models import DeliveryAttempt, OutboxMessage, OutboxStatus
from tests.faults.conftest import (
    cursor_seq,
    make_scenario,
    rules_with_packs,
    start,
    store_scenario,
    wait_for,
)
from tests.faults.receivers import KeyedReceiver

pytestmark = pytest.mark.db
MESSAGES = 12
BATCH = 5  # many small batches: the signal lands with most of the backlog still to do


def _terminate(process: subprocess.Popen[str]) -> tuple[str, str]:
    """SIGTERM, then wait for the process to end on its own; returns (stdout, stderr)."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
        pytest.fail(f"still running 60 s after SIGTERM:\n{err[-3000:]}")


def test_sigterm_to_the_notifier_finishes_the_message_in_flight_releases_the_rest_and_exits_0(
    committing_engine: Engine, database_url: str
) -> None:
    with KeyedReceiver(answer_after=0.5) as webhook:
        with make_session_factory(committing_engine).begin() as session:
            for n in range(MESSAGES):
                delivery.enqueue(
                    session,
                    recipient_id=f"P32010{n:02d}",
                    channels=[webhook.url()],
                    subject="【红色预警】",
                    body=f"message {n}",
                    kind="alert",
                    dedupe_key=f"alert:{n}:push",
                )
        notifier = start(database_url, "notifier", "--idle", "0.2")
        try:
            # The receiver holds its answer: the signal arrives while a send waits for it.
            wait_for(webhook.in_flight.is_set, timeout=60, what="a message in flight")
        finally:
            out, err = _terminate(notifier)
        received = webhook.keys()
    assert notifier.returncode == 0, err[-3000:]
    assert "SIGTERM received" in err and "notifier stopped" in out
    with Session(committing_engine) as session:
        rows = list(session.scalars(select(OutboxMessage)))
        attempts = list(session.scalars(select(DeliveryAttempt)))
    sent = {row.id for row in rows if row.status == OutboxStatus.SENT}
    # What reached the receiver is recorded as sent, once; nothing else was tried.
    assert sent and {delivery.idempotency_key(i) for i in sent} == set(received)
    assert max(received.values()) == 1 and len(attempts) == len(sent)
    unsent = [row for row in rows if row.id not in sent]
    assert unsent, "the signal came before the backlog was done"
    assert all(row.status == OutboxStatus.PENDING and row.claimed_by is None for row in unsent), (
        "a message left leased to the stopped notifier waits out the lease (10 minutes)"
    )


def test_sigterm_to_the_worker_finishes_the_batch_in_hand_and_exits_0(
    committing_engine: Engine, database_url: str, tmp_path: Path
) -> None:
    rules_dir = rules_with_packs(tmp_path, ["vehicle"])
    last = store_scenario(committing_engine, make_scenario(tmp_path / "scenario", 300))
    args = ("--batch-size", str(BATCH), "--as-of", "2026-11-01T00:00:00+08:00", "--idle", "0.2")
    worker = start(database_url, "worker", *args, env={"AUDITCAGE_RULES_DIR": str(rules_dir)})
    try:
        wait_for(lambda: cursor_seq(committing_engine) > 0, timeout=120, what="a first batch")
    finally:
        out, err = _terminate(worker)
    assert worker.returncode == 0, err[-3000:]
    assert "SIGTERM received" in err and "worker stopped" in out
    reached = cursor_seq(committing_engine)
    assert 0 < reached < last, "the signal came before the backlog was done"
    with Session(committing_engine) as session:
        evaluated = session.scalar(select(func.count(Record.seq)).where(Record.seq <= reached))
    assert evaluated and evaluated % BATCH == 0, "the cursor stands at the end of a whole batch"
