"""What routing decided for each alert, kept so that §4.2's counts can be taken from history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from auditcage.storage.base import Base, JSONType, TZDateTime


class AlertRouting(Base):
    """One row per routed alert: the facts routing used and what it decided.

    `operator_id` and `brigade_code` are columns because the escalation modifiers count alerts by
    them (repeat offender, repeat red, unit hot-spot); `identities` are the values a 买分卖分
    cluster may overlap on (licence, plate, agent, phone, IP, operator).
    """

    __tablename__ = "alert_routing"

    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id"), primary_key=True)
    routed_at: Mapped[datetime] = mapped_column(TZDateTime())
    at: Mapped[datetime] = mapped_column(TZDateTime(), index=True)  # the alert's event time
    rule_severity: Mapped[str] = mapped_column(String(8))
    severity: Mapped[str] = mapped_column(String(8), index=True)  # after the modifiers
    operator_id: Mapped[str | None] = mapped_column(String(64), index=True)
    brigade_code: Mapped[str | None] = mapped_column(String(32), index=True)
    identities: Mapped[list[str]] = mapped_column(JSONType, default=list)
    push: Mapped[str] = mapped_column(String(80))  # instant | at:<iso> | digest:<name> | none
    lead_alert_id: Mapped[int | None] = mapped_column(index=True)  # the lead it belongs to
    decision: Mapped[dict[str, Any]] = mapped_column(JSONType)
