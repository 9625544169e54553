"""The acknowledgement loop of catalogue §4.4: push, 签收, 回告, 审核, closure, dismissal.

Services take a Session and an actor (a staff id) and never commit: the caller's transaction
holds the status change, the alert's event, the audit entry and the deadlines together.
Roles (who is an inspector) are the API's to check; here we check what the alert itself says:
its named owners, its delegate, and that nobody reviews or dismisses their own alert.

State machine (`TRANSITIONS`), action → {from: to}:

    push, assign      new → pushed             (assign: blue alerts only, by an inspector)
    acknowledge       pushed → acknowledged
    initial_feedback  acknowledged → initial_feedback   (severities with that deadline)
    final_report      acknowledged | initial_feedback | returned → feedback_submitted
    accept            feedback_submitted → reviewed
    return            feedback_submitted → returned     (final report due in half the period)
    close             reviewed → closed
    dismiss           new | pushed | acknowledged | initial_feedback → dismissed

A final report straight after acknowledgement is allowed and also answers the initial-feedback
deadline. Blue alerts are tracked as yellow once assigned (§0.4: yellow is what a unit's 监管岗
verifies, which is what an inspector asks for when assigning one).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from auditcage import clock
from auditcage.alerts.models import Alert, AlertStatus
from auditcage.audit import trail
from auditcage.errors import AuditcageError, Forbidden, InvalidInput, NotFound
from notifications.deadlines import DEFAULT_POLICY, DeadlinePolicy, Period, Timekeeper
from notifications.lifecycle_models import (
    AlertAssignment,
    AlertDeadline,
    AlertEvent,
    FalsePositiveReason,
    FeedbackReport,
    ReportKind,
    ReviewDecision,
    Step,
)
from notifications.report_schema import FeedbackReportIn

DEFAULT_TIMEKEEPER: Final = Timekeeper()


class Action(StrEnum):
    PUSH = "push"
    ASSIGN = "assign"
    ACKNOWLEDGE = "acknowledge"
    INITIAL_FEEDBACK = "initial_feedback"
    FINAL_REPORT = "final_report"
    ACCEPT = "accept"
    RETURN = "return"
    CLOSE = "close"
    DISMISS = "dismiss"


S = AlertStatus
TRANSITIONS: Final[Mapping[Action, Mapping[AlertStatus, AlertStatus]]] = {
    Action.PUSH: {S.NEW: S.PUSHED},
    Action.ASSIGN: {S.NEW: S.PUSHED},
    Action.ACKNOWLEDGE: {S.PUSHED: S.ACKNOWLEDGED},
    Action.INITIAL_FEEDBACK: {S.ACKNOWLEDGED: S.INITIAL_FEEDBACK},
    Action.FINAL_REPORT: {
        S.ACKNOWLEDGED: S.FEEDBACK_SUBMITTED,
        S.INITIAL_FEEDBACK: S.FEEDBACK_SUBMITTED,
        S.RETURNED: S.FEEDBACK_SUBMITTED,
    },
    Action.ACCEPT: {S.FEEDBACK_SUBMITTED: S.REVIEWED},
    Action.RETURN: {S.FEEDBACK_SUBMITTED: S.RETURNED},
    Action.CLOSE: {S.REVIEWED: S.CLOSED},
    Action.DISMISS: {s: S.DISMISSED for s in (S.NEW, S.PUSHED, S.ACKNOWLEDGED, S.INITIAL_FEEDBACK)},
}

# Why an action is refused in a state, when the table's "allowed only from" would not say it.
WHY: Final[Mapping[AlertStatus, str]] = {
    S.NEW: "it has not been pushed yet",
    S.PUSHED: "it has not been acknowledged (签收) yet",
    S.FEEDBACK_SUBMITTED: "its report is waiting for review",
    S.REVIEWED: "its report has been accepted; only closing is left",
    S.CLOSED: "it is closed",
    S.DISMISSED: "it was dismissed as a false positive",
}


class InvalidTransition(AuditcageError):
    code = "invalid_transition"

    def __init__(self, alert_id: int, state: str, action: str, why: str) -> None:
        self.alert_id, self.state, self.action, self.why = alert_id, state, action, why
        super().__init__(f"alert {alert_id} is {state}: cannot {action}: {why}")


class StaleAlert(AuditcageError):
    """Someone else moved the alert between our read and our write; reload and retry."""

    code = "stale_alert"

    def __init__(self, alert_id: int) -> None:
        super().__init__(f"alert {alert_id} was changed by someone else meanwhile")


@dataclass(frozen=True)
class DeadlineState:
    step: str
    due_at: datetime
    met_at: datetime | None
    escalation_level: int
    active: bool


@dataclass(frozen=True)
class TrackingState:
    """What the API shows after an action: the alert's status and its deadlines."""

    alert_id: int
    status: str
    severity: str
    tracked_as: str | None
    deadlines: tuple[DeadlineState, ...]


