"""Every pre-check answered, kept (the record itself is not: it may never be committed)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from auditcage.storage.base import Base, JSONType, TZDateTime


class PrecheckLog(Base):
    __tablename__ = "precheck_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(TZDateTime(), index=True)
    source_system: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[str | None] = mapped_column(String(64), index=True)
    serial_no: Mapped[str | None] = mapped_column(String(40))
    unit_code: Mapped[str | None] = mapped_column(String(32))
    decision: Mapped[str] = mapped_column(String(8))  # allow | review | block | invalid
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)  # rule_id, sub, severity
    rule_version: Mapped[str] = mapped_column(String(16))
    state_seq: Mapped[int] = mapped_column()  # the last stored record the answer accounted for
    elapsed_ms: Mapped[float] = mapped_column(Float)
