"""Time travel through every §4.4 deadline and escalation rung, across the weekend before
National Day 2025 (Saturday 09-27 off, Sunday 09-28 worked), the holiday (10-01..08) and the
adjusted Saturday 10-11. Each rung is checked one second before it is due and when it is due.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from auditcage import clock
from auditcage.alerts.models import Alert, AlertStatus
from auditcage.audit.models import AuditEntry
from auditcage.storage.session import make_engine, make_session_factory
from notifications import lifecycle
from notifications.lifecycle_models import AlertDeadline, AlertEvent
from notifications.sweeper import EscalationAction, sweep

pytestmark = pytest.mark.db

EAST_CHIEF = "P3201001"  # 城东大队长: owns red and orange alerts of 城东
EAST_POST = "P3201009"  # 城东 监管岗: owns yellow alerts
DETACHMENT_CHIEF = "P3200001"  # 支队长: joint owner of red alerts
INSPECTOR = "P3200901"  # 支队督察: reviews reports
EAST = "520102000000"

REPORT = {
    "kind": "final",
    "verification_methods": ["video_reviewed"],
    "facts": "经核查属实。",
    "persons_responsible": ["P3201077"],
    "finding": "confirmed",
    "disposal": ["criticism_education"],
}

Seen = list[tuple[int, str, tuple[str, ...]]]  # (level, kind, targets)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=clock.SHANGHAI)


@pytest.fixture(autouse=True)
def restore_clock() -> Iterator[None]:
    yield
    clock.freeze(None)


def owner_of(severity: str) -> str:
    return EAST_POST if severity == "yellow" else EAST_CHIEF


def push(session: Session, severity: str, when: str) -> int:
    clock.freeze(at(when))
    alert = Alert(
        group_key=f"VIO-03||plate:黔A12345|{severity}",
        rule_ids=["VIO-03"],
        severity=severity,
        status=AlertStatus.NEW,
        unit_code=EAST,
        first_at=at(when),
        last_at=at(when),
    )
    session.add(alert)
    session.flush()
    owners = [owner_of(severity)] + ([DETACHMENT_CHIEF] if severity == "red" else [])
    lifecycle.open_tracking(session, alert, owners=owners, copies=[INSPECTOR], routed_at=at(when))
    return alert.id


def swept(session: Session, when: str, step: str | None = None) -> Seen:
    clock.freeze(at(when))
    return [
        (a.level, a.kind.value, tuple(t.value for t in a.targets))
        for a in sweep(session)
        if step is None or a.step == step
    ]


PI = ("province_inspection",)
LADDERS = [
    pytest.param(
        "red",
        "acknowledge",
        "2025-09-30T23:50:00",  # the night before the holiday: red runs on the wall clock
        [
            ("2025-10-01T00:19:59", []),
            ("2025-10-01T00:20:00", [(1, "re_push", ("same_recipients",))]),
            ("2025-10-01T01:49:59", []),
            ("2025-10-01T01:50:00", [(2, "escalate", ("province_leadership", *PI))]),
            ("2025-10-08T12:00:00", []),  # the ladder is done
        ],
        id="red-acknowledge-30min-repush-2h-province",
    ),
    pytest.param(
        "red",
        "initial_feedback",
        "2025-09-30T23:50:00",
        [
            ("2025-10-01T23:49:59", []),
            ("2025-10-01T23:50:00", [(1, "supervision_notice", PI)]),
        ],
        id="red-initial-feedback-24h",
    ),
    pytest.param(
        "red",
        "final_report",
        "2025-09-30T23:50:00",  # 5 wd: 10-09, 10-10, 10-11 (adjusted Sat), 10-13, 10-14
        [
            ("2025-10-14T23:59:59", []),
            ("2025-10-15T00:00:00", [(1, "supervision_notice", PI), (2, "flag_formal_talk", PI)]),
        ],
        id="red-final-report-5wd-formal-talk",
    ),
    pytest.param(
        "orange",
        "acknowledge",
        "2025-09-26T16:00:00",  # Friday: 1.5 h left, then the adjusted Sunday on Monday hours
        [
            ("2025-09-28T10:59:59", []),
            ("2025-09-28T11:00:00", [(1, "re_push", ("same_recipients",))]),
            ("2025-09-28T23:59:59", []),  # 1 working day after Friday is the Sunday, to 24:00
            ("2025-09-29T00:00:00", [(2, "escalate", ("detachment_head",))]),
        ],
        id="orange-acknowledge-4wh-repush-1wd-detachment-head",
    ),
    pytest.param(
        "orange",
        "initial_feedback",
        "2025-09-26T16:00:00",  # 2 wd: 09-28 (adjusted Sun), 09-29
        [
            ("2025-09-29T23:59:59", []),
            ("2025-09-30T00:00:00", [(1, "supervision_notice", ("detachment_inspection",))]),
        ],
        id="orange-initial-feedback-2wd",
    ),
    pytest.param(
        "orange",
        "final_report",
        "2025-09-26T16:00:00",  # 10 wd: 09-28, 29, 30, 10-09, 10, 11, 13, 14, 15, 16
        [
            ("2025-10-16T23:59:59", []),
            ("2025-10-17T00:00:00", [(1, "supervision_notice", ("detachment_inspection",))]),
            ("2025-10-23T23:59:59", []),  # second overdue: 5 more wd, 10-17 and 10-20..23
            ("2025-10-24T00:00:00", [(2, "supervision_notice", ("province_supervision_office",))]),
        ],
        id="orange-final-report-10wd-then-province-office",
    ),
    pytest.param(
        "yellow",
        "acknowledge",
        "2025-09-30T10:00:00",  # 1 wd: the first working day after the holiday, 10-09
        [
            ("2025-10-09T23:59:59", []),
            ("2025-10-10T00:00:00", [(1, "escalate", ("brigade_head",))]),
            ("2025-10-10T13:29:59", []),  # half a working day later: 4 working hours of 10-10
            (
                "2025-10-10T13:30:00",
                [(2, "supervision_notice", ("detachment_supervision_office",))],
            ),
        ],
        id="yellow-acknowledge-1wd-brigade-head-then-detachment-office",
    ),
    pytest.param(
        "yellow",
        "final_report",
        "2025-09-30T10:00:00",  # 10 wd: 10-09, 10, 11, 13..17, 20, 21
        [
            ("2025-10-21T23:59:59", []),
            ("2025-10-22T00:00:00", [(1, "escalate", ("brigade_head",))]),
            ("2025-10-28T23:59:59", []),  # 5 more wd: 10-22..24, 27, 28
            (
                "2025-10-29T00:00:00",
                [(2, "supervision_notice", ("detachment_supervision_office",))],
            ),
        ],
        id="yellow-final-report-10wd-brigade-head-then-detachment-office",
    ),
]


@pytest.mark.parametrize(("severity", "step", "pushed_at", "timeline"), LADDERS)
def test_each_missed_deadline_climbs_its_ladder_exactly_when_each_rung_is_due(
    session: Session, severity: str, step: str, pushed_at: str, timeline: list[tuple[str, Seen]]
) -> None:
    push(session, severity, pushed_at)
    for when, expected in timeline:
        assert swept(session, when, step) == expected, when


@pytest.mark.parametrize(
    ("severity", "reported_at", "review_due"),
    [
        ("red", "2025-10-10T16:00:00", "2025-10-15T00:00:00"),  # 3 wd: 10-11 (Sat), 10-13, 10-14
        ("orange", "2025-10-09T11:00:00", "2025-10-16T00:00:00"),  # 5 wd: 10-10, 11, 13..15
        ("yellow", "2025-09-30T11:00:00", "2025-10-15T00:00:00"),  # 5 wd: 10-09..11, 13, 14
    ],
)
def test_an_overdue_review_reminds_the_reviewers(
    session: Session, severity: str, reported_at: str, review_due: str
) -> None:
    alert_id = push(session, severity, "2025-09-30T10:00:00")
    lifecycle.acknowledge(session, alert_id, owner_of(severity))
    clock.freeze(at(reported_at))
    lifecycle.submit_feedback(session, alert_id, owner_of(severity), REPORT)
    clock.freeze(at(review_due) - timedelta(seconds=1))
    assert [a for a in sweep(session) if a.step == "review"] == []
    assert swept(session, review_due, "review") == [(1, "re_push", ("reviewers",))]


def test_a_met_deadline_never_escalates(session: Session) -> None:
    alert_id = push(session, "red", "2025-09-30T23:50:00")
    clock.freeze(at("2025-10-01T00:19:00"))
    lifecycle.acknowledge(session, alert_id, DETACHMENT_CHIEF)
    assert swept(session, "2025-10-01T03:00:00", "acknowledge") == []


def test_a_sweep_run_twice_does_not_repeat_an_action(session: Session) -> None:
    push(session, "red", "2025-09-30T23:50:00")
    assert len(swept(session, "2025-10-01T00:20:00")) == 1
    assert swept(session, "2025-10-01T00:20:00") == []
    assert swept(session, "2025-10-01T00:25:00") == []


def test_a_sweeper_that_was_down_catches_up_every_rung_in_order(session: Session) -> None:
    push(session, "red", "2025-09-30T23:50:00")
    assert swept(session, "2025-10-01T06:00:00", "acknowledge") == [
        (1, "re_push", ("same_recipients",)),
        (2, "escalate", ("province_leadership", "province_inspection")),
    ]


def test_a_returned_report_escalates_at_its_halved_deadline(session: Session) -> None:
    alert_id = push(session, "red", "2025-09-29T09:00:00")
    lifecycle.acknowledge(session, alert_id, EAST_CHIEF)
    clock.freeze(at("2025-10-09T15:00:00"))
    lifecycle.submit_feedback(session, alert_id, EAST_CHIEF, REPORT)
    clock.freeze(at("2025-10-10T10:00:00"))
    lifecycle.review(session, alert_id, INSPECTOR, "return", "补充询问笔录")
    assert swept(session, "2025-10-14T13:29:59", "final_report") == []
    assert swept(session, "2025-10-14T13:30:00", "final_report") == [
        (1, "supervision_notice", PI),
        (2, "flag_formal_talk", PI),
    ]


def test_an_assigned_blue_alert_escalates_like_a_yellow_one(session: Session) -> None:
    clock.freeze(at("2025-09-30T10:00:00"))
    alert = Alert(
        group_key="DQ|unit:520102000000",
        rule_ids=["STF-09"],
        severity="blue",
        unit_code=EAST,
        first_at=clock.now(),
        last_at=clock.now(),
    )
    session.add(alert)
    session.flush()
    lifecycle.assign(session, alert.id, INSPECTOR, EAST, owners=[EAST_POST])
    assert swept(session, "2025-10-10T00:00:00", "acknowledge") == [
        (1, "escalate", ("brigade_head",))
    ]


def test_each_escalation_writes_an_alert_event_and_an_audit_entry_and_keeps_the_status(
    session: Session,
) -> None:
    alert_id = push(session, "red", "2025-09-30T23:50:00")
    audit_before = session.scalar(select(func.count()).select_from(AuditEntry))
    clock.freeze(at("2025-10-01T02:00:00"))
    actions = sweep(session)
    events = session.scalars(
        select(AlertEvent)
        .where(AlertEvent.alert_id == alert_id, AlertEvent.actor == "sweeper")
        .order_by(AlertEvent.id)
    ).all()
    assert [e.action for e in events] == ["escalation.re_push", "escalation.escalate"]
    assert [e.detail["level"] for e in events] == [1, 2]
    assert {(e.from_status, e.to_status) for e in events} == {("pushed", "pushed")}
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == audit_before + 2
    assert session.get(Alert, alert_id).status == AlertStatus.PUSHED
    assert actions[0].channels == ("sms", "phone_task")
    assert actions[0].dedupe_key == f"alert:{alert_id}:acknowledge:{actions[0].deadline_id}:L1"


# --- restarts ---------------------------------------------------------------------------------


def _level(engine: Engine, alert_id: int, step: str) -> tuple[int, datetime | None]:
    with Session(engine) as session:
        row = session.scalars(
            select(AlertDeadline).where(
                AlertDeadline.alert_id == alert_id, AlertDeadline.step == step
            )
        ).one()
        return row.escalation_level, row.next_check_at


def _sweep_committed(engine: Engine, when: str) -> list[EscalationAction]:
    clock.freeze(at(when))
    with make_session_factory(engine).begin() as session:
        return [a for a in sweep(session) if a.step == "acknowledge"]


def test_a_restarted_sweeper_on_the_same_database_continues_where_it_left_off(
    committing_engine: Engine, database_url: str
) -> None:
    first = make_engine(database_url)
    with make_session_factory(first).begin() as session:
        alert_id = push(session, "red", "2025-09-30T23:50:00")
    assert [a.level for a in _sweep_committed(first, "2025-10-01T00:20:00")] == [1]
    first.dispose()  # the notifier stops

    second = make_engine(database_url)  # and a new process starts
    try:
        assert _level(second, alert_id, "acknowledge") == (1, at("2025-10-01T01:50:00"))
        assert _sweep_committed(second, "2025-10-01T00:21:00") == []
        assert [a.level for a in _sweep_committed(second, "2025-10-01T01:50:00")] == [2]
        assert _level(second, alert_id, "acknowledge") == (2, None)
    finally:
        second.dispose()


def test_a_sweep_rolled_back_before_commit_loses_no_action(
    committing_engine: Engine, database_url: str
) -> None:
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine).begin() as session:
            push(session, "red", "2025-09-30T23:50:00")
        clock.freeze(at("2025-10-01T00:20:00"))
        with Session(engine) as session:
            assert len(sweep(session)) == 1
            session.rollback()  # e.g. the outbox insert failed: nothing was sent, nothing moved
        assert [a.level for a in _sweep_committed(engine, "2025-10-01T00:20:00")] == [1]
    finally:
        engine.dispose()