@dataclass(frozen=True)
class FalsePositive:
    alert_id: int
    rule_ids: tuple[str, ...]
    reason_code: str
    source: str  # "dismiss" (an inspector) or "accept" (an accepted 不属实 report)
    at: datetime


# --- services ---------------------------------------------------------------------------------


def open_tracking(
    session: Session,
    alert: Alert | int,
    *,
    owners: Sequence[str],
    copies: Sequence[str] = (),
    routed_at: datetime | None = None,
    actor: str = "routing",
    policy: DeadlinePolicy = DEFAULT_POLICY,
    timekeeper: Timekeeper = DEFAULT_TIMEKEEPER,
) -> TrackingState:
    """推送: the alert was pushed to `owners` (copied to `copies`); its deadlines start now."""
    alert = _alert(session, alert)
    if alert.severity == "blue":
        _refuse(alert, Action.PUSH, "blue alerts are not pushed; an inspector assigns them")
    return _start(
        session,
        alert,
        Action.PUSH,
        actor=actor,
        owners=owners,
        copies=copies,
        routed_at=routed_at or clock.now(),
        unit_code=alert.unit_code,
        policy=policy,
        timekeeper=timekeeper,
    )


def assign(
    session: Session,
    alert_id: int,
    inspector: str,
    unit_code: str,
    *,
    owners: Sequence[str],
    copies: Sequence[str] = (),
    policy: DeadlinePolicy = DEFAULT_POLICY,
    timekeeper: Timekeeper = DEFAULT_TIMEKEEPER,
) -> TrackingState:
    """An inspector hands a blue alert from the queue to a unit; from then on it runs as yellow."""
    alert = _alert(session, alert_id)
    if alert.severity != "blue":
        _refuse(alert, Action.ASSIGN, "only blue alerts wait in the inspectors' queue")
    return _start(
        session,
        alert,
        Action.ASSIGN,
        actor=inspector,
        owners=owners,
        copies=copies,
        routed_at=clock.now(),
        unit_code=unit_code,
        tracked_as="yellow",
        policy=policy,
        timekeeper=timekeeper,
    )


def acknowledge(
    session: Session,
    alert_id: int,
    actor: str,
    *,
    delegated_to: str | None = None,
    reason: str | None = None,
) -> TrackingState:
    """签收 by a named owner. Red: personally, never delegated. Orange, yellow: may delegate
    the handling to `delegated_to` with a `reason`; the delegation is recorded."""
    alert = _alert(session, alert_id)
    _check(alert, Action.ACKNOWLEDGE)
    assignment = _assignment(session, alert.id)
    if actor not in assignment.owner_ids:
        raise Forbidden(f"{actor} is not a named owner of alert {alert.id} and cannot sign for it")
    detail: dict[str, Any] = {}
    if delegated_to is not None:
        _delegate(alert, assignment, actor, delegated_to, reason)
        detail = {"delegated_to": delegated_to, "reason": reason}
    _meet(session, alert.id, (Step.ACKNOWLEDGE,))
    _move(session, alert, Action.ACKNOWLEDGE, actor, detail)
    return tracking(session, alert.id)


