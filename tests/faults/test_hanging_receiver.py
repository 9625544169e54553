"""A receiver that accepts the connection and never answers: the send times out (apprise's
default read timeout), is retried after the back-off, then falls back to the next channel; the
messages for other receivers, claimed in the same pass, arrive at once rather than after it."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import Engine

from auditcage import clock
from notifications import delivery
from notifications.delivery import RetryPolicy, deliver_due
from notifications.models import AttemptOutcome, OutboxStatus
from tests.faults.conftest import wait_for
from tests.faults.receivers import HangingEndpoint, KeyedReceiver
from tests.notifications.builders import attempts, outbox, queue
from tests.notifications.receivers import SmtpReceiver

pytestmark = pytest.mark.db
POLICY = RetryPolicy(attempts_per_channel=2)  # two timeouts, then the fallback channel
SEND_TIMEOUT = 4.0  # apprise's default socket read timeout (no `rto` in the URL)


def test_a_hanging_receiver_times_out_backs_off_falls_back_and_delays_no_one_else(
    committing_engine: Engine, smtp_receiver: SmtpReceiver, frozen_clock: None
) -> None:
    with HangingEndpoint() as hanging, KeyedReceiver() as webhook:
        stuck = queue(
            committing_engine,
            [hanging.url(), smtp_receiver.url("chief@unit.test")],
            dedupe_key="alert:1:push",
        )
        others = [
            queue(committing_engine, [webhook.url()], dedupe_key=f"alert:{n}:push")
            for n in range(2, 6)
        ]
        mailed = queue(
            committing_engine, [smtp_receiver.url("west@unit.test")], dedupe_key="alert:6:push"
        )

        started = time.monotonic()
        first = deliver_due(committing_engine, worker_id="east", policy=POLICY)
        took = time.monotonic() - started
        # The hanging send was cut off by its timeout, not left to block the worker.
        assert SEND_TIMEOUT - 0.5 < took < SEND_TIMEOUT * 3
        assert hanging.connections
        assert (first.claimed, first.sent, first.retrying) == (6, 5, 1)
        arrivals = [at - started for _, _, at in webhook.messages]
        assert len(arrivals) == 4 and max(arrivals) < 1.5, arrivals
        wait_for(lambda: len(smtp_receiver.mails) == 1, timeout=5, what="the other mail")
        assert {outbox(committing_engine, i).status for i in [*others, mailed]} == {
            OutboxStatus.SENT
        }

        row = outbox(committing_engine, stuck)
        assert row.status == OutboxStatus.PENDING and row.channel_index == 0
        assert row.next_attempt_at == clock.now() + POLICY.delay(1)  # back-off: one minute
        assert deliver_due(committing_engine, worker_id="east", policy=POLICY).claimed == 0

        clock.freeze(clock.now() + POLICY.delay(1))
        second = deliver_due(committing_engine, worker_id="east", policy=POLICY)
        assert (second.claimed, second.fell_back, second.sent) == (1, 1, 1)

    wait_for(lambda: len(smtp_receiver.mails) == 2, timeout=5, what="the fallback mail")
    fallback = smtp_receiver.mails[-1]
    assert fallback.rcpt_tos == ["chief@unit.test"]
    assert fallback.message["Idempotency-Key"] == delivery.idempotency_key(stuck)
    outcomes = [(a.scheme, a.outcome) for a in attempts(committing_engine, stuck)]
    assert outcomes == [
        ("json", AttemptOutcome.TRANSIENT_ERROR),
        ("json", AttemptOutcome.TRANSIENT_ERROR),
        ("mailto", AttemptOutcome.SENT),
    ]
    assert outbox(committing_engine, stuck).status == OutboxStatus.SENT
