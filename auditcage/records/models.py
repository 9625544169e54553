"""Stored records (append-only), quarantined records and data-quality notices."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from auditcage.storage.base import Base, CreatedAtMixin, JSONType, TZDateTime

# SQLite only autoincrements INTEGER PRIMARY KEY; BigInteger elsewhere for a national scale.
SequenceType = BigInteger().with_variant(Integer(), "sqlite")


class Record(Base):
    """One action on one business item, as accepted (catalogue §1). Never updated, never deleted.

    `seq` is the intake order: the worker consumes records by it with a persisted cursor.
    `payload` is the validated record in canonical JSON (datetimes ISO-8601 +08:00), so the same
    record read from NDJSON, CSV or XLSX is stored identically. The columns beside it are the keys
    rules and queries select on.
    """

    __tablename__ = "record"

    seq: Mapped[int] = mapped_column(SequenceType, primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(String(64), unique=True)
    source_system: Mapped[str] = mapped_column(String(32))
    service: Mapped[str] = mapped_column(String(16))
    business_type: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(16))
    serial_no: Mapped[str] = mapped_column(String(40), index=True)
    action_time: Mapped[datetime] = mapped_column(TZDateTime(), index=True)
    unit_code: Mapped[str] = mapped_column(String(32), index=True)
    operator_id: Mapped[str] = mapped_column(String(64), index=True)
    plate_no: Mapped[str | None] = mapped_column(String(16), index=True)
    vin: Mapped[str | None] = mapped_column(String(17), index=True)
    license_no: Mapped[str | None] = mapped_column(String(32), index=True)
    subject_id_no: Mapped[str | None] = mapped_column(String(32), index=True)
    agent_id_no: Mapped[str | None] = mapped_column(String(32), index=True)
    violation_code: Mapped[str | None] = mapped_column(String(16))
    document_no: Mapped[str | None] = mapped_column(String(64), index=True)
    has_warnings: Mapped[bool] = mapped_column(default=False)
    ingested_at: Mapped[datetime] = mapped_column(TZDateTime())
    ingest_source: Mapped[str] = mapped_column(String(200))  # file name or "api:<source_system>"
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)


class QuarantineState(StrEnum):
    PENDING = "pending"  # waiting for a correction
    REPLAYED = "replayed"  # corrected and accepted; replayed_record_id says which record
    DUPLICATE = "duplicate"  # the corrected record turned out to be stored already


class QuarantinedRecord(CreatedAtMixin, Base):
    """A record that failed the contract (§1.7), kept whole with its reasons until replayed."""

    __tablename__ = "quarantined_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[str | None] = mapped_column(String(200), index=True)
    source: Mapped[str] = mapped_column(String(200))  # file name or "api:<source_system>"
    position: Mapped[int]  # file line (1-based) or array index (0-based) of the original
    payload: Mapped[Any | None] = mapped_column(
        JSONType
    )  # the record as received (None if no JSON)
    raw_text: Mapped[str | None] = mapped_column(Text)  # the line itself when it was not JSON
    reasons: Mapped[list[dict[str, str]]] = mapped_column(JSONType)  # [{field, code, reason}]
    codes: Mapped[str] = mapped_column(String(400), index=True)  # "code,code" for filtering
    state: Mapped[QuarantineState] = mapped_column(String(16), default=QuarantineState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    replayed_at: Mapped[datetime | None] = mapped_column(TZDateTime())
    replayed_record_id: Mapped[str | None] = mapped_column(String(64))
    replayed_by: Mapped[str | None] = mapped_column(String(100))

    __table_args__ = (Index("ix_quarantined_record_state_id", "state", "id"),)


class DataQualityNotice(CreatedAtMixin, Base):
    """A warning on an accepted record (§1.7), or an unresolved reference (an input of STF-13)."""

    __tablename__ = "data_quality_notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[str | None] = mapped_column(String(64), index=True)
    code: Mapped[str] = mapped_column(String(40), index=True)
    field: Mapped[str] = mapped_column(String(120))
    value: Mapped[str | None] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(String(500))