def submit_feedback(
    session: Session,
    alert_id: int,
    actor: str,
    report: Mapping[str, Any],
    *,
    policy: DeadlinePolicy = DEFAULT_POLICY,
    timekeeper: Timekeeper = DEFAULT_TIMEKEEPER,
) -> TrackingState:
    """回告: an initial feedback or the final report, by an owner or the delegate.

    Raises marshmallow's ValidationError for a report that misses what §4.4 asks for.
    """
    data = FeedbackReportIn().load(report)
    alert = _alert(session, alert_id)
    final = data["kind"] == ReportKind.FINAL
    action = Action.FINAL_REPORT if final else Action.INITIAL_FEEDBACK
    _check(alert, action)
    assignment = _assignment(session, alert.id)
    severity = policy.of(assignment.tracked_as)
    if not final and severity.initial_feedback is None:
        _refuse(alert, action, f"{assignment.tracked_as} alerts have no initial feedback (§4.4)")
    if actor not in _handlers(assignment):
        raise Forbidden(f"{actor} neither owns nor was delegated alert {alert.id}")
    stored = _store_report(session, alert.id, actor, data)
    if final:
        _meet(session, alert.id, (Step.INITIAL_FEEDBACK, Step.FINAL_REPORT))
        if severity.review is not None:
            _add_deadline(
                session, alert.id, Step.REVIEW, severity.review, assignment, timekeeper, clock.now()
            )
    else:
        _meet(session, alert.id, (Step.INITIAL_FEEDBACK,))
    _move(session, alert, action, actor, {"report_id": stored.id, "finding": data["finding"]})
    return tracking(session, alert.id)


def review(
    session: Session,
    alert_id: int,
    reviewer: str,
    outcome: str,
    comment: str = "",
    *,
    timekeeper: Timekeeper = DEFAULT_TIMEKEEPER,
) -> TrackingState:
    """审核 of the final report: `accept` (→ reviewed), or `return` it with a comment; the final
    report is then due again in half its original period, counted in the same unit."""
    action = {"accept": Action.ACCEPT, "return": Action.RETURN}.get(outcome)
    if action is None:
        raise InvalidInput(f"review outcome {outcome!r}: use accept or return")
    alert = _alert(session, alert_id)
    _check(alert, action)
    assignment = _assignment(session, alert.id)
    if reviewer in _handlers(assignment):
        raise Forbidden(f"{reviewer} handled alert {alert.id} and cannot review its report")
    if action is Action.RETURN and not comment.strip():
        raise InvalidInput("a returned report needs a comment saying what to rework")
    report = _latest_final_report(session, alert.id)
    now = clock.now()
    _meet(session, alert.id, (Step.REVIEW,))
    new_due = None
    if action is Action.RETURN:
        new_due = _reopen_final_report(session, assignment, timekeeper, now)
    session.add(
        ReviewDecision(
            alert_id=alert.id,
            report_id=report.id,
            reviewer=reviewer,
            decided_at=now,
            outcome=outcome,
            comment=comment,
            new_due_at=new_due,
        )
    )
    # An accepted 不属实 report is a false positive of the rule, as a dismissal is.
    reason = report.reason_code if action is Action.ACCEPT else None
    detail = {"report_id": report.id, "comment": comment, "new_due_at": _iso(new_due)}
    _move(session, alert, action, reviewer, detail, reason_code=reason)
    return tracking(session, alert.id)


def close(session: Session, alert_id: int, actor: str, *, note: str = "") -> TrackingState:
    """审核通过后结案. A lead (§0.5 item 6 iii) closes its member alerts with it."""
    alert = _alert(session, alert_id)
    _move(session, alert, Action.CLOSE, actor, {"note": note})
    _close_members(session, alert, actor)
    return tracking(session, alert.id)


