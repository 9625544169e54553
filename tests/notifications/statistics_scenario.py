"""Eight alerts of the small province (tests/notifications/province.py) in November 2026, each
taken as far along the §4.4 loop as its line says, so that every dashboard figure can be counted
by hand. Shared by the statistics service tests and the dashboard page tests.

Mondays: 11-02, 11-09, 11-16. NOW is Friday 2026-11-20 12:00.

- on_time, red, VIO-03 + CP-17 (2 hits), 城东窗口1, pushed 11-02 10:00: 签收 10:20, initial
  feedback 20:00, final report 属实 11-04, accepted, closed;
- late, orange, LIC-07, 城东大队, pushed 11-09 10:00: 签收 11-12 (late), final report 部分属实
  11-12 11:00 (so the initial feedback was late), returned 11-13, final 不属实 11-16, accepted;
- unanswered, yellow, CP-05, 城西大队, pushed 11-10 10:00: nothing; 签收 overdue since 11-12;
- dismissed, red, VEH-07, 城西大队, pushed 11-16 10:00: dismissed by the provincial inspector;
- blue, blue, STF-02, 城东大队: never pushed (it waits in the inspectors' queue);
- recused, red, ACC-02, 城东大队, pushed 11-18 10:00: the east chief is an actor (recusal);
  nothing done, 签收 and initial feedback overdue;
- wuxi, red, VIO-11, 无锡支队, pushed 11-20 09:00: new in the red briefing, 签收 overdue;
- october, orange, VIO-03, 城西大队, pushed 10-15 10:10: outside November; 签收 in time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from auditcage import clock
from auditcage.alerts.models import Alert, AlertStatus, Hit
from notifications import lifecycle
from notifications.routing_models import AlertRouting
from tests.notifications import province as p

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=clock.SHANGHAI)

CONFIRMED: dict[str, Any] = {
    "kind": "final",
    "verification_methods": ["video_reviewed", "system_logs"],
    "facts": "协勤人员代民警账号办理消分业务 3 笔。",
    "persons_responsible": [p.OPERATOR],
    "finding": "confirmed",
    "disposal": ["dismiss_auxiliary"],
    "business_remedy": ["revoke_business"],
}
PARTLY: dict[str, Any] = {**CONFIRMED, "finding": "partly"}
UNFOUNDED: dict[str, Any] = {
    "kind": "final",
    "verification_methods": ["file_retrieved"],
    "facts": "档案齐全，系审批后补录。",
    "finding": "unfounded",
    "reason_code": "authorised_exception",
}
INITIAL: dict[str, Any] = {"kind": "initial", "facts": "已调取窗口视频，正在核查。"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=clock.SHANGHAI)


def travel(text: str) -> None:
    clock.freeze(at(text))


def _alert(
    session: Session, severity: str, rules: list[str], unit: str, first: str, hits: int = 1
) -> Alert:
    alert = Alert(
        group_key=f"{rules[0]}||test|{first}",
        rule_ids=rules,
        severity=severity,
        status=AlertStatus.NEW,
        unit_code=unit,
        serial_no=None,
        first_at=at(first),
        last_at=at(first),
    )
    session.add(alert)
    session.flush()
    for n in range(hits):
        rule = rules[min(n, len(rules) - 1)]
        session.add(
            Hit(
                id=f"stat-{alert.id}-{n}",
                rule_id=rule,
                sub=None,
                severity=severity,
                kind="C",
                aspect=None,
                key=f"test;{alert.id};{n}",
                serials=[],
                record_ids=[],
                unit_code=unit,
                at=at(first),
                message=f"{rule}：当事人 {p.CITIZEN} 的业务异常",
                rule_version="test",
                anchor_record_id=None,
                detail={},
                alert_id=alert.id,
            )
        )
    session.flush()
    return alert


def _push(
    session: Session, alert: Alert, when: str, owners: list[str], actors: tuple[str, ...] = ()
) -> None:
    session.add(
        AlertRouting(
            alert_id=alert.id,
            routed_at=at(when),
            at=alert.first_at,
            rule_severity=alert.severity,
            severity=alert.severity,
            operator_id=actors[0] if actors else None,
            brigade_code=None,
            identities=[],
            push="instant",
            lead_alert_id=None,
            decision={"actors": list(actors)},
        )
    )
    travel(when)
    lifecycle.open_tracking(session, alert, owners=owners, routed_at=at(when))


def build(session: Session) -> dict[str, int]:
    """Store the scenario's alerts and their loop; the alert id of each line, by name."""
    try:
        return _build(session)
    finally:
        clock.freeze(None)


