"""Missed deadlines into messages: each escalation rung of the sweeper (notifications.sweeper),
turned into recipients for the alert's unit (with the routing's recusal) and outbox rows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from auditcage import clock
from auditcage.alerts.models import Alert, Hit
from auditcage.audit import trail
from notifications import messages, sweeper
from notifications.deadlines import Target
from notifications.lifecycle_models import AlertAssignment
from notifications.pipeline import ACTOR, Notifier, facts_of, queue, records_of, summarise
from notifications.policy import Selector
from notifications.routing import Recipient, recipients_for

TARGET_SELECTORS: dict[Target, tuple[str, ...]] = {
    Target.BRIGADE_HEAD: ("brigade.head",),
    Target.DETACHMENT_HEAD: ("detachment.head",),
    Target.DETACHMENT_INSPECTION: ("detachment.discipline",),
    Target.DETACHMENT_SUPERVISION_OFFICE: ("detachment.supervision",),
    Target.PROVINCE_LEADERSHIP: ("province.leadership",),
    Target.PROVINCE_INSPECTION: ("province.discipline",),
    Target.PROVINCE_SUPERVISION_OFFICE: ("province.supervision",),
    Target.REVIEWERS: ("detachment.discipline",),
}


def escalate(session: Session, notifier: Notifier, *, now: datetime | None = None) -> int:
    """Turn every escalation rung reached by `now` into messages to its targets."""
    actions = sweeper.sweep(
        session, now or clock.now(), policy=notifier.deadlines, timekeeper=notifier.timekeeper
    )
    for action in actions:
        alert = session.get(Alert, action.alert_id)
        if alert is None:
            continue
        hits = session.scalars(select(Hit).where(Hit.alert_id == alert.id)).all()
        people = _targets(session, notifier, alert, hits, action.targets)
        summary = summarise(notifier, alert, hits)
        for person in people:
            message = messages.escalation(
                summary,
                kind=str(action.kind),
                step=str(action.step),
                level=action.level,
                due=action.due_at,
                link=notifier.link(alert.id, person.staff_id, "open"),
            )
            queue(
                session,
                person,
                message,
                kind="escalation",
                dedupe_key=action.dedupe_key,
                alert_id=alert.id,
            )
    return len(actions)


def _targets(
    session: Session,
    notifier: Notifier,
    alert: Alert,
    hits: Sequence[Hit],
    targets: Iterable[Target],
) -> list[Recipient]:
    people: dict[str, Recipient] = {}
    assignment = session.scalar(select(AlertAssignment).where(AlertAssignment.alert_id == alert.id))
    facts = facts_of(alert, hits, records_of(session, hits))
    for target in targets:
        if target is Target.SAME_RECIPIENTS and assignment is not None:
            for staff_id in [*assignment.owner_ids, *assignment.copy_ids]:
                row = notifier.ref.get("staff", staff_id, at=alert.first_at) or {}
                people.setdefault(
                    staff_id,
                    Recipient(
                        staff_id, "same", alert.unit_code, tuple(row.get("notify") or ()), "re-push"
                    ),
                )
            continue
        selectors = [Selector.parse(s) for s in TARGET_SELECTORS.get(target, ())]
        found, notes = recipients_for(selectors, facts, notifier.ref)
        for sub in notes:
            trail.record(
                session,
                actor=ACTOR,
                action="routing.substitution",
                subject=("alert", alert.id),
                detail={
                    "original": sub.original,
                    "substitute": sub.substitute,
                    "reason": sub.reason,
                },
            )
        for person in found:
            people.setdefault(person.staff_id, person)
    return list(people.values())