def _close_members(session: Session, lead: Alert, actor: str) -> None:
    from notifications.routing_models import AlertRouting

    members = session.scalars(
        select(Alert)
        .join(AlertRouting, AlertRouting.alert_id == Alert.id)
        .where(AlertRouting.lead_alert_id == lead.id)
    ).all()
    for member in members:
        if member.status in (AlertStatus.CLOSED, AlertStatus.DISMISSED):
            continue
        before = member.status
        member.status = AlertStatus.CLOSED
        member.status_changed_at = clock.now()
        for deadline in session.scalars(
            select(AlertDeadline).where(AlertDeadline.alert_id == member.id)
        ):
            deadline.active = False
        log_event(
            session,
            member,
            actor,
            "close_with_lead",
            from_status=before,
            to_status=AlertStatus.CLOSED,
            detail={"lead_alert_id": lead.id},
        )


def dismiss(
    session: Session, alert_id: int, inspector: str, reason_code: str, comment: str = ""
) -> TrackingState:
    """An inspector dismisses a false positive before any final report; the reason is kept
    for rule statistics (`false_positives`) and every open deadline stops."""
    if reason_code not in {reason.value for reason in FalsePositiveReason}:
        raise InvalidInput(f"unknown false-positive reason {reason_code!r}")
    if reason_code == FalsePositiveReason.OTHER and not comment.strip():
        raise InvalidInput("reason 'other' needs a comment")
    alert = _alert(session, alert_id)
    _check(alert, Action.DISMISS)
    assignment = _assignment_or_none(session, alert.id)
    if assignment is not None and inspector in _handlers(assignment):
        raise Forbidden(f"{inspector} handles alert {alert.id} and cannot dismiss it")
    _stop_all(session, alert.id)
    detail = {"comment": comment, "rule_ids": list(alert.rule_ids)}
    _move(session, alert, Action.DISMISS, inspector, detail, reason_code=reason_code)
    return tracking(session, alert.id)


# --- reading ----------------------------------------------------------------------------------


def tracking(session: Session, alert_id: int) -> TrackingState:
    alert = _alert(session, alert_id)
    assignment = _assignment_or_none(session, alert_id)
    rows = session.scalars(
        select(AlertDeadline).where(AlertDeadline.alert_id == alert_id).order_by(AlertDeadline.id)
    )
    return TrackingState(
        alert_id=alert.id,
        status=alert.status,
        severity=alert.severity,
        tracked_as=assignment.tracked_as if assignment else None,
        deadlines=tuple(
            DeadlineState(d.step, d.due_at, d.met_at, d.escalation_level, d.active) for d in rows
        ),
    )


def false_positives(session: Session) -> list[FalsePositive]:
    """Every dismissal and accepted 不属实 report, with its reason, for rule statistics."""
    rows = session.execute(
        select(AlertEvent, Alert.rule_ids)
        .join(Alert, Alert.id == AlertEvent.alert_id)
        .where(AlertEvent.reason_code.is_not(None))
        .order_by(AlertEvent.id)
    )
    return [
        FalsePositive(e.alert_id, tuple(rule_ids), e.reason_code or "", e.action, e.at)
        for e, rule_ids in rows
    ]


def log_event(
    session: Session,
    alert: Alert,
    actor: str,
    action: str,
    *,
    from_status: str | None,
    to_status: str | None,
    detail: dict[str, Any],
    reason_code: str | None = None,
) -> None:
    """The alert's own history row plus the audit entry, in the caller's transaction."""
    at = clock.now()
    session.add(
        AlertEvent(
            alert_id=alert.id,
            at=at,
            actor=actor,
            action=action,
            from_status=from_status,
            to_status=to_status,
            reason_code=reason_code,
            detail=detail,
        )
    )
    audit_detail = {"from": from_status, "to": to_status, **detail}
    if reason_code is not None:
        audit_detail["reason_code"] = reason_code
    trail.record(
        session,
        actor=actor,
        action=f"alert.{action}",
        subject=("alert", alert.id),
        detail=audit_detail,
    )


