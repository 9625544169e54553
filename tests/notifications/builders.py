"""Outbox builders: queue a message the way routing will, with explicit defaults."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from auditcage.storage.session import make_session_factory
from notifications import delivery
from notifications.models import DeliveryAttempt, OutboxMessage

# Staff ids of the named people (STYLE §11): the east brigade chief receives 城东's alerts.
EAST_CHIEF = "P3201001"
WEST_CHIEF = "P3202001"


def queue(
    engine: Engine, channels: Sequence[str], *, recipient_id: str = EAST_CHIEF, **overrides: Any
) -> int:
    """Enqueue and commit one message; returns its outbox id."""
    values: dict[str, Any] = {
        "subject": "【红色预警】VIO-03 城东大队",
        "body": "经办人 张** 于 15:00 办理违法处理，请于 30 分钟内签收。",
        "kind": "alert",
        "dedupe_key": f"alert:1:push:{len(channels)}",
        "alert_id": 1,
        **overrides,
    }
    with make_session_factory(engine).begin() as session:
        message = delivery.enqueue(session, recipient_id=recipient_id, channels=channels, **values)
        return message.id


def outbox(engine: Engine, outbox_id: int) -> OutboxMessage:
    with Session(engine) as session:
        message = session.get(OutboxMessage, outbox_id)
        assert message is not None
        session.expunge(message)
        return message


def attempts(engine: Engine, outbox_id: int | None = None) -> list[DeliveryAttempt]:
    query = select(DeliveryAttempt).order_by(DeliveryAttempt.id)
    if outbox_id is not None:
        query = query.where(DeliveryAttempt.outbox_id == outbox_id)
    with Session(engine) as session:
        return list(session.scalars(query))
