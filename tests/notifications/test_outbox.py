"""The outbox: idempotent enqueue, fallback between channels, safe claims, crash recovery."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from auditcage import clock
from auditcage.audit import trail
from auditcage.audit.models import AuditEntry
from notifications import delivery
from notifications.delivery import DEFAULT_POLICY, RetryPolicy, deliver_due
from notifications.models import OutboxMessage, OutboxStatus
from tests.notifications.builders import EAST_CHIEF, WEST_CHIEF, attempts, outbox, queue
from tests.notifications.receivers import HttpReceiver, SmtpReceiver, wait_until

pytestmark = pytest.mark.db
ROOT = Path(__file__).resolve().parents[2]


def _enqueue(session: Session, recipient_id: str, body: str = "预警") -> OutboxMessage:
    return delivery.enqueue(
        session,
        recipient_id=recipient_id,
        channels=["json://127.0.0.1:9/hook"],
        subject="预警",
        body=body,
        kind="alert",
        dedupe_key="alert:7:push",
        alert_id=7,
    )


def test_enqueuing_the_same_message_twice_for_one_recipient_keeps_one_row(
    session: Session,
) -> None:
    first = _enqueue(session, EAST_CHIEF)
    again = _enqueue(session, EAST_CHIEF, body="a second rendering")
    other = _enqueue(session, WEST_CHIEF)

    assert again.id == first.id and again.body == "预警"
    assert other.id != first.id
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 2


def test_enqueue_refuses_a_recipient_without_channels(session: Session) -> None:
    with pytest.raises(ValueError, match="no channel"):
        delivery.enqueue(
            session,
            recipient_id=EAST_CHIEF,
            channels=[],
            subject="s",
            body="b",
            kind="alert",
            dedupe_key="alert:7:push",
        )


def test_backoff_doubles_from_one_minute_up_to_the_cap() -> None:
    delays = [DEFAULT_POLICY.delay(n) for n in range(1, 9)]
    assert delays == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 60, 60)]


def test_unsupported_first_channel_falls_back_to_the_second_at_once(
    committing_engine: Engine, http_receiver: HttpReceiver, frozen_clock: None
) -> None:
    outbox_id = queue(committing_engine, ["sms-gateway://10086/P3201001", http_receiver.url()])

    report = deliver_due(committing_engine, worker_id="w1")

    assert (report.attempts, report.fell_back, report.sent) == (2, 1, 1)
    assert len(http_receiver.posts) == 1
    message = outbox(committing_engine, outbox_id)
    assert (message.status, message.channel_index) == (OutboxStatus.SENT, 1)
    outcomes = [(a.channel_index, a.outcome) for a in attempts(committing_engine)]
    assert outcomes == [(0, "permanent_error"), (1, "sent")]


def test_recipient_without_a_working_channel_ends_failed_with_every_attempt_recorded(
    committing_engine: Engine, frozen_clock: None
) -> None:
    outbox_id = queue(committing_engine, ["nosuchscheme://x", "mailto://", "not a url"])

    report = deliver_due(committing_engine, worker_id="w1")

    assert (report.attempts, report.failed) == (3, 1)
    message = outbox(committing_engine, outbox_id)
    assert (message.status, message.attempts, message.claimed_by) == (OutboxStatus.FAILED, 3, None)
    recorded = [(a.channel_index, a.scheme, a.outcome) for a in attempts(committing_engine)]
    assert recorded == [
        (0, "nosuchscheme", "permanent_error"),
        (1, "mailto", "permanent_error"),
        (2, "invalid", "permanent_error"),
    ]
    with Session(committing_engine) as session:
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert actions == ["delivery.permanent_error"] * 3
        assert trail.verify(session).ok
    assert deliver_due(committing_engine, worker_id="w1").claimed == 0


def test_channel_failing_n_times_is_given_up_for_the_next_one(
    committing_engine: Engine,
    http_receiver: HttpReceiver,
    smtp_receiver: SmtpReceiver,
    frozen_clock: None,
) -> None:
    policy = RetryPolicy(attempts_per_channel=3)
    channels = [http_receiver.url(), smtp_receiver.url("east.chief@jj.example")]
    outbox_id = queue(committing_engine, channels)
    http_receiver.answer = 503

    for minutes in (1, 2):
        assert deliver_due(committing_engine, worker_id="w1", policy=policy).retrying == 1
        clock.freeze(clock.now() + timedelta(minutes=minutes))
    report = deliver_due(committing_engine, worker_id="w1", policy=policy)

    assert (report.attempts, report.fell_back, report.sent) == (2, 1, 1)
    assert len(smtp_receiver.mails) == 1 and http_receiver.posts == []
    assert outbox(committing_engine, outbox_id).attempts == 4
    outcomes = [(a.scheme, a.outcome) for a in attempts(committing_engine)]
    assert outcomes == [("json", "transient_error")] * 3 + [("mailto", "sent")]


def test_two_workers_delivering_at_once_never_send_a_message_twice(
    committing_engine: Engine, http_receiver: HttpReceiver, frozen_clock: None
) -> None:
    count = 30
    for n in range(count):
        queue(committing_engine, [http_receiver.url()], dedupe_key=f"alert:{n}:push", body=f"{n}")
    start = threading.Barrier(2)
    reports: dict[str, list[delivery.DeliveryReport]] = {"east": [], "west": []}

    def work(worker_id: str) -> None:
        start.wait()
        while (report := deliver_due(committing_engine, worker_id=worker_id, limit=4)).claimed:
            reports[worker_id].append(report)

    workers = [threading.Thread(target=work, args=(name,)) for name in reports]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)

    assert sorted(http_receiver.bodies, key=int) == [str(n) for n in range(count)]
    assert sum(r.sent for rs in reports.values() for r in rs) == count
    assert len(attempts(committing_engine)) == count
    with Session(committing_engine) as session:
        assert trail.verify(session).entries == count


WORKER_KILLED_MID_BATCH = """
import sys, time
from auditcage.storage.session import make_engine
from notifications import delivery