# --- helpers ----------------------------------------------------------------------------------


def _alert(session: Session, alert: Alert | int) -> Alert:
    if isinstance(alert, Alert):
        return alert
    found = session.get(Alert, alert)
    if found is None:
        raise NotFound(f"alert {alert} does not exist")
    return found


def _assignment_or_none(session: Session, alert_id: int) -> AlertAssignment | None:
    return session.scalar(select(AlertAssignment).where(AlertAssignment.alert_id == alert_id))


def _assignment(session: Session, alert_id: int) -> AlertAssignment:
    assignment = _assignment_or_none(session, alert_id)
    if assignment is None:  # the status says pushed but routing left no row: a bug, say so
        raise NotFound(f"alert {alert_id} has no assignment")
    return assignment


def _handlers(assignment: AlertAssignment) -> set[str]:
    handlers = set(assignment.owner_ids)
    if assignment.delegated_to:
        handlers.add(assignment.delegated_to)
    return handlers


def _refuse(alert: Alert, action: Action, why: str) -> None:
    raise InvalidTransition(alert.id, alert.status, action.value, why)


def _check(alert: Alert, action: Action) -> AlertStatus:
    allowed = TRANSITIONS[action]
    to = allowed.get(AlertStatus(alert.status))
    if to is None:
        why = f"{action.value} is allowed only when the alert is {_either(allowed)}"
        # Starting actions only ever fail because the alert already started: no hint needed.
        starting = action in (Action.PUSH, Action.ASSIGN)
        hint = None if starting else WHY.get(AlertStatus(alert.status))
        _refuse(alert, action, f"{why} ({hint})" if hint else why)
    assert to is not None  # _refuse raised
    return to


def _either(states: Iterable[AlertStatus]) -> str:
    return " or ".join(s.value for s in states)


def _move(
    session: Session,
    alert: Alert,
    action: Action,
    actor: str,
    detail: dict[str, Any],
    *,
    reason_code: str | None = None,
) -> None:
    to = _check(alert, action)
    current = alert.status
    # Guard on the status we read: a blind write would overwrite another user's step.
    moved = session.execute(
        update(Alert)
        .where(Alert.id == alert.id, Alert.status == current)
        .values(status=to, status_changed_at=clock.now())
    ).rowcount
    if moved != 1:
        raise StaleAlert(alert.id)
    log_event(
        session,
        alert,
        actor,
        action.value,
        from_status=current,
        to_status=to,
        detail=detail,
        reason_code=reason_code,
    )


def _start(
    session: Session,
    alert: Alert,
    action: Action,
    *,
    actor: str,
    owners: Sequence[str],
    copies: Sequence[str],
    routed_at: datetime,
    unit_code: str,
    policy: DeadlinePolicy,
    timekeeper: Timekeeper,
    tracked_as: str | None = None,
) -> TrackingState:
    _check(alert, action)
    if not owners:
        raise InvalidInput(f"alert {alert.id} needs at least one owner to be tracked")
    assignment = AlertAssignment(
        alert_id=alert.id,
        unit_code=unit_code,
        owner_ids=list(owners),
        copy_ids=list(copies),
        routed_at=routed_at,
        severity=alert.severity,
        tracked_as=tracked_as or alert.severity,
        assigned_by=actor if action is Action.ASSIGN else None,
    )
    session.add(assignment)
    severity = policy.of(assignment.tracked_as)
    for step in (Step.ACKNOWLEDGE, Step.INITIAL_FEEDBACK, Step.FINAL_REPORT):
        period = severity.period(step)
        if period is not None:
            _add_deadline(session, alert.id, step, period, assignment, timekeeper, routed_at)
    detail = {"owners": list(owners), "copies": list(copies), "unit_code": unit_code}
    _move(session, alert, action, actor, detail)
    return tracking(session, alert.id)


