"""Digests and reports (§4.3 逐级回告): the 08:00 red briefing, the daily yellow digest, the weekly
report with its figures, and the notice to discipline inspection of oranges closed as 属实."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from auditcage import clock
from auditcage.alerts.models import Alert, AlertStatus, Hit
from notifications import messages, reports
from notifications.access import in_subtree
from notifications.lifecycle_models import AlertDeadline, FeedbackReport
from notifications.pipeline import Notifier, facts_of, queue, records_of, summarise
from notifications.policy import Selector
from notifications.routing import digest_due, digest_recipients, digest_slot, recipients_for
from notifications.routing_models import AlertRouting

DIGEST_TITLES = {
    "red_briefing": "每日红色预警通报",
    "daily_digest": "每日黄色预警汇总",
    "weekly_report": "每周预警统计报告",
}
DIGEST_SEVERITIES = {
    "red_briefing": ("red",),
    "daily_digest": ("yellow", "orange"),
    "weekly_report": ("red", "orange", "yellow", "blue"),
}


def send_digests(session: Session, notifier: Notifier, *, now: datetime | None = None) -> int:
    """Queue each digest due by `now` once per slot, one message per recipient (their units)."""
    now = now or clock.now()
    assert notifier.calendar is not None
    queued = 0
    for name in digest_due(notifier.policy, now, notifier.calendar):
        slot = digest_slot(name, notifier.policy, now, notifier.calendar)
        if slot is None:
            continue
        span = timedelta(days=7) if name == "weekly_report" else timedelta(days=1)
        if name == "red_briefing":
            alerts = red_briefing_alerts(session, since=slot - span, until=slot)
        else:
            severities = DIGEST_SEVERITIES.get(name, ("red",))
            alerts = routed_alerts(session, severities, since=slot - span, until=slot)
        for person in digest_recipients(name, notifier.policy, notifier.ref, slot):
            title = DIGEST_TITLES.get(name, name)
            if name == "weekly_report":
                figures = reports.weekly_figures(
                    session,
                    slot - span,
                    slot,
                    lambda code, unit=person.unit_code: in_subtree(notifier.ref, code, unit),
                )
                message = messages.weekly_report(title, slot, figures, notifier.settings.public_url)
            else:
                mine = [
                    a for a in alerts if in_subtree(notifier.ref, a.unit_code, person.unit_code)
                ]
                summaries = [summarise(notifier, a, []) for a in mine]
                message = messages.digest(title, slot, summaries, notifier.settings.public_url)
            queue(
                session,
                person,
                message,
                kind="digest",
                dedupe_key=f"digest:{name}:{slot.isoformat()}:{person.unit_code}",
                alert_id=None,
            )
            queued += 1
    return queued


def red_briefing_alerts(session: Session, *, since: datetime, until: datetime) -> list[Alert]:
    """The 08:00 red briefing's alerts (§4.3): reds routed in [since, until), then reds overdue
    at `until` on acknowledgement or feedback; each once. The console's briefing page shows it."""
    new = routed_alerts(session, ("red",), since=since, until=until)
    return list(dict.fromkeys([*new, *overdue_reds(session, until)]))


def routed_alerts(
    session: Session, severities: Sequence[str], *, since: datetime, until: datetime
) -> list[Alert]:
    return list(
        session.scalars(
            select(Alert)
            .join(AlertRouting, AlertRouting.alert_id == Alert.id)
            .where(
                AlertRouting.routed_at >= since,
                AlertRouting.routed_at < until,
                Alert.severity.in_(severities),
                Alert.shadow.is_(False),
            )
            .order_by(Alert.first_at)
        ).all()
    )


def overdue_reds(session: Session, at: datetime) -> list[Alert]:
    return list(
        session.scalars(
            select(Alert)
            .join(AlertDeadline, AlertDeadline.alert_id == Alert.id)
            .where(
                Alert.severity == "red",
                AlertDeadline.active.is_(True),
                AlertDeadline.met_at.is_(None),
                AlertDeadline.due_at < at,
            )
            .distinct()
        ).all()
    )


def notify_confirmed(session: Session, notifier: Notifier, *, now: datetime | None = None) -> int:
    """Discipline inspection hears of every orange alert closed as 属实 (§4.3)."""
    now = now or clock.now()
    closed = session.scalars(
        select(Alert)
        .join(FeedbackReport, FeedbackReport.alert_id == Alert.id)
        .where(
            Alert.severity == "orange",
            Alert.status == AlertStatus.CLOSED,
            Alert.status_changed_at >= now - timedelta(days=7),
            FeedbackReport.kind == "final",
            FeedbackReport.finding == "confirmed",
        )
        .distinct()
    ).all()
    queued = 0
    for alert in closed:
        hits = session.scalars(select(Hit).where(Hit.alert_id == alert.id)).all()
        facts = facts_of(alert, hits, records_of(session, hits))
        selectors = [Selector.parse("detachment.discipline"), Selector.parse("province.discipline")]
        people, _ = recipients_for(selectors, facts, notifier.ref, kind="confirmed")
        summary = summarise(notifier, alert, hits)
        for person in people:
            message = messages.confirmed(summary, notifier.link(alert.id, person.staff_id, "open"))
            queue(
                session,
                person,
                message,
                kind="confirmed",
                dedupe_key=f"alert:{alert.id}:confirmed",
                alert_id=alert.id,
            )
            queued += 1
    return queued