sends = 0

def sender(url, title, body):
    global sends
    sends += 1
    if sends == 2:  # the second message of the batch is in flight when the worker is killed
        print("in flight", flush=True)
        time.sleep(60)
    delivery.send(url, title, body)

delivery.deliver_due(make_engine(sys.argv[1]), worker_id="doomed", sender=sender)
"""


def test_worker_killed_mid_batch_loses_nothing_once_its_lease_runs_out(
    committing_engine: Engine, database_url: str, http_receiver: HttpReceiver, frozen_clock: None
) -> None:
    ids = [
        queue(committing_engine, [http_receiver.url()], dedupe_key=f"alert:{n}:push", body=f"{n}")
        for n in range(5)
    ]
    clock.freeze(None)  # the doomed worker runs on the wall clock
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen(
        [sys.executable, "-c", WORKER_KILLED_MID_BATCH, database_url],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    ) as doomed:
        try:
            assert doomed.stdout is not None and doomed.stdout.readline() == "in flight\n"
        finally:
            doomed.kill()  # SIGKILL: no cleanup, no rollback of what it already committed
    killed_at = clock.now()

    statuses = [outbox(committing_engine, i).status for i in ids]
    assert statuses == [OutboxStatus.SENT] + [OutboxStatus.SENDING] * 4
    assert http_receiver.bodies == ["0"]
    assert deliver_due(committing_engine, worker_id="rescuer").claimed == 0  # leases still held

    clock.freeze(killed_at + DEFAULT_POLICY.lease + timedelta(seconds=1))
    report = deliver_due(committing_engine, worker_id="rescuer")

    assert (report.claimed, report.sent) == (4, 4)
    assert wait_until(lambda: len(http_receiver.bodies) == 5)
    assert sorted(http_receiver.bodies) == ["0", "1", "2", "3", "4"]
    assert [a.worker_id for a in attempts(committing_engine)] == ["doomed"] + ["rescuer"] * 4


def test_a_row_whose_lease_ran_out_mid_batch_is_left_for_the_next_claim(
    committing_engine: Engine, http_receiver: HttpReceiver, frozen_clock: None
) -> None:
    ids = [
        queue(committing_engine, [http_receiver.url()], dedupe_key=f"alert:{n}:push", body=f"{n}")
        for n in range(2)
    ]
    policy = RetryPolicy(lease=timedelta(minutes=1))

    def slow_sender(url: str, title: str, body: str) -> None:
        delivery.send(url, title, body)
        clock.freeze(clock.now() + timedelta(minutes=2))  # this send took longer than the lease

    report = deliver_due(committing_engine, worker_id="slow", policy=policy, sender=slow_sender)

    assert (report.claimed, report.sent) == (2, 1)
    assert outbox(committing_engine, ids[1]).status == OutboxStatus.SENDING
    assert deliver_due(committing_engine, worker_id="next", policy=policy).sent == 1
    assert sorted(http_receiver.bodies) == ["0", "1"]
