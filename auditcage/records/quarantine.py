"""Quarantined records: list, show, correct and replay. Nothing is ever silently dropped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from auditcage import clock
from auditcage.errors import NotFound
from auditcage.records import nul
from auditcage.records.intake import NoticeSource, Outcome, accept_batch, reason_rows
from auditcage.records.models import QuarantinedRecord, QuarantineState
from auditcage.records.validation import validate_record


def pending(
    session: Session, *, code: str | None = None, limit: int = 100, offset: int = 0
) -> Sequence[QuarantinedRecord]:
    """Quarantined records still waiting for a correction, oldest first."""
    query = select(QuarantinedRecord).where(QuarantinedRecord.state == QuarantineState.PENDING)
    if code:
        query = query.where(QuarantinedRecord.codes.contains(code))
    return session.scalars(query.order_by(QuarantinedRecord.id).limit(limit).offset(offset)).all()


def get(session: Session, quarantine_id: int) -> QuarantinedRecord:
    item = session.get(QuarantinedRecord, quarantine_id)
    if item is None:
        raise NotFound(f"no quarantined record {quarantine_id}")
    return item


def original(item: QuarantinedRecord) -> Any:
    """The payload as received: a payload stored NUL-escaped has its original in raw_text."""
    if item.payload is not None and item.raw_text is not None:
        return orjson.loads(item.raw_text)
    return item.payload


@dataclass(frozen=True)
class ReplayResult:
    quarantine_id: int
    outcome: Outcome
    record_id: str | None
    reasons: list[dict[str, str]]


def replay(
    session: Session,
    quarantine_id: int,
    *,
    actor: str,
    corrected: Any = None,
    notices: NoticeSource | None = None,
) -> ReplayResult:
    """Run a quarantined record (or its corrected version) through intake again.

    Accepted → state `replayed` with the stored record_id. Still invalid → stays pending with the
    new reasons (and the corrected payload, so the next fix starts from it).
    """
    item = get(session, quarantine_id)
    if item.state != QuarantineState.PENDING:
        raise NotFound(f"quarantined record {quarantine_id} was already {item.state}")
    payload = corrected if corrected is not None else original(item)
    item.attempts += 1
    if corrected is not None:
        item.payload, item.raw_text = nul.storable(corrected)
    if payload is None:
        return ReplayResult(item.id, Outcome.QUARANTINED, None, item.reasons)
    checked = validate_record(payload)
    if checked.rejections or checked.record is None:
        item.reasons = reason_rows(checked.rejections)
        item.codes = ",".join(sorted({p.code for p in checked.rejections}))[:400]
        return ReplayResult(item.id, Outcome.QUARANTINED, item.record_id, item.reasons)
    report = accept_batch(session, [(item.position, payload)], source=item.source, notices=notices)
    outcome = report.outcomes[0]
    item.state = (
        QuarantineState.DUPLICATE
        if outcome.outcome is Outcome.DUPLICATE
        else QuarantineState.REPLAYED
    )
    item.replayed_at = clock.now()
    item.replayed_record_id = outcome.record_id
    item.replayed_by = actor
    return ReplayResult(item.id, outcome.outcome, outcome.record_id, [])
