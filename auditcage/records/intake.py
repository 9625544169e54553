"""Intake: validate → store | quarantine, idempotent by record_id. One service, two adapters.

`auditcage ingest` and `POST /api/v1/records` both call accept_batch(). The caller owns the
transaction: the CLI commits one batch at a time so a 1 GB file never sits in one transaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import orjson
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from auditcage import clock
from auditcage.records import nul
from auditcage.records.models import DataQualityNotice, QuarantinedRecord, Record
from auditcage.records.readers import UnreadableLine
from auditcage.records.validation import Problem, validate_record

# A notice source: given a validated record, the data-quality notices of unresolved references.
NoticeSource = Callable[[dict[str, Any]], Sequence[Any]]


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    ACCEPTED_WITH_WARNINGS = "accepted_with_warnings"
    DUPLICATE = "duplicate"
    QUARANTINED = "quarantined"


@dataclass(frozen=True)
class RecordOutcome:
    position: int  # file line, or index in the posted array
    record_id: str | None
    outcome: Outcome
    problems: tuple[Problem, ...] = ()  # rejections when quarantined, warnings when accepted


@dataclass
class IntakeReport:
    read: int = 0
    accepted: int = 0
    accepted_with_warnings: int = 0
    duplicates: int = 0
    quarantined: int = 0
    quarantined_by_reason: Counter[str] = field(default_factory=Counter)
    warnings_by_code: Counter[str] = field(default_factory=Counter)
    outcomes: list[RecordOutcome] = field(default_factory=list)

    def merge(self, other: IntakeReport) -> None:
        self.read += other.read
        self.accepted += other.accepted
        self.accepted_with_warnings += other.accepted_with_warnings
        self.duplicates += other.duplicates
        self.quarantined += other.quarantined
        self.quarantined_by_reason.update(other.quarantined_by_reason)
        self.warnings_by_code.update(other.warnings_by_code)
        self.outcomes.extend(other.outcomes)


def accept_batch(
    session: Session,
    items: Iterable[tuple[int, Any]],
    *,
    source: str,
    notices: NoticeSource | None = None,
    expected_source_system: str | None = None,
    keep_outcomes: bool = True,
    now: datetime | None = None,
) -> IntakeReport:
    """Store the valid records of one batch; quarantine the rest with their reasons.

    - `items` are (position, payload) pairs; a payload may be an UnreadableLine (bad JSON).
    - `expected_source_system`: set by the API, where a key authenticates one source system;
      a record claiming another source is quarantined, never stored under a borrowed name.
    - Nothing is dropped: every item ends accepted, duplicate (reported) or quarantined.
    """
    now = now or clock.now()
    report = IntakeReport()
    pending: list[tuple[int, dict[str, Any], tuple[Problem, ...]]] = []
    for position, payload in items:
        report.read += 1
        if isinstance(payload, UnreadableLine):
            problem = Problem(field="", reason=payload.reason, code="invalid_json")
            _quarantine(session, report, position, None, source, (problem,), raw_text=payload.text)
            continue
        result = validate_record(payload, now=now)
        rejections = result.rejections
        if result.record is not None and expected_source_system is not None:
            claimed = result.record.get("source_system")
            if claimed != expected_source_system:
                rejections = (
                    Problem(
                        field="source_system",
                        reason=f"record claims {claimed!r} but the key belongs to "
                        f"{expected_source_system!r}",
                        code="source_mismatch",
                    ),
                )
        if rejections or result.record is None:
            _quarantine(session, report, position, payload, source, rejections)
            continue
        pending.append((position, result.record, result.warnings))
    _store(session, report, pending, source=source, notices=notices, now=now)
    if keep_outcomes:
        report.outcomes.sort(key=lambda o: o.position)
    else:
        report.outcomes.clear()
    return report


def _store(
    session: Session,
    report: IntakeReport,
    pending: list[tuple[int, dict[str, Any], tuple[Problem, ...]]],
    *,
    source: str,
    notices: NoticeSource | None,
    now: datetime,
) -> None:
    if not pending:
        return
    # record_id is the idempotency key (catalogue §0.5 item 1). Never serial_no: every step of one
    # business item shares its serial, and deduplicating on it would drop all but the first.
    wanted = {record["record_id"] for _, record, _ in pending}
    stored = set(
        session.scalars(select(Record.record_id).where(Record.record_id.in_(wanted))).all()
    )
    rows: list[dict[str, Any]] = []
    notice_rows: list[dict[str, Any]] = []
    for position, record, warnings in pending:
        record_id = record["record_id"]
        if record_id in stored:
            report.duplicates += 1
            report.outcomes.append(RecordOutcome(position, record_id, Outcome.DUPLICATE))
            continue
        stored.add(record_id)
        problems = list(warnings)
        if notices is not None:
            problems.extend(_as_problem(n) for n in notices(record))
        for problem in problems:
            report.warnings_by_code[problem.code] += 1
            notice_rows.append(
                {
                    "record_id": record_id,
                    "code": problem.code,
                    "field": problem.field,
                    "value": _notice_value(record, problem.field),
                    "message": problem.reason[:500],
                    "created_at": now,
                }
            )
        outcome = Outcome.ACCEPTED_WITH_WARNINGS if problems else Outcome.ACCEPTED
        if problems:
            report.accepted_with_warnings += 1
        report.accepted += 1
        report.outcomes.append(RecordOutcome(position, record_id, outcome, tuple(problems)))
        rows.append(_record_row(record, has_warnings=bool(problems), source=source, now=now))
    if rows:
        session.execute(insert(Record), rows)
    if notice_rows:
        session.execute(insert(DataQualityNotice), notice_rows)


def _as_problem(notice: Any) -> Problem:
    if isinstance(notice, Problem):
        return notice
    return Problem(field=notice.field, reason=notice.message, code=notice.code)


def _notice_value(record: dict[str, Any], field_path: str) -> str | None:
    value: Any = record
    for part in field_path.split(".") if field_path else ():
        value = value.get(part) if isinstance(value, dict) else None
    if value is None or isinstance(value, dict | list):
        return None
    return str(value)[:200]


def canonical(record: dict[str, Any]) -> dict[str, Any]:
    """The validated record as JSON-ready values (datetimes ISO-8601 with +08:00), nulls left out.

    A null field and an absent one mean the same (§7.1: an empty cell is null), so both are
    stored alike, whatever the file format. `before`/`after` keep their nulls: there a null is
    a value the correction changed from or to.
    """
    return _without_nulls(orjson.loads(orjson.dumps(record, option=orjson.OPT_NON_STR_KEYS)))


def _without_nulls(value: Any, *, keep: bool = False) -> Any:
    if isinstance(value, dict):
        return {
            k: _without_nulls(v, keep=keep or k in ("before", "after"))
            for k, v in value.items()
            if keep or v is not None
        }
    if isinstance(value, list):
        return [_without_nulls(v, keep=keep) for v in value]
    return value


def _record_row(
    record: dict[str, Any], *, has_warnings: bool, source: str, now: datetime
) -> dict[str, Any]:
    return {
        "record_id": record["record_id"],
        "source_system": record["source_system"],
        "service": record["service"],
        "business_type": record["business_type"],
        "action": record["action"],
        "serial_no": record["serial_no"],
        "action_time": record["action_time"],
        "unit_code": record["unit_code"],
        "operator_id": record["operator_id"],
        "plate_no": record.get("plate_no"),
        "vin": record.get("vin"),
        "license_no": record.get("license_no"),
        "subject_id_no": record.get("subject_id_no"),
        "agent_id_no": record.get("agent_id_no"),
        "violation_code": record.get("violation_code"),
        "document_no": record.get("document_no"),
        "has_warnings": has_warnings,
        "ingested_at": now,
        "ingest_source": source[:200],
        "payload": canonical(record),
    }


def _quarantine(
    session: Session,
    report: IntakeReport,
    position: int,
    payload: Any,
    source: str,
    problems: tuple[Problem, ...],
    *,
    raw_text: str | None = None,
) -> None:
    record_id = payload.get("record_id") if isinstance(payload, dict) else None
    record_id = str(record_id)[:200] if record_id is not None else None
    codes = sorted({p.code for p in problems})
    # Every text column escaped: a NUL anywhere would fail the batch on PostgreSQL (records/nul.py).
    stored, original = nul.storable(payload)
    session.add(
        QuarantinedRecord(
            record_id=nul.escape(record_id),
            source=nul.escape(source[:200]),
            position=position,
            payload=stored,
            raw_text=nul.escape(raw_text) if original is None else original,
            reasons=reason_rows(problems),
            codes=",".join(codes)[:400],
        )
    )
    report.quarantined += 1
    report.quarantined_by_reason.update(codes)
    report.outcomes.append(RecordOutcome(position, record_id, Outcome.QUARANTINED, problems))


def reason_rows(problems: Iterable[Problem]) -> list[dict[str, str]]:
    """Problems as stored on a quarantined record; a reason may quote a value holding a NUL."""
    return [
        {"field": nul.escape(p.field), "code": p.code, "reason": nul.escape(p.reason)}
        for p in problems
    ]
