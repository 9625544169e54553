"""The record worker's persisted cursor."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from auditcage.storage.base import Base, TZDateTime


class WorkerCursor(Base):
    """How far the record worker has evaluated: every record with seq <= `seq` is done.

    Committed in the same transaction as the hits of the batch that advanced it, so a crash
    leaves either both or neither.
    """

    __tablename__ = "worker_cursor"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int] = mapped_column(default=0)
    watermark: Mapped[datetime | None] = mapped_column(TZDateTime())  # latest action_time seen
    ruleset_digest: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime | None] = mapped_column(TZDateTime())
