"""Hits (one firing of one rule, catalogue §7.3) and the alerts they are grouped into."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from auditcage.storage.base import Base, CreatedAtMixin, JSONType, TZDateTime


class AlertStatus(StrEnum):
    NEW = "new"
    PUSHED = "pushed"
    ACKNOWLEDGED = "acknowledged"
    INITIAL_FEEDBACK = "initial_feedback"
    FEEDBACK_SUBMITTED = "feedback_submitted"
    RETURNED = "returned"
    REVIEWED = "reviewed"
    CLOSED = "closed"
    DISMISSED = "dismissed"


class Hit(CreatedAtMixin, Base):
    """One firing. `id` is a pure function of the input (rule, version-independent key, anchor),
    so any path that evaluates the same records — worker, replay, a retried batch — writes it once.
    """

    __tablename__ = "hit"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(16), index=True)
    sub: Mapped[str | None] = mapped_column(String(4))
    severity: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(8))  # §0.3 letters
    aspect: Mapped[str | None] = mapped_column(String(10))
    key: Mapped[str] = mapped_column(String(400))
    serials: Mapped[list[str]] = mapped_column(JSONType)
    record_ids: Mapped[list[str]] = mapped_column(JSONType)
    unit_code: Mapped[str] = mapped_column(String(32), index=True)
    at: Mapped[datetime] = mapped_column(TZDateTime(), index=True)
    message: Mapped[str] = mapped_column(Text)
    upgrade: Mapped[bool] = mapped_column(default=False)
    late_data: Mapped[bool] = mapped_column(default=False)
    shadow: Mapped[bool] = mapped_column(default=False)  # rule in `testing`: recorded, not pushed
    # A record that arrived out of event-time order showed this firing would not have happened
    # in order (a sorted replay does not produce it). Kept, never deleted; excluded from counts.
    superseded: Mapped[bool] = mapped_column(default=False)
    rule_version: Mapped[str] = mapped_column(String(64))  # the ruleset digest that produced it
    anchor_record_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alert.id"), index=True)

    __table_args__ = (Index("ix_hit_rule_key", "rule_id", "sub", "key"),)


class Alert(CreatedAtMixin, Base):
    """Hits of one (rule, sub, key) within a cooldown, or of one checkpoint aspect on one item
    (§0.5 item 6). Its lifecycle is the acknowledgement loop's (notifications/)."""

    __tablename__ = "alert"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_key: Mapped[str] = mapped_column(String(500), index=True)
    rule_ids: Mapped[list[str]] = mapped_column(
        JSONType
    )  # several when anomaly and checkpoint merge
    severity: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(24), default=AlertStatus.NEW, index=True)
    unit_code: Mapped[str] = mapped_column(String(32), index=True)
    serial_no: Mapped[str | None] = mapped_column(String(40), index=True)
    first_at: Mapped[datetime] = mapped_column(TZDateTime())
    last_at: Mapped[datetime] = mapped_column(TZDateTime())
    open_until: Mapped[datetime | None] = mapped_column(TZDateTime())  # end of the cooldown
    shadow: Mapped[bool] = mapped_column(default=False)
    late_data: Mapped[bool] = mapped_column(default=False)
    status_changed_at: Mapped[datetime | None] = mapped_column(TZDateTime())
