"""The escalation sweeper: what is overdue climbs its §4.4 ladder, one rung at a time.

`sweep()` reads active deadlines whose `next_check_at` has come, emits one `EscalationAction`
per rung reached (several when the notifier was down across more than one), and raises
`escalation_level` / `next_check_at` with an UPDATE guarded on the level it read. The caller
turns actions into recipients (routing) and outbox messages in the same transaction, so a crash
before the commit loses nothing and a restart after it repeats nothing; two sweepers racing on
one row produce its actions once. Escalation changes who is told, never the alert's status.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from auditcage import clock
from auditcage.alerts.models import Alert
from notifications.deadlines import (
    DEFAULT_POLICY,
    ActionKind,
    DeadlinePolicy,
    EscalationStep,
    Ladder,
    Target,
    Timekeeper,
)
from notifications.lifecycle import DEFAULT_TIMEKEEPER, log_event
from notifications.lifecycle_models import AlertAssignment, AlertDeadline, Step

BATCH = 500  # deadlines per sweep; the notifier loop sweeps again when a batch was full


@dataclass(frozen=True)
class EscalationAction:
    alert_id: int
    deadline_id: int
    step: Step
    level: int  # 1 = the first rung
    kind: ActionKind
    targets: tuple[Target, ...]
    channels: tuple[str, ...]  # empty: the routing policy's channels for the targets
    due_at: datetime
    reached_at: datetime  # when the rung was due (≤ the sweep time)

    @property
    def dedupe_key(self) -> str:
        """Outbox key: one message per recipient per rung, however often it is enqueued."""
        return f"alert:{self.alert_id}:{self.step}:{self.deadline_id}:L{self.level}"


def sweep(
    session: Session,
    now: datetime | None = None,
    *,
    policy: DeadlinePolicy = DEFAULT_POLICY,
    timekeeper: Timekeeper = DEFAULT_TIMEKEEPER,
    limit: int = BATCH,
) -> list[EscalationAction]:
    """Every rung reached by `now` (default: clock.now()) on an active, missed deadline."""
    now = now or clock.now()
    rows = session.execute(
        select(AlertDeadline, AlertAssignment, Alert)
        .join(AlertAssignment, AlertAssignment.alert_id == AlertDeadline.alert_id)
        .join(Alert, Alert.id == AlertDeadline.alert_id)
        .where(AlertDeadline.active.is_(True), AlertDeadline.next_check_at <= now)
        .order_by(AlertDeadline.next_check_at, AlertDeadline.id)
        .limit(limit)
    ).all()
    actions: list[EscalationAction] = []
    for deadline, assignment, alert in rows:
        ladder = policy.of(assignment.tracked_as).ladder(Step(deadline.step))
        actions += _climb(session, deadline, assignment, alert, ladder, now, timekeeper)
    return actions


def _climb(
    session: Session,
    deadline: AlertDeadline,
    assignment: AlertAssignment,
    alert: Alert,
    ladder: Ladder,
    now: datetime,
    timekeeper: Timekeeper,
) -> list[EscalationAction]:
    def reached_at(rung: EscalationStep) -> datetime:
        return timekeeper.rung_at(
            rung,
            started_at=deadline.started_at,
            due_at=deadline.due_at,
            unit_code=assignment.unit_code,
        )

    read_level = deadline.escalation_level
    level, actions = read_level, []
    while level < len(ladder) and reached_at(ladder[level]) <= now:
        rung = ladder[level]
        level += 1
        actions.append(
            EscalationAction(
                alert_id=alert.id,
                deadline_id=deadline.id,
                step=Step(deadline.step),
                level=level,
                kind=rung.kind,
                targets=rung.targets,
                channels=rung.channels,
                due_at=deadline.due_at,
                reached_at=reached_at(rung),
            )
        )
    next_check = reached_at(ladder[level]) if level < len(ladder) else None
    claimed = session.execute(
        update(AlertDeadline)
        .where(AlertDeadline.id == deadline.id, AlertDeadline.escalation_level == read_level)
        .values(escalation_level=level, next_check_at=next_check)
    ).rowcount
    if claimed != 1:
        return []  # another sweeper took this row since we read it
    for action in actions:
        _log(session, alert, action)
    return actions


def _log(session: Session, alert: Alert, action: EscalationAction) -> None:
    log_event(
        session,
        alert,
        "sweeper",
        f"escalation.{action.kind}",
        from_status=alert.status,
        to_status=alert.status,
        detail={
            "deadline_id": action.deadline_id,
            "step": action.step.value,
            "level": action.level,
            "targets": [t.value for t in action.targets],
            "channels": list(action.channels),
            "due_at": action.due_at.isoformat(),
            "reached_at": action.reached_at.isoformat(),
        },
    )
