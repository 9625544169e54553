"""The inspectors' queue and the chiefs' inbox: which alerts, filtered and sorted in SQL.

The database narrows first (jurisdiction as the set of unit codes of the viewer's subtree, or
being named on the alert; the filters; the operator's own alerts left out), counts and cuts the
page; `access.visible` then applies the full rule (recusal of every actor, not only the
operator) to the rows of the page, so a page may show fewer rows than asked, never more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Final

from sqlalchemy import String, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from auditcage import clock
from auditcage.alerts.models import Alert, AlertStatus
from auditcage.reference.index import ReferenceIndex
from notifications.access import Viewer, visible
from notifications.lifecycle_models import AlertAssignment, AlertDeadline
from notifications.routing_models import AlertRouting

RULE_FAMILIES: Final = ("VEH", "LIC", "ACC", "VIO", "STF", "CP")
SEVERITIES: Final = ("red", "orange", "yellow", "blue")
SORTS: Final = ("time", "severity", "deadline")
OPEN_STATUSES: Final = tuple(
    s.value for s in AlertStatus if s not in (AlertStatus.CLOSED, AlertStatus.DISMISSED)
)
EXPORT_LIMIT: Final = 5000  # rows in one Excel file; narrow the filters for more


@dataclass(frozen=True)
class QueueFilter:
    severity: str | None = None
    status: str | None = None
    unit_code: str | None = None  # with its subtree
    family: str | None = None  # VEH, LIC, …: the prefix of a rule id
    rule_id: str | None = None
    operator_id: str | None = None
    since: date | None = None  # first_at on or after this day
    until: date | None = None  # first_at on or before this day
    sort: str = "time"


@dataclass(frozen=True)
class QueueRow:
    alert: Alert
    operator_id: str | None
    next_due_at: datetime | None

    @property
    def overdue(self) -> bool:
        return self.next_due_at is not None and self.next_due_at < clock.now()


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    total: int  # matching alerts before recusal of actors other than the operator
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class InboxItem:
    alert: Alert
    roles: tuple[str, ...]  # owner, copy, delegate: how the viewer is named
    next_step: str | None
    next_due_at: datetime | None
    deadlines: list[AlertDeadline] = field(default_factory=list)

    @property
    def overdue(self) -> bool:
        return self.next_due_at is not None and self.next_due_at < clock.now()


def subtree(ref: ReferenceIndex, unit_code: str | None) -> set[str]:
    """The unit and every unit below it in R1."""
    if not unit_code:
        return set()
    children: dict[str, list[str]] = {}
    for row in ref.rows("units"):
        parent = row.get("parent_code")
        if parent:
            children.setdefault(str(parent), []).append(str(row["unit_code"]))
    out, todo = set(), [unit_code]
    while todo:
        code = todo.pop()
        if code in out:
            continue
        out.add(code)
        todo.extend(children.get(code, ()))
    return out


def _json_has(column: Any, value: str) -> ColumnElement[bool]:
    """A JSON list column holding this string (its text form contains "value", on SQLite and
    PostgreSQL alike)."""
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return cast(column, String).like(f'%"{escaped}"%', escape="\\")


def _named(viewer: Viewer) -> ColumnElement[bool]:
    return or_(
        _json_has(AlertAssignment.owner_ids, viewer.staff_id),
        _json_has(AlertAssignment.copy_ids, viewer.staff_id),
        AlertAssignment.delegated_to == viewer.staff_id,
    )


def _next_due() -> Any:
    return (
        select(func.min(AlertDeadline.due_at))
        .where(AlertDeadline.alert_id == Alert.id, AlertDeadline.active.is_(True))
        .correlate(Alert)
        .scalar_subquery()
    )


def _where(ref: ReferenceIndex, viewer: Viewer, f: QueueFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Alert.shadow.is_(False)]
    mine = subtree(ref, viewer.unit_code) if viewer.role != "staff" else set()
    conditions.append(or_(Alert.unit_code.in_(sorted(mine)), _named(viewer)))
    # The operator of the alerted business never sees it (§4.5); the other actors are left
    # out by access.visible on the page.
    conditions.append(
        or_(AlertRouting.operator_id.is_(None), AlertRouting.operator_id != viewer.staff_id)
    )
    if f.severity:
        conditions.append(Alert.severity == f.severity)
    if f.status:
        conditions.append(Alert.status == f.status)
    if f.unit_code:
        conditions.append(Alert.unit_code.in_(sorted(subtree(ref, f.unit_code))))
    if f.family:
        prefix = f.family.upper().replace("%", "").replace("_", "")
        conditions.append(cast(Alert.rule_ids, String).like(f'%"{prefix}-%'))
    if f.rule_id:
        conditions.append(_json_has(Alert.rule_ids, f.rule_id.strip().upper()))
    if f.operator_id:
        conditions.append(AlertRouting.operator_id == f.operator_id.strip())
    if f.since:
        conditions.append(Alert.first_at >= datetime.combine(f.since, time(), clock.SHANGHAI))
    if f.until:
        end = datetime.combine(f.until + timedelta(days=1), time(), clock.SHANGHAI)
        conditions.append(Alert.first_at < end)
    return conditions


def _order(f: QueueFilter, next_due: Any) -> list[Any]:
    rank = case({"red": 0, "orange": 1, "yellow": 2, "blue": 3}, value=Alert.severity, else_=4)
    if f.sort == "severity":
        return [rank, Alert.first_at.desc(), Alert.id.desc()]
    if f.sort == "deadline":
        # Soonest (most overdue) first; alerts with nothing due go last.
        return [next_due.is_(None), next_due, rank, Alert.id.desc()]
    return [Alert.first_at.desc(), Alert.id.desc()]


def _base(conditions: Sequence[ColumnElement[bool]], *columns: Any) -> Any:
    return (
        select(*columns)
        .select_from(Alert)
        .outerjoin(AlertRouting, AlertRouting.alert_id == Alert.id)
        .outerjoin(AlertAssignment, AlertAssignment.alert_id == Alert.id)
        .where(and_(*conditions))
    )


def queue_page(
    session: Session,
    ref: ReferenceIndex,
    viewer: Viewer,
    f: QueueFilter,
    *,
    page: int = 1,
    per_page: int = 50,
) -> QueuePage:
    conditions = _where(ref, viewer, f)
    total = session.scalar(_base(conditions, func.count(Alert.id))) or 0
    page = max(1, min(page, max(1, -(-total // per_page))))
    rows = _rows(session, ref, viewer, f, conditions, limit=per_page, offset=(page - 1) * per_page)
    return QueuePage(rows, total, page, per_page)


def queue_all(
    session: Session, ref: ReferenceIndex, viewer: Viewer, f: QueueFilter
) -> list[QueueRow]:
    """Every matching alert (up to EXPORT_LIMIT), for the Excel export."""
    return _rows(session, ref, viewer, f, _where(ref, viewer, f), limit=EXPORT_LIMIT, offset=0)


def _rows(
    session: Session,
    ref: ReferenceIndex,
    viewer: Viewer,
    f: QueueFilter,
    conditions: Sequence[ColumnElement[bool]],
    *,
    limit: int,
    offset: int,
) -> list[QueueRow]:
    next_due = _next_due()
    query = (
        _base(conditions, Alert, AlertRouting.operator_id, next_due.label("next_due"))
        .order_by(*_order(f, next_due))
        .limit(limit)
        .offset(offset)
    )
    found = session.execute(query).all()
    shown = {a.id for a in visible(session, ref, viewer, [row[0] for row in found])}
    return [
        QueueRow(alert, operator, clock.to_shanghai(due) if due is not None else None)
        for alert, operator, due in found
        if alert.id in shown
    ]


def inbox(session: Session, ref: ReferenceIndex, viewer: Viewer) -> list[InboxItem]:
    """The open alerts naming the viewer (owner, copy or delegate), most urgent first."""
    next_due = _next_due()
    found = session.execute(
        select(Alert, AlertAssignment, next_due.label("next_due"))
        .join(AlertAssignment, AlertAssignment.alert_id == Alert.id)
        .where(Alert.shadow.is_(False), Alert.status.in_(OPEN_STATUSES), _named(viewer))
        .order_by(next_due.is_(None), next_due, Alert.first_at.desc())
    ).all()
    shown = {a.id for a in visible(session, ref, viewer, [row[0] for row in found])}
    ids = [alert.id for alert, _, _ in found if alert.id in shown]
    deadlines: dict[int, list[AlertDeadline]] = {i: [] for i in ids}
    if ids:
        for row in session.scalars(
            select(AlertDeadline)
            .where(AlertDeadline.alert_id.in_(ids), AlertDeadline.active.is_(True))
            .order_by(AlertDeadline.due_at)
        ):
            deadlines[row.alert_id].append(row)
    items = []
    for alert, assignment, _ in found:
        if alert.id not in shown:
            continue
        roles = []
        if viewer.staff_id in assignment.owner_ids:
            roles.append("owner")
        if assignment.delegated_to == viewer.staff_id:
            roles.append("delegate")
        if viewer.staff_id in assignment.copy_ids:
            roles.append("copy")
        open_steps = deadlines[alert.id]
        first = open_steps[0] if open_steps else None
        items.append(
            InboxItem(
                alert,
                tuple(roles),
                first.step if first else None,
                first.due_at if first else None,
                open_steps,
            )
        )
    return items
