"""The commit of a claim goes through but its reply is lost (the connection drops): the claimed
work is done once, neither lost nor done twice.

- The record worker's claim of a batch is its cursor, advanced in the batch's own transaction:
  the next pass starts after the batch and rebuilds its state from the database.
- The outbox worker's claim is a committed lease: the rows stay leased, so no other worker sends
  them until the lease runs out; then they are claimed again and sent once. The notifier that
  lost the reply takes them back at its next delivery instead of a lease (10 min) later.

In-process, so the reply is lost exactly there (tests/faults/lost_reply.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from auditcage import clock
from auditcage.alerts.models import Hit
from auditcage.config import Settings
from auditcage.engine import runner
from auditcage.engine.runner import RecordWorker
from auditcage.records.models import Record
from auditcage.storage.session import make_session_factory
from notifications import delivery
from notifications.delivery import DEFAULT_POLICY, deliver_due
from notifications.models import OutboxStatus
from notifications.worker import NotificationWorker
from tests.faults.conftest import (
    cursor_seq,
    make_scenario,
    outcome,
    rules_with_packs,
    store_scenario,
    uninterrupted,
)
from tests.faults.lost_reply import LOST, commit_reply_lost
from tests.notifications.builders import attempts, outbox, queue
from tests.notifications.receivers import HttpReceiver, wait_until

pytestmark = pytest.mark.db
AS_OF = "2026-11-01T00:00:00+08:00"
BATCH = 50


def test_a_batch_whose_commit_reply_is_lost_is_evaluated_once_not_again(
    committing_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules_dir = rules_with_packs(tmp_path, ["vehicle"])
    scenario = make_scenario(tmp_path / "scenario", records_target=300)
    store_scenario(committing_engine, scenario)
    with Session(committing_engine) as session:
        stored = session.scalar(select(func.count()).select_from(Record)) or 0
    as_of = clock.to_shanghai(datetime.fromisoformat(AS_OF))
    batches: list[int] = []
    real = runner.store_hits

    def store_hits(*args: Any, **kwargs: Any) -> Any:
        batches.append(len(args[1]))
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "store_hits", store_hits)
    worker = RecordWorker(
        make_session_factory(committing_engine), rules_dir=rules_dir, batch_size=BATCH
    )
    with commit_reply_lost(committing_engine, when=lambda: len(batches) == 4) as lost:
        failed = worker.run_once(as_of=as_of)
    assert lost == [1] and failed.unavailable == LOST
    assert cursor_seq(committing_engine) > 0
    with Session(committing_engine) as session:  # the fourth batch is in: its cursor and hits
        behind = session.scalar(
            select(func.count())
            .select_from(Record)
            .where(Record.seq > cursor_seq(committing_engine))
        )
    assert behind == stored - 4 * BATCH
    assert worker.evaluator is None, "the state is rebuilt from what the database holds"

    again = worker.run_once(as_of=as_of)
    assert not again.unavailable
    assert again.records == stored - 4 * BATCH, "the fourth batch is not evaluated again"
    assert failed.records + again.records == stored
    with Session(committing_engine) as session:
        ids = session.scalars(select(Hit.id)).all()
    assert len(ids) == len(set(ids))
    expected = uninterrupted(
        scenario, rules_dir, tmp_path / "baseline.db", batch=BATCH, as_of=AS_OF
    )
    assert outcome(committing_engine) == expected


@pytest.fixture
def claim_commit(monkeypatch: pytest.MonkeyPatch) -> Callable[[], bool]:
    """True for the commit of the first transaction that leased outbox rows, and only that one."""
    leased: list[bool] = []
    real = delivery._lease

    def lease(*args: Any, **kwargs: Any) -> bool:
        taken = real(*args, **kwargs)
        if taken and not leased:
            leased.append(True)
        return taken

    monkeypatch.setattr(delivery, "_lease", lease)

    def when() -> bool:
        if leased == [True]:
            leased.append(False)  # once
            return True
        return False

    return when


def _queue_three(engine: Engine, receiver: HttpReceiver) -> list[int]:
    return [
        queue(engine, [receiver.url()], dedupe_key=f"alert:{n}:push", body=f"{n}") for n in range(3)
    ]


def test_an_outbox_claim_whose_commit_reply_is_lost_is_sent_once_after_its_lease(
    committing_engine: Engine,
    http_receiver: HttpReceiver,
    frozen_clock: None,
    claim_commit: Callable[[], bool],
) -> None:
    ids = _queue_three(committing_engine, http_receiver)
    claims: list[int] = []
    with (
        commit_reply_lost(committing_engine, when=claim_commit) as lost,
        pytest.raises(OperationalError, match=LOST),
    ):
        deliver_due(committing_engine, worker_id="w1")
    claims.extend(lost)
    assert claims == [1]
    assert [outbox(committing_engine, i).status for i in ids] == [OutboxStatus.SENDING] * 3
    assert http_receiver.bodies == [] and attempts(committing_engine) == []

    # The lease holds: the same worker and any other pass the rows over, nothing goes out twice.
    assert deliver_due(committing_engine, worker_id="w1").claimed == 0
    assert deliver_due(committing_engine, worker_id="w2").claimed == 0

    clock.freeze(clock.now() + DEFAULT_POLICY.lease + timedelta(seconds=1))
    report = deliver_due(committing_engine, worker_id="w2")
    assert (report.claimed, report.sent) == (3, 3)
    assert wait_until(lambda: len(http_receiver.bodies) == 3)
    assert sorted(http_receiver.bodies) == ["0", "1", "2"]
    assert deliver_due(committing_engine, worker_id="w2").claimed == 0
    assert len(attempts(committing_engine)) == 3


def test_the_notifier_takes_back_its_own_leases_after_a_lost_claim_reply_not_a_lease_later(
    committing_engine: Engine,
    http_receiver: HttpReceiver,
    frozen_clock: None,
    claim_commit: Callable[[], bool],
) -> None:
    ids = _queue_three(committing_engine, http_receiver)
    worker = NotificationWorker(
        make_session_factory(committing_engine), Settings(), worker_id="notifier-1"
    )
    with commit_reply_lost(committing_engine, when=claim_commit) as lost:
        assert worker.deliver_only().claimed == 0  # the pass ends with a warning
    assert lost == [1]
    assert [outbox(committing_engine, i).status for i in ids] == [OutboxStatus.SENDING] * 3
    # Another worker still respects the lease this one may or may not know it holds.
    assert deliver_due(committing_engine, worker_id="other").claimed == 0

    report = worker.deliver_only()  # the next loop, seconds later, not a lease later
    assert (report.claimed, report.sent) == (3, 3)
    assert wait_until(lambda: len(http_receiver.bodies) == 3)
    assert sorted(http_receiver.bodies) == ["0", "1", "2"]
    assert worker.deliver_only().claimed == 0
    assert [a.worker_id for a in attempts(committing_engine)] == ["notifier-1"] * 3
