"""The outbox (one row per recipient and message) and the record of every delivery attempt."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from auditcage.storage.base import Base, CreatedAtMixin, JSONType, TZDateTime


class OutboxStatus(StrEnum):
    PENDING = "pending"  # due at next_attempt_at
    SENDING = "sending"  # claimed by a worker until claimed_until
    SENT = "sent"
    FAILED = "failed"  # every channel tried; nothing more will happen


class AttemptOutcome(StrEnum):
    SENT = "sent"
    TRANSIENT_ERROR = "transient_error"  # a retry may help: same channel, later
    PERMANENT_ERROR = "permanent_error"  # a retry cannot help: next channel at once


class OutboxMessage(CreatedAtMixin, Base):
    """One message to one recipient, delivered on the first of its channels that works."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The purpose (e.g. "alert:42:push"); with the recipient it makes enqueuing idempotent.
    dedupe_key: Mapped[str] = mapped_column(String(200))
    recipient_id: Mapped[str] = mapped_column(String(64), index=True)
    # Apprise URLs in fallback order. They may hold credentials: never log or audit them.
    channels: Mapped[list[str]] = mapped_column(JSONType)
    channel_index: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(24))  # alert, digest, escalation, …
    alert_id: Mapped[int | None] = mapped_column(index=True)
    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)  # masked by the caller
    status: Mapped[str] = mapped_column(String(12), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)  # on every channel
    channel_attempts: Mapped[int] = mapped_column(default=0)  # on the current channel
    next_attempt_at: Mapped[datetime] = mapped_column(TZDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    claimed_until: Mapped[datetime | None] = mapped_column(TZDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(TZDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("dedupe_key", "recipient_id"),
        # Serves the claim query: due pending rows, and sending rows whose lease ran out.
        Index("ix_outbox_message_due", "status", "next_attempt_at"),
    )


class DeliveryAttempt(Base):
    """One try of one outbox row on one channel. Holds the URL scheme only, never the URL."""

    __tablename__ = "delivery_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox_message.id"), index=True)
    channel_index: Mapped[int]
    scheme: Mapped[str] = mapped_column(String(32))
    worker_id: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(TZDateTime())
    outcome: Mapped[str] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(Text)