def _add_deadline(
    session: Session,
    alert_id: int,
    step: Step,
    period: Period,
    assignment: AlertAssignment,
    timekeeper: Timekeeper,
    start: datetime,
    *,
    original: Period | None = None,
) -> AlertDeadline:
    due = timekeeper.due(start, period, assignment.unit_code)
    original = original or period
    row = AlertDeadline(
        alert_id=alert_id,
        step=step.value,
        started_at=start,
        due_at=due,
        original_amount=original.amount,
        original_unit=original.unit,
        granted_amount=period.amount,
        escalation_level=0,
        next_check_at=due,  # the sweeper looks at it when it is missed, not before
        active=True,
    )
    session.add(row)
    session.flush()
    return row


def _open_deadlines(session: Session, alert_id: int) -> list[AlertDeadline]:
    return list(
        session.scalars(
            select(AlertDeadline).where(
                AlertDeadline.alert_id == alert_id, AlertDeadline.active.is_(True)
            )
        )
    )


def _meet(session: Session, alert_id: int, steps: Sequence[Step]) -> None:
    now = clock.now()
    for row in _open_deadlines(session, alert_id):
        if row.step in steps:
            row.met_at, row.active, row.next_check_at = now, False, None


def _stop_all(session: Session, alert_id: int) -> None:
    for row in _open_deadlines(session, alert_id):
        row.active, row.next_check_at = False, None  # not met: stopped (met_at stays empty)


def _delegate(
    alert: Alert, assignment: AlertAssignment, actor: str, to: str, reason: str | None
) -> None:
    if assignment.tracked_as == "red":
        raise Forbidden(
            f"alert {alert.id} is red: the named chief acknowledges personally and cannot "
            "delegate (§4.4)"
        )
    if to == actor:
        raise InvalidInput("a delegation names someone other than the owner")
    if not (reason and reason.strip()):
        raise InvalidInput("a delegation needs a reason")
    assignment.delegated_to, assignment.delegated_by = to, actor
    assignment.delegation_reason = reason


def _store_report(
    session: Session, alert_id: int, actor: str, data: Mapping[str, Any]
) -> FeedbackReport:
    report = FeedbackReport(
        alert_id=alert_id,
        submitted_by=actor,
        submitted_at=clock.now(),
        **data,
    )
    session.add(report)
    session.flush()
    return report


def _latest_final_report(session: Session, alert_id: int) -> FeedbackReport:
    report = session.scalar(
        select(FeedbackReport)
        .where(FeedbackReport.alert_id == alert_id, FeedbackReport.kind == ReportKind.FINAL)
        .order_by(FeedbackReport.id.desc())
        .limit(1)
    )
    if report is None:
        raise NotFound(f"alert {alert_id} has no final report to review")
    return report


def _reopen_final_report(
    session: Session, assignment: AlertAssignment, timekeeper: Timekeeper, now: datetime
) -> datetime:
    """A new final-report deadline of half the *original* period (a second return halves the
    original again, not the half), counted from the return in the same unit."""
    first = session.scalar(
        select(AlertDeadline)
        .where(
            AlertDeadline.alert_id == assignment.alert_id,
            AlertDeadline.step == Step.FINAL_REPORT,
        )
        .order_by(AlertDeadline.id)
        .limit(1)
    )
    if first is None:
        raise NotFound(f"alert {assignment.alert_id} never had a final-report deadline")
    original = Period(first.original_amount, first.original_unit)  # type: ignore[arg-type]
    row = _add_deadline(
        session,
        assignment.alert_id,
        Step.FINAL_REPORT,
        original.half(),
        assignment,
        timekeeper,
        now,
        original=original,
    )
    return row.due_at


def _iso(value: datetime | None) -> str | None:
    return None if value is None else clock.to_shanghai(value).isoformat()