def _build(session: Session) -> dict[str, int]:
    owners_red = [p.EAST_CHIEF, p.DETACHMENT_CHIEF]
    on_time = _alert(session, "red", ["VIO-03", "CP-17"], p.EAST_WINDOW, "2026-11-02T09:40", 2)
    _push(session, on_time, "2026-11-02T10:00", owners_red)
    travel("2026-11-02T10:20")
    lifecycle.acknowledge(session, on_time.id, p.EAST_CHIEF)
    travel("2026-11-02T20:00")
    lifecycle.submit_feedback(session, on_time.id, p.EAST_CHIEF, INITIAL)
    travel("2026-11-04T10:00")
    lifecycle.submit_feedback(session, on_time.id, p.EAST_CHIEF, CONFIRMED)
    travel("2026-11-05T09:00")
    lifecycle.review(session, on_time.id, p.DETACHMENT_INSPECTOR, "accept")
    lifecycle.close(session, on_time.id, p.DETACHMENT_INSPECTOR)

    late = _alert(session, "orange", ["LIC-07"], p.EAST, "2026-11-09T09:30")
    _push(session, late, "2026-11-09T10:00", [p.EAST_CHIEF])
    travel("2026-11-12T10:00")
    lifecycle.acknowledge(session, late.id, p.EAST_CHIEF)
    travel("2026-11-12T11:00")
    lifecycle.submit_feedback(session, late.id, p.EAST_CHIEF, PARTLY)
    travel("2026-11-13T09:00")
    lifecycle.review(session, late.id, p.DETACHMENT_INSPECTOR, "return", "缺少谈话笔录")
    travel("2026-11-16T10:00")
    lifecycle.submit_feedback(session, late.id, p.EAST_CHIEF, UNFOUNDED)
    travel("2026-11-17T09:00")
    lifecycle.review(session, late.id, p.DETACHMENT_INSPECTOR, "accept")

    unanswered = _alert(session, "yellow", ["CP-05"], p.WEST, "2026-11-10T09:00")
    _push(session, unanswered, "2026-11-10T10:00", [p.WEST_SUPERVISION])

    dismissed = _alert(session, "red", ["VEH-07"], p.WEST, "2026-11-16T09:50")
    _push(session, dismissed, "2026-11-16T10:00", [p.DETACHMENT_CHIEF])
    travel("2026-11-16T10:10")
    lifecycle.dismiss(session, dismissed.id, p.PROVINCE_INSPECTOR, "rule_too_broad")

    blue = _alert(session, "blue", ["STF-02"], p.EAST, "2026-11-18T14:00")

    recused = _alert(session, "red", ["ACC-02"], p.EAST, "2026-11-18T09:30")
    _push(session, recused, "2026-11-18T10:00", [p.DETACHMENT_CHIEF], actors=(p.EAST_CHIEF,))

    wuxi = _alert(session, "red", ["VIO-11"], p.WUXI, "2026-11-20T08:30")
    _push(session, wuxi, "2026-11-20T09:00", [p.WUXI_CHIEF])

    october = _alert(session, "orange", ["VIO-03"], p.WEST, "2026-10-15T10:00")
    _push(session, october, "2026-10-15T10:10", [p.WEST_SUPERVISION])
    travel("2026-10-15T10:15")
    lifecycle.acknowledge(session, october.id, p.WEST_SUPERVISION)
    return {
        "on_time": on_time.id,
        "late": late.id,
        "unanswered": unanswered.id,
        "dismissed": dismissed.id,
        "blue": blue.id,
        "recused": recused.id,
        "wuxi": wuxi.id,
        "october": october.id,
    }
