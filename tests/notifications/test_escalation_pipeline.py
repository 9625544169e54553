"""Missed deadlines become messages: the sweeper's rungs turned into outbox rows for people."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from auditcage import clock
from auditcage.config import Settings
from auditcage.reference.service import build_index
from notifications import escalation, pipeline
from notifications.models import OutboxMessage
from notifications.policy import load_policy
from tests.notifications import province as p
from tests.notifications.scenario import NOW, store_and_route

pytestmark = pytest.mark.db


def _escalate(engine: Engine, settings: Settings, at) -> int:  # type: ignore[no-untyped-def]
    clock.freeze(at)
    with Session(engine) as session, session.begin():
        notifier = pipeline.Notifier(
            ref=build_index(session), policy=load_policy(), settings=settings
        )
        return escalation.escalate(session, notifier, now=at)


def _queued(engine: Engine, kind: str) -> set[str]:
    with Session(engine) as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)).all()
        return {row.recipient_id for row in rows}


def test_an_unacknowledged_red_is_re_pushed_at_30_min_and_escalated_at_2_h(
    committing_engine: Engine,
) -> None:
    settings = Settings(database_url="sqlite://", secret_key="s")
    clock.freeze(NOW)
    try:
        store_and_route(committing_engine, settings)
        pushed = _queued(committing_engine, "alert")
        assert _escalate(committing_engine, settings, NOW + timedelta(minutes=29)) == 0
        assert _escalate(committing_engine, settings, NOW + timedelta(minutes=30)) == 1
        assert _queued(committing_engine, "escalation") == pushed  # the same people again
        assert _escalate(committing_engine, settings, NOW + timedelta(minutes=31)) == 0
        assert _escalate(committing_engine, settings, NOW + timedelta(hours=2)) == 1
        escalated = _queued(committing_engine, "escalation") - pushed
        # 总队 leadership in charge and 总队督察 (§4.4 red, 2 h)
        assert {p.PROVINCE_CHIEF, p.PROVINCE_DEPUTY} <= escalated
        assert p.PROVINCE_INSPECTOR in pushed | escalated
        assert p.OPERATOR not in escalated
    finally:
        clock.freeze(None)
