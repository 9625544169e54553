"""Who may see and act on which alert: role from R2 position, jurisdiction from the R1 tree.

A brigade chief sees his brigade, a detachment chief his detachment, the provincial leadership
and inspectors their unit's subtree (the province: everything), the supervision post its unit.
Anyone named on an alert (owner, copy, delegate) sees it. An actor of the alerted records never
does (§4.5): recusal applies to the console as much as to the push.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from auditcage.alerts.models import Alert
from auditcage.errors import Forbidden, NotFound
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


def _people(session: Session, alert_ids: list[int]) -> dict[int, tuple[set[str], set[str]]]:
    """(actors, named) of each alert, in two queries whatever the number of alerts."""
    people: dict[int, tuple[set[str], set[str]]] = {a: (set(), set()) for a in alert_ids}
    if not alert_ids:
        return people
    for alert_id, decision in session.execute(
        select(AlertRouting.alert_id, AlertRouting.decision).where(
            AlertRouting.alert_id.in_(alert_ids)
        )
    ):
        people[alert_id][0].update((decision or {}).get("actors") or ())
    for row in session.scalars(
        select(AlertAssignment).where(AlertAssignment.alert_id.in_(alert_ids))
    ):
        named = people[row.alert_id][1]
        named.update(row.owner_ids, row.copy_ids)
        if row.delegated_to:
            named.add(row.delegated_to)
    return people


def visible(
    session: Session, ref: ReferenceIndex, viewer: Viewer, alerts: Sequence[Alert]
) -> list[Alert]:
    """The alerts this viewer may see, in their order."""
    people = _people(session, [a.id for a in alerts])
    out = []
    for alert in alerts:
        actors, named = people[alert.id]
        if viewer.staff_id in actors:
            continue
        if viewer.staff_id in named or (
            viewer.role != "staff" and in_subtree(ref, alert.unit_code, viewer.unit_code)
        ):
            out.append(alert)
    return out


def can_see(session: Session, ref: ReferenceIndex, viewer: Viewer, alert: Alert) -> bool:
    return bool(visible(session, ref, viewer, [alert]))


def check_see(session: Session, ref: ReferenceIndex, viewer: Viewer, alert: Alert) -> None:
    if not can_see(session, ref, viewer, alert):
        # The same answer as a missing alert: another brigade learns nothing from an id.
        raise NotFound(f"alert {alert.id} not found")


def check_action(viewer: Viewer, action: str) -> None:
    """For an alert the viewer may see (check_see): inspection actions need an inspector (or the
    provincial leadership). Owners' actions are checked again by the lifecycle."""
    if action in INSPECTION_ACTIONS and viewer.role not in ("inspector", "leadership"):
        raise Forbidden(f"{action}: only discipline inspection may do this")
