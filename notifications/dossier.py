"""Everything known about one alert, for its detail page: the hits and the records they rest on,
related alerts, its lead, deliveries, its own history, deadlines, reports and review decisions.

Values are as stored; the page masks personal data (api/console/privacy.py). Delivery rows give
the channel's scheme only: the URLs may hold credentials.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import String, cast, or_, select
from sqlalchemy.orm import Session

from auditcage import clock
from auditcage.alerts.models import Alert, Hit
from auditcage.records.models import Record
from auditcage.reference.index import ReferenceIndex
from notifications import alert_views
from notifications.access import Viewer, visible
from notifications.attachment_models import Attachment
from notifications.lifecycle_models import (
    AlertAssignment,
    AlertDeadline,
    AlertEvent,
    FeedbackReport,
    ReviewDecision,
)
from notifications.models import DeliveryAttempt, OutboxMessage
from notifications.routing_models import AlertRouting

RELATED_LIMIT: Final = 20  # per kind of relation
RECORD_LIMIT: Final = 200  # evidence records on one page


@dataclass(frozen=True)
class Delivery:
    message: OutboxMessage
    schemes: list[str]  # of its channels, in fallback order
    attempts: list[DeliveryAttempt]


@dataclass(frozen=True)
class Deadline:
    row: AlertDeadline

    @property
    def state(self) -> str:
        """met | overdue | due (open) | stopped (closed without being met)."""
        if self.row.met_at is not None:
            return "met_late" if self.row.met_at > self.row.due_at else "met"
        if not self.row.active:
            return "stopped"
        return "overdue" if self.row.due_at < clock.now() else "due"


@dataclass(frozen=True)
class Dossier:
    alert: Alert
    hits: list[Hit]
    records: list[Record]  # the evidence, in time order
    routing: AlertRouting | None
    assignment: AlertAssignment | None
    lead: Alert | None  # the lead (线索) this alert belongs to, if visible
    members: list[Alert]  # if this alert is a lead: its visible members
    related: dict[str, list[Alert]]  # operator | serial_no | subject → visible alerts
    deliveries: list[Delivery]
    events: list[AlertEvent]
    deadlines: list[Deadline]
    reports: list[FeedbackReport]
    reviews: list[ReviewDecision]
    attachments: list[Attachment]

    @property
    def handlers(self) -> set[str]:
        if self.assignment is None:
            return set()
        out = set(self.assignment.owner_ids)
        if self.assignment.delegated_to:
            out.add(self.assignment.delegated_to)
        return out


def dossier(session: Session, ref: ReferenceIndex, viewer: Viewer, alert_id: int) -> Dossier:
    """The alert's file, if this viewer may see it (NotFound otherwise, as a missing alert)."""
    alert = alert_views.get_visible(session, ref, viewer, alert_id)
    hits = list(session.scalars(select(Hit).where(Hit.alert_id == alert.id).order_by(Hit.at)))
    record_ids = sorted({rid for h in hits for rid in h.record_ids})[:RECORD_LIMIT]
    records = (
        list(
            session.scalars(
                select(Record)
                .where(Record.record_id.in_(record_ids))
                .order_by(Record.action_time, Record.seq)
            )
        )
        if record_ids
        else []
    )
    routing = session.get(AlertRouting, alert.id)
    assignment = session.scalar(select(AlertAssignment).where(AlertAssignment.alert_id == alert.id))
    lead = None
    if routing is not None and routing.lead_alert_id is not None:
        found = session.get(Alert, routing.lead_alert_id)
        lead = next(iter(visible(session, ref, viewer, [found])), None) if found else None
    members = visible(
        session,
        ref,
        viewer,
        list(
            session.scalars(
                select(Alert)
                .join(AlertRouting, AlertRouting.alert_id == Alert.id)
                .where(AlertRouting.lead_alert_id == alert.id)
                .order_by(Alert.first_at)
            )
        ),
    )
    return Dossier(
        alert=alert,
        hits=hits,
        records=records,
        routing=routing,
        assignment=assignment,
        lead=lead,
        members=members,
        related=_related(session, ref, viewer, alert, routing, records),
        deliveries=_deliveries(session, alert.id),
        events=_all(session, AlertEvent, alert.id, AlertEvent.id),
        deadlines=[Deadline(d) for d in _all(session, AlertDeadline, alert.id, AlertDeadline.id)],
        reports=_all(session, FeedbackReport, alert.id, FeedbackReport.id),
        reviews=_all(session, ReviewDecision, alert.id, ReviewDecision.id),
        attachments=_all(session, Attachment, alert.id, Attachment.id),
    )


def _all(session: Session, model: Any, alert_id: int, order: Any) -> list[Any]:
    return list(session.scalars(select(model).where(model.alert_id == alert_id).order_by(order)))


def _related(
    session: Session,
    ref: ReferenceIndex,
    viewer: Viewer,
    alert: Alert,
    routing: AlertRouting | None,
    records: list[Record],
) -> dict[str, list[Alert]]:
    """Other alerts of the same operator, the same business item (serial_no), or the same
    subject (a licence, plate, agent, phone or IP shared with this alert's records)."""
    out: dict[str, list[Alert]] = {}
    base = select(Alert).where(Alert.id != alert.id, Alert.shadow.is_(False))
    if routing is not None and routing.operator_id:
        out["operator"] = _visible(
            session,
            ref,
            viewer,
            base.join(AlertRouting, AlertRouting.alert_id == Alert.id).where(
                AlertRouting.operator_id == routing.operator_id
            ),
        )
    serials = {alert.serial_no} if alert.serial_no else set()
    serials |= {r.serial_no for r in records if r.serial_no}
    if serials:
        out["serial_no"] = _visible(
            session, ref, viewer, base.where(Alert.serial_no.in_(sorted(serials)))
        )
    identities = [
        i
        for i in (routing.identities if routing is not None else []) or []
        if not i.startswith("operator_id=")
    ][:8]
    subjects = {r.subject_id_no for r in records if r.subject_id_no}
    if identities or subjects:
        conditions = [cast(AlertRouting.identities, String).like(f'%"{i}"%') for i in identities]
        conditions += [
            cast(AlertRouting.identities, String).like(f'%"license_no={s}"%') for s in subjects
        ]
        out["subject"] = _visible(
            session,
            ref,
            viewer,
            base.join(AlertRouting, AlertRouting.alert_id == Alert.id).where(or_(*conditions)),
        )
    return out


def _visible(session: Session, ref: ReferenceIndex, viewer: Viewer, query: Any) -> list[Alert]:
    rows = list(session.scalars(query.order_by(Alert.first_at.desc()).limit(RELATED_LIMIT * 3)))
    return visible(session, ref, viewer, rows)[:RELATED_LIMIT]


def _deliveries(session: Session, alert_id: int) -> list[Delivery]:
    messages = list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.alert_id == alert_id)
            .order_by(OutboxMessage.id)
        )
    )
    attempts: dict[int, list[DeliveryAttempt]] = {m.id: [] for m in messages}
    if messages:
        for attempt in session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.outbox_id.in_(list(attempts)))
            .order_by(DeliveryAttempt.id)
        ):
            attempts[attempt.outbox_id].append(attempt)
    return [
        Delivery(m, [scheme_of(url) for url in m.channels or ()], attempts[m.id]) for m in messages
    ]


def scheme_of(url: str) -> str:
    """ "mailto" of "mailto://user:secret@host": never the rest."""
    scheme, sep, _ = str(url).partition("://")
    return scheme if sep and scheme.isascii() and scheme.replace("+", "").isalnum() else "?"
