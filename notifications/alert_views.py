"""Alerts as the API and the console show them: masked, filtered to the viewer's jurisdiction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from auditcage import clock
from auditcage.alerts.models import Alert, Hit
from auditcage.errors import NotFound
from auditcage.records.masking import mask_text
from auditcage.reference.index import ReferenceIndex
from notifications import lifecycle
from notifications.access import Viewer, check_see, visible
from notifications.lifecycle_models import AlertEvent
from notifications.routing_models import AlertRouting

LIST_LIMIT = 500


def _iso(value: Any) -> str | None:
    return clock.to_shanghai(value).isoformat() if value is not None else None


def alert_row(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "severity": alert.severity,
        "status": alert.status,
        "rule_ids": list(alert.rule_ids),
        "unit_code": alert.unit_code,
        "serial_no": alert.serial_no,
        "first_at": _iso(alert.first_at),
        "last_at": _iso(alert.last_at),
        "late_data": alert.late_data,
    }


def visible_alerts(
    session: Session,
    ref: ReferenceIndex,
    viewer: Viewer,
    *,
    status: str | None = None,
    severity: str | None = None,
) -> list[dict[str, Any]]:
    query = select(Alert).where(Alert.shadow.is_(False)).order_by(Alert.first_at.desc())
    if status:
        query = query.where(Alert.status == status)
    if severity:
        query = query.where(Alert.severity == severity)
    rows = session.scalars(query.limit(LIST_LIMIT * 4)).all()
    return [alert_row(a) for a in visible(session, ref, viewer, rows)][:LIST_LIMIT]


def get_visible(session: Session, ref: ReferenceIndex, viewer: Viewer, alert_id: int) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None or alert.shadow:
        raise NotFound(f"alert {alert_id} not found")
    check_see(session, ref, viewer, alert)
    return alert


def alert_detail(session: Session, ref: ReferenceIndex, viewer: Viewer, alert_id: int) -> dict:
    alert = get_visible(session, ref, viewer, alert_id)
    hits = session.scalars(select(Hit).where(Hit.alert_id == alert.id).order_by(Hit.at)).all()
    routing = session.get(AlertRouting, alert.id)
    state = lifecycle.tracking(session, alert.id)
    decision = routing.decision if routing is not None else {}
    return {
        **alert_row(alert),
        "hits": [
            {
                "rule_id": h.rule_id,
                "sub": h.sub,
                "severity": h.severity,
                "at": _iso(h.at),
                "message": mask_text(h.message),
                "record_ids": list(h.record_ids),
                "superseded": h.superseded,
            }
            for h in hits
        ],
        "routing": {
            "owners": decision.get("owners", []),
            "copies": decision.get("copies", []),
            "modifiers": decision.get("modifiers", []),
            "substitutions": decision.get("substitutions", []),
            "push": decision.get("push"),
        },
        "deadlines": [
            {
                "step": d.step,
                "due_at": _iso(d.due_at),
                "met_at": _iso(d.met_at),
                "escalation_level": d.escalation_level,
                "active": d.active,
            }
            for d in state.deadlines
        ],
    }


def alert_history(
    session: Session, ref: ReferenceIndex, viewer: Viewer, alert_id: int
) -> list[dict[str, Any]]:
    get_visible(session, ref, viewer, alert_id)
    events = session.scalars(
        select(AlertEvent).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.id)
    ).all()
    return [
        {
            "at": _iso(e.at),
            "actor": e.actor,
            "action": e.action,
            "from_status": e.from_status,
            "to_status": e.to_status,
            "detail": e.detail,
        }
        for e in events
    ]
