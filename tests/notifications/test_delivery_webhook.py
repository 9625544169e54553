"""Delivery by webhook: apprise's json:// to a real HTTP server, through outages."""

from __future__ import annotations

import logging
from datetime import timedelta

import orjson
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from auditcage import clock
from auditcage.audit.models import AuditEntry
from notifications.delivery import deliver_due
from notifications.models import AttemptOutcome, OutboxStatus
from tests.notifications.builders import attempts, outbox, queue
from tests.notifications.receivers import HttpReceiver

pytestmark = pytest.mark.db


def _travel(delta: timedelta) -> None:
    clock.freeze(clock.now() + delta)


def _queue_several(engine: Engine, receiver: HttpReceiver, count: int) -> list[int]:
    return [
        queue(engine, [receiver.url()], dedupe_key=f"alert:{n}:push", body=f"预警 {n}")
        for n in range(count)
    ]


def test_json_message_reaches_the_http_server(
    committing_engine: Engine, http_receiver: HttpReceiver, frozen_clock: None
) -> None:
    outbox_id = queue(committing_engine, [http_receiver.url("/wecom/east")])

    report = deliver_due(committing_engine, worker_id="w1")

    assert report.sent == 1
    [(path, payload)] = http_receiver.posts
    assert path == "/wecom/east"
    assert payload["title"] == "【红色预警】VIO-03 城东大队"
    assert payload["message"] == "经办人 张** 于 15:00 办理违法处理，请于 30 分钟内签收。"
    message = outbox(committing_engine, outbox_id)
    assert (message.status, message.sent_at, message.attempts) == (
        OutboxStatus.SENT,
        clock.now(),
        1,
    )


def test_receiver_answering_500_is_retried_with_back_off_and_each_message_arrives_once(
    committing_engine: Engine, http_receiver: HttpReceiver, frozen_clock: None
) -> None:
    ids = _queue_several(committing_engine, http_receiver, 3)
    http_receiver.answer = 500
    start = clock.now()

    assert deliver_due(committing_engine, worker_id="w1").retrying == 3
    assert {outbox(committing_engine, i).next_attempt_at for i in ids} == {
        start + timedelta(minutes=1)
    }
    assert deliver_due(committing_engine, worker_id="w1").claimed == 0  # backing off

    _travel(timedelta(minutes=1))
    assert deliver_due(committing_engine, worker_id="w1").retrying == 3
    assert {outbox(committing_engine, i).next_attempt_at for i in ids} == {
        start + timedelta(minutes=3)  # 1 minute, then 2
    }

    http_receiver.answer = 200
    _travel(timedelta(minutes=2))
    assert deliver_due(committing_engine, worker_id="w1").sent == 3
    _travel(timedelta(hours=2))
    assert deliver_due(committing_engine, worker_id="w1").claimed == 0

    assert sorted(http_receiver.bodies) == ["预警 0", "预警 1", "预警 2"]
    outcomes = [a.outcome for a in attempts(committing_engine, ids[0])]
    assert outcomes == ["transient_error", "transient_error", "sent"]


def test_receiver_down_then_up_again_loses_and_duplicates_nothing(
    committing_engine: Engine, http_receiver: HttpReceiver, frozen_clock: None
) -> None:
    ids = _queue_several(committing_engine, http_receiver, 5)
    http_receiver.stop()

    for minutes in (1, 2, 4):  # three failed rounds, each after the back-off ran out
        report = deliver_due(committing_engine, worker_id="w1")
        assert (report.claimed, report.retrying) == (5, 5)
        _travel(timedelta(minutes=minutes))
    http_receiver.start()
    _travel(timedelta(minutes=8))
    assert deliver_due(committing_engine, worker_id="w1").sent == 5
    _travel(timedelta(days=1))
    assert deliver_due(committing_engine, worker_id="w1").claimed == 0

    assert sorted(http_receiver.bodies) == [f"预警 {n}" for n in range(5)]
    assert all(outbox(committing_engine, i).status == OutboxStatus.SENT for i in ids)
    assert [a.outcome for a in attempts(committing_engine)].count(AttemptOutcome.SENT) == 5


def test_attempts_audit_and_logs_hold_the_scheme_but_never_the_url_secret_or_the_body(
    committing_engine: Engine,
    http_receiver: HttpReceiver,
    frozen_clock: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    secret_url = f"json://bot:s3cret-token@127.0.0.1:{http_receiver.port}/hook"
    queue(committing_engine, ["wecom-bogus://s3cret-token@x", secret_url], body="身份证 BODY-MARK")
    http_receiver.answer = 500

    deliver_due(committing_engine, worker_id="w1")

    recorded = [(a.scheme, a.outcome) for a in attempts(committing_engine)]
    assert recorded == [("wecom-bogus", "permanent_error"), ("json", "transient_error")]
    with Session(committing_engine) as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        audited = orjson.dumps([(e.action, e.detail) for e in entries]).decode()
    assert [e.action for e in entries] == ["delivery.permanent_error", "delivery.transient_error"]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for leaked in ("s3cret", "BODY-MARK"):
        assert leaked not in audited
        assert leaked not in logged
        assert all(leaked not in (a.error or "") for a in attempts(committing_engine))
