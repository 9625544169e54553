"""One pre-check: validate the candidate record, evaluate it on the follower, decide, log."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from auditcage import clock
from auditcage.precheck.follower import Follower
from auditcage.precheck.models import PrecheckLog
from auditcage.precheck.policy import Decision
from auditcage.records.intake import canonical
from auditcage.records.masking import mask_text
from auditcage.records.validation import Problem, revive, validate_record


@dataclass(frozen=True)
class FiredRule:
    hit_id: str  # the id the hit will have once the record is stored and evaluated
    rule_id: str
    sub: str | None
    severity: str
    decision: Decision
    message: str


@dataclass(frozen=True)
class PrecheckAnswer:
    decision: Decision | None  # None: the record is invalid (it would be quarantined)
    rules: list[FiredRule]
    problems: tuple[Problem, ...]
    record_id: str | None
    rule_version: str
    elapsed_ms: float


def precheck(
    session: Session, follower: Follower, raw: Any, *, source_system: str
) -> PrecheckAnswer:
    """The answer for `raw`; only the log row is written, in the caller's transaction."""
    started = time.perf_counter()
    validation = validate_record(raw, now=clock.now())
    problems = validation.rejections
    record = validation.record
    if record is not None and record.get("source_system") != source_system:
        problems = (
            Problem(
                "source_system",
                f"this API key belongs to {source_system!r}",
                "source_system_mismatch",
            ),
        )
    if problems or record is None:
        answer = PrecheckAnswer(None, [], problems, _record_id(raw), "", _ms(started))
        _log(session, answer, raw, source_system, seq=0)
        return answer
    # The worker evaluates what was stored: the canonical payload, read back.
    stored_shape = revive(canonical(record))
    assert stored_shape is not None
    evaluation = follower.evaluate(session, stored_shape)
    fired = [
        FiredRule(
            h.id,
            h.rule_id,
            h.sub,
            h.severity,
            evaluation.policy.decision_for(h),
            mask_text(h.message),
        )
        for h in evaluation.hits
    ]
    answer = PrecheckAnswer(
        evaluation.policy.decide(evaluation.hits),
        fired,
        (),
        str(record["record_id"]),
        evaluation.version,
        _ms(started),
    )
    _log(session, answer, record, source_system, seq=evaluation.seq)
    return answer


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def _record_id(raw: Any) -> str | None:
    value = raw.get("record_id") if isinstance(raw, dict) else None
    return str(value)[:64] if value is not None else None


def _log(
    session: Session, answer: PrecheckAnswer, record: Any, source_system: str, *, seq: int
) -> None:
    get = record.get if isinstance(record, dict) else (lambda _k: None)
    session.add(
        PrecheckLog(
            at=clock.now(),
            source_system=source_system,
            record_id=answer.record_id,
            serial_no=str(get("serial_no"))[:40] if get("serial_no") else None,
            unit_code=str(get("unit_code"))[:32] if get("unit_code") else None,
            decision=answer.decision.value if answer.decision else "invalid",
            rules=[
                {"rule_id": r.rule_id, "sub": r.sub, "severity": r.severity} for r in answer.rules
            ],
            rule_version=answer.rule_version,
            state_seq=seq,
            elapsed_ms=answer.elapsed_ms,
        )
    )
