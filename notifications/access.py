"""Who may see and act on which alert: role from R2 position, jurisdiction from the R1 tree.

A brigade chief sees his brigade, a detachment chief his detachment, the provincial leadership
and inspectors their unit's subtree (the province: everything), the supervision post its unit.
Anyone named on an alert (owner, copy, delegate) sees it. An actor of the alerted records never
does (§4.5): recusal applies to the console as much as to the push.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from auditcage.alerts.models import Alert
from auditcage.errors import Forbidden
from auditcage.reference.index import ReferenceIndex
from notifications.lifecycle_models import AlertAssignment
from notifications.routing_models import AlertRouting

ROLE_OF_POSITION = {
    "brigade_head": "chief",
    "deputy_brigade_head": "chief",
    "detachment_head": "chief",
    "deputy_detachment_head": "chief",
    "province_head": "leadership",
    "deputy_province_head": "leadership",
    "inspector_discipline": "inspector",
    "supervision_post": "supervision",
}
INSPECTION_ACTIONS = frozenset({"review", "dismiss", "assign"})


@dataclass(frozen=True)
class Viewer:
    staff_id: str
    role: str  # chief | leadership | inspector | supervision | staff
    unit_code: str | None

    @property
    def label(self) -> str:
        return f"staff:{self.staff_id}"


def viewer_of(ref: ReferenceIndex, staff_id: str) -> Viewer:
    row = ref.get("staff", staff_id)
    if row is None or row.get("status") != "active":
        raise Forbidden(f"{staff_id} is not active staff")
    return Viewer(
        staff_id, ROLE_OF_POSITION.get(str(row.get("position")), "staff"), row.get("unit_code")
    )


def in_subtree(ref: ReferenceIndex, unit_code: str | None, ancestor: str | None) -> bool:
    if not unit_code or not ancestor:
        return False
    seen: set[str] = set()
    row = ref.get("units", unit_code)
    while row is not None and row["unit_code"] not in seen:
        if row["unit_code"] == ancestor:
            return True
        seen.add(row["unit_code"])
        parent = row.get("parent_code")
        row = ref.get("units", parent) if parent else None
    return False


def _named(session: Session, alert_id: int) -> set[str]:
    assignment = session.query(AlertAssignment).filter_by(alert_id=alert_id).one_or_none()
    if assignment is None:
        return set()
    names = {*assignment.owner_ids, *assignment.copy_ids}
    if assignment.delegated_to:
        names.add(assignment.delegated_to)
    return names


def actors_of(session: Session, alert_id: int) -> set[str]:
    routing = session.get(AlertRouting, alert_id)
    decision: dict[str, Any] = routing.decision if routing is not None else {}
    return set(decision.get("actors") or ())


def can_see(session: Session, ref: ReferenceIndex, viewer: Viewer, alert: Alert) -> bool:
    if viewer.staff_id in actors_of(session, alert.id):
        return False
    if viewer.staff_id in _named(session, alert.id):
        return True
    if viewer.role == "staff":
        return False
    return in_subtree(ref, alert.unit_code, viewer.unit_code)


def check_see(session: Session, ref: ReferenceIndex, viewer: Viewer, alert: Alert) -> None:
    if not can_see(session, ref, viewer, alert):
        # The same answer as a missing alert: another brigade learns nothing from an id.
        from auditcage.errors import NotFound

        raise NotFound(f"alert {alert.id} not found")


def check_act(
    session: Session, ref: ReferenceIndex, viewer: Viewer, alert: Alert, action: str
) -> None:
    """Seeing comes first; inspection actions need an inspector (or the provincial leadership)
    of the alert's jurisdiction. Owners' actions are checked again by the lifecycle."""
    check_see(session, ref, viewer, alert)
    if action in INSPECTION_ACTIONS and viewer.role not in ("inspector", "leadership"):
        raise Forbidden(f"{action}: only discipline inspection may do this")
