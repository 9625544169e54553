"""The §4.4 loop: push, 签收, 回告, 审核, closure; delegation, returns, blue alerts, dismissals.

Dates are real: National Day 2025 (2025-10-01..08 off; Sunday 09-28 and Saturday 10-11 are
adjusted working days), so every due time below can be checked against a calendar.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import chinese_calendar
import pytest
from marshmallow import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from auditcage import clock
from auditcage.alerts.models import Alert, AlertStatus
from auditcage.audit import trail
from auditcage.audit.models import AuditEntry
from auditcage.errors import ConfigError, Forbidden, InvalidInput
from notifications import lifecycle
from notifications.deadlines import DEFAULT_POLICY, DeadlinePolicy, Period, Timekeeper
from notifications.lifecycle import InvalidTransition, TrackingState
from notifications.lifecycle_models import (
    AlertAssignment,
    AlertDeadline,
    AlertEvent,
    FeedbackReport,
    ReviewDecision,
)

pytestmark = pytest.mark.db

# Named people (STYLE §11), by staff id.
EAST_CHIEF = "P3201001"  # 城东大队长: owns red and orange alerts of 城东
EAST_DEPUTY = "P3201002"  # 城东 deputy chief: may be delegated orange and yellow alerts
EAST_POST = "P3201009"  # 城东 监管岗: owns yellow alerts
DETACHMENT_CHIEF = "P3200001"  # 支队长: joint owner of red alerts
INSPECTOR = "P3200901"  # 支队督察: reviews reports, dismisses false positives, assigns blue
EAST = "520102000000"
WEST = "520103000000"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=clock.SHANGHAI)


@pytest.fixture(autouse=True)
def restore_clock() -> Iterator[None]:
    yield
    clock.freeze(None)


def travel(text: str) -> None:
    clock.freeze(at(text))


def new_alert(session: Session, severity: str = "red", unit_code: str = EAST) -> Alert:
    alert = Alert(
        group_key=f"VIO-03||licence:52010219850312041X|{severity}",
        rule_ids=["VIO-03"],
        severity=severity,
        status=AlertStatus.NEW,
        unit_code=unit_code,
        serial_no="520100250930000123",
        first_at=clock.now(),
        last_at=clock.now(),
    )
    session.add(alert)
    session.flush()
    return alert


def pushed(session: Session, severity: str, when: str) -> Alert:
    travel(when)
    owners = [EAST_POST] if severity == "yellow" else [EAST_CHIEF]
    if severity == "red":
        owners.append(DETACHMENT_CHIEF)
    alert = new_alert(session, severity)
    lifecycle.open_tracking(session, alert, owners=owners, copies=[INSPECTOR], routed_at=at(when))
    return alert


def due(state: TrackingState, step: str, *, active: bool = True) -> datetime:
    return next(d.due_at for d in state.deadlines if d.step == step and d.active is active)


FINAL_CONFIRMED: dict[str, Any] = {
    "kind": "final",
    "verification_methods": ["video_reviewed", "system_logs"],
    "facts": "协勤人员代民警账号办理消分业务 3 笔。",
    "persons_responsible": ["P3201077"],
    "finding": "confirmed",
    "disposal": ["dismiss_auxiliary", "reminder_talk"],
    "business_remedy": ["revoke_business", "restore_points"],
    "attachments": [{"name": "调查笔录.pdf", "sha256": "a" * 64, "size": 20480}],
}
INITIAL: dict[str, Any] = {"kind": "initial", "facts": "已调取窗口视频，正在核查。"}


def test_the_2025_national_day_calendar_is_the_one_these_tests_assume() -> None:
    assert chinese_calendar.is_workday(at("2025-09-28").date())  # Sunday, 调休
    assert chinese_calendar.is_workday(at("2025-10-11").date())  # Saturday, 调休
    assert not chinese_calendar.is_workday(at("2025-09-27").date())  # ordinary Saturday
    days = [at(f"2025-10-{d:02d}").date() for d in range(1, 9)]
    assert all(d in chinese_calendar.holidays for d in days)


# --- the full loop ------------------------------------------------------------------------------


def test_red_alert_runs_push_acknowledge_initial_final_review_and_close(session: Session) -> None:
    alert = pushed(session, "red", "2025-09-30T23:50:00")
    state = lifecycle.tracking(session, alert.id)
    assert state.status == AlertStatus.PUSHED
    assert due(state, "acknowledge") == at("2025-10-01T00:20:00")  # 30 min, on a holiday too
    assert due(state, "initial_feedback") == at("2025-10-01T23:50:00")  # 24 h wall clock
    assert due(state, "final_report") == at("2025-10-15T00:00:00")  # 10-09,10,11(Sat),13,14

    travel("2025-10-01T00:10:00")
    assert lifecycle.acknowledge(session, alert.id, EAST_CHIEF).status == AlertStatus.ACKNOWLEDGED
    travel("2025-10-01T20:00:00")
    state = lifecycle.submit_feedback(session, alert.id, EAST_CHIEF, INITIAL)
    assert state.status == AlertStatus.INITIAL_FEEDBACK
    travel("2025-10-10T16:00:00")
    state = lifecycle.submit_feedback(session, alert.id, DETACHMENT_CHIEF, FINAL_CONFIRMED)
    assert state.status == AlertStatus.FEEDBACK_SUBMITTED
    assert due(state, "review") == at("2025-10-15T00:00:00")  # 3 wd: 10-11 (Sat), 10-13, 10-14
    travel("2025-10-13T09:00:00")
    assert lifecycle.review(session, alert.id, INSPECTOR, "accept").status == AlertStatus.REVIEWED
    assert lifecycle.close(session, alert.id, INSPECTOR).status == AlertStatus.CLOSED

    state = lifecycle.tracking(session, alert.id)
    assert not any(d.active for d in state.deadlines)
    assert all(d.met_at is not None and d.met_at <= d.due_at for d in state.deadlines)


def test_orange_alert_runs_the_loop_with_working_hour_and_working_day_deadlines(
    session: Session,
) -> None:
    alert = pushed(session, "orange", "2025-09-26T16:00:00")  # a Friday afternoon
    state = lifecycle.tracking(session, alert.id)
    # 4 working hours: Fri 16:00-17:30, then the adjusted Sunday 09-28 on Monday hours.
    assert due(state, "acknowledge") == at("2025-09-28T11:00:00")
    assert due(state, "initial_feedback") == at("2025-09-30T00:00:00")  # 09-28, 09-29
    assert due(state, "final_report") == at("2025-10-17T00:00:00")

    travel("2025-09-28T10:00:00")
    lifecycle.acknowledge(session, alert.id, EAST_CHIEF)
    lifecycle.submit_feedback(session, alert.id, EAST_CHIEF, INITIAL)
    travel("2025-10-09T11:00:00")
    state = lifecycle.submit_feedback(session, alert.id, EAST_CHIEF, FINAL_CONFIRMED)
    assert due(state, "review") == at("2025-10-16T00:00:00")  # 5 wd: 10, 11 (Sat), 13-15
    lifecycle.review(session, alert.id, INSPECTOR, "accept")
    assert lifecycle.close(session, alert.id, INSPECTOR).status == AlertStatus.CLOSED


def test_yellow_alert_goes_from_acknowledgement_straight_to_the_final_report(
    session: Session,
) -> None:
    alert = pushed(session, "yellow", "2025-09-30T10:00:00")
    state = lifecycle.tracking(session, alert.id)
    assert {d.step for d in state.deadlines} == {"acknowledge", "final_report"}
    assert due(state, "acknowledge") == at("2025-10-10T00:00:00")  # 1 wd: 10-09, after the break
    assert due(state, "final_report") == at("2025-10-22T00:00:00")

    travel("2025-10-09T09:00:00")
    lifecycle.acknowledge(session, alert.id, EAST_POST)
    unfounded = {
        "kind": "final",
        "verification_methods": ["file_retrieved"],
        "facts": "档案齐全，系审批后补录。",
        "finding": "unfounded",
        "reason_code": "authorised_exception",
    }
    lifecycle.submit_feedback(session, alert.id, EAST_POST, unfounded)
    lifecycle.review(session, alert.id, INSPECTOR, "accept")
    assert lifecycle.close(session, alert.id, INSPECTOR).status == AlertStatus.CLOSED
    # An accepted 不属实 report counts against the rule, as a dismissal does.
    assert [(f.rule_ids, f.reason_code) for f in lifecycle.false_positives(session)] == [
        (("VIO-03",), "authorised_exception")
    ]


def test_yellow_alert_has_no_initial_feedback_step(session: Session) -> None:
    alert = pushed(session, "yellow", "2025-09-30T10:00:00")
    lifecycle.acknowledge(session, alert.id, EAST_POST)
    with pytest.raises(InvalidTransition, match="no initial feedback"):
        lifecycle.submit_feedback(session, alert.id, EAST_POST, INITIAL)


def test_a_final_report_without_initial_feedback_also_meets_the_initial_deadline(
    session: Session,
) -> None:
    alert = pushed(session, "red", "2025-09-29T09:00:00")
    lifecycle.acknowledge(session, alert.id, EAST_CHIEF)
    travel("2025-09-29T18:00:00")
    state = lifecycle.submit_feedback(session, alert.id, EAST_CHIEF, FINAL_CONFIRMED)
    initial = next(d for d in state.deadlines if d.step == "initial_feedback")
    assert not initial.active and initial.met_at == at("2025-09-29T18:00:00")


# --- acknowledgement and delegation -------------------------------------------------------------


def test_red_alert_refuses_a_delegate_who_is_not_a_named_owner(session: Session) -> None:
    alert = pushed(session, "red", "2025-09-29T09:00:00")
    with pytest.raises(Forbidden, match="not a named owner"):
        lifecycle.acknowledge(session, alert.id, EAST_DEPUTY)
    assert session.get(Alert, alert.id).status == AlertStatus.PUSHED


def test_red_alert_cannot_be_delegated_even_by_its_named_chief(session: Session) -> None:
    alert = pushed(session, "red", "2025-09-29T09:00:00")
    with pytest.raises(Forbidden, match="personally"):
        lifecycle.acknowledge(
            session, alert.id, EAST_CHIEF, delegated_to=EAST_DEPUTY, reason="出差"
        )


def test_orange_delegation_is_recorded_and_lets_the_delegate_report(session: Session) -> None:
    alert = pushed(session, "orange", "2025-09-29T09:00:00")
    lifecycle.acknowledge(
        session, alert.id, EAST_CHIEF, delegated_to=EAST_DEPUTY, reason="大队长外出学习"
    )
    assignment = session.scalar(select(AlertAssignment).where(AlertAssignment.alert_id == alert.id))
    assert (assignment.delegated_to, assignment.delegated_by) == (EAST_DEPUTY, EAST_CHIEF)
    assert assignment.delegation_reason == "大队长外出学习"
    event = session.scalars(
        select(AlertEvent).where(AlertEvent.alert_id == alert.id).order_by(AlertEvent.id.desc())
    ).first()
    assert event.action == "acknowledge" and event.detail["delegated_to"] == EAST_DEPUTY

    state = lifecycle.submit_feedback(session, alert.id, EAST_DEPUTY, INITIAL)
    assert state.status == AlertStatus.INITIAL_FEEDBACK


def test_a_delegation_needs_a_reason(session: Session) -> None:
    alert = pushed(session, "orange", "2025-09-29T09:00:00")
    with pytest.raises(InvalidInput, match="reason"):
        lifecycle.acknowledge(session, alert.id, EAST_CHIEF, delegated_to=EAST_DEPUTY)


def test_someone_who_neither_owns_nor_was_delegated_cannot_report(session: Session) -> None:
    alert = pushed(session, "orange", "2025-09-29T09:00:00")
    lifecycle.acknowledge(session, alert.id, EAST_CHIEF)
    with pytest.raises(Forbidden, match="neither owns nor was delegated"):
        lifecycle.submit_feedback(session, alert.id, EAST_DEPUTY, INITIAL)


# --- review and return --------------------------------------------------------------------------


def _reported(session: Session, severity: str, pushed_at: str, reported_at: str) -> Alert:
    alert = pushed(session, severity, pushed_at)
    owner = EAST_POST if severity == "yellow" else EAST_CHIEF
    lifecycle.acknowledge(session, alert.id, owner)
    travel(reported_at)
    lifecycle.submit_feedback(session, alert.id, owner, FINAL_CONFIRMED)
    return alert


def test_returned_red_report_is_due_in_two_and_a_half_working_days(session: Session) -> None:
    alert = _reported(session, "red", "2025-09-29T09:00:00", "2025-10-09T15:00:00")
    travel("2025-10-10T10:00:00")  # Friday
    state = lifecycle.review(session, alert.id, INSPECTOR, "return", "未写明责任人处理依据")
    assert state.status == AlertStatus.RETURNED
    # Half of 5 working days: 2 whole days (10-11 adjusted Saturday, 10-13), then half of the
    # 8 working hours of 10-14: 08:30-12:00 and 13:00-13:30.
    assert due(state, "final_report") == at("2025-10-14T13:30:00")
    decision = session.scalar(select(ReviewDecision).where(ReviewDecision.alert_id == alert.id))
    assert decision.outcome == "return" and decision.new_due_at == at("2025-10-14T13:30:00")
    row = session.scalars(
        select(AlertDeadline).where(AlertDeadline.alert_id == alert.id, AlertDeadline.active)
    ).one()
    assert (row.original_amount, row.original_unit, row.granted_amount) == (5, "working_days", 2.5)


def test_returned_orange_report_gets_half_of_ten_working_days(session: Session) -> None:
    alert = _reported(session, "orange", "2025-09-26T16:00:00", "2025-10-09T15:00:00")
    travel("2025-10-09T16:00:00")
    state = lifecycle.review(session, alert.id, INSPECTOR, "return", "补充询问笔录")
    # 5 whole working days after Thursday 10-09: 10-10, 10-11 (Sat), 10-13, 10-14, 10-15.
    assert due(state, "final_report") == at("2025-10-16T00:00:00")


def test_a_second_return_halves_the_original_again_not_the_half(session: Session) -> None:
    alert = _reported(session, "red", "2025-09-29T09:00:00", "2025-10-09T15:00:00")
    travel("2025-10-10T10:00:00")
    lifecycle.review(session, alert.id, INSPECTOR, "return", "补充")
    travel("2025-10-13T10:00:00")
    lifecycle.submit_feedback(session, alert.id, EAST_CHIEF, FINAL_CONFIRMED)
    travel("2025-10-13T11:00:00")
    state = lifecycle.review(session, alert.id, INSPECTOR, "return", "仍不完整")
    # 2.5 working days from Monday 10-13 11:00: 10-14, 10-15, then 10-16 until 13:30.
    assert due(state, "final_report") == at("2025-10-16T13:30:00")


def test_the_owner_cannot_review_their_own_report(session: Session) -> None:
    alert = _reported(session, "red", "2025-09-29T09:00:00", "2025-10-09T15:00:00")
    with pytest.raises(Forbidden, match="cannot review"):
        lifecycle.review(session, alert.id, DETACHMENT_CHIEF, "accept")


def test_a_return_needs_a_comment(session: Session) -> None:
    alert = _reported(session, "red", "2025-09-29T09:00:00", "2025-10-09T15:00:00")
    with pytest.raises(InvalidInput, match="comment"):
        lifecycle.review(session, alert.id, INSPECTOR, "return", "  ")


# --- blue alerts and dismissal ------------------------------------------------------------------


def test_blue_alert_waits_for_an_inspector_and_is_then_tracked_as_yellow(session: Session) -> None:
    travel("2025-09-30T10:00:00")
    alert = new_alert(session, "blue")
    with pytest.raises(InvalidTransition, match="inspector assigns"):
        lifecycle.open_tracking(session, alert, owners=[EAST_POST], copies=[], routed_at=None)
    state = lifecycle.assign(session, alert.id, INSPECTOR, WEST, owners=[EAST_POST])
    assert (state.status, state.severity, state.tracked_as) == ("pushed", "blue", "yellow")
    assert due(state, "acknowledge") == at("2025-10-10T00:00:00")
    assignment = session.scalar(select(AlertAssignment).where(AlertAssignment.alert_id == alert.id))
    assert (assignment.unit_code, assignment.assigned_by) == (WEST, INSPECTOR)


def test_only_blue_alerts_can_be_assigned(session: Session) -> None:
    alert = new_alert(session, "orange")
    with pytest.raises(InvalidTransition, match="inspectors' queue"):
        lifecycle.assign(session, alert.id, INSPECTOR, EAST, owners=[EAST_CHIEF])


def test_dismissal_stops_every_deadline_and_keeps_the_reason_for_rule_statistics(
    session: Session,
) -> None:
    alert = pushed(session, "orange", "2025-09-29T09:00:00")
    lifecycle.acknowledge(session, alert.id, EAST_CHIEF)
    state = lifecycle.dismiss(session, alert.id, INSPECTOR, "reference_outdated", "排班表未更新")
    assert state.status == AlertStatus.DISMISSED
    assert not any(d.active for d in state.deadlines)
    [fp] = lifecycle.false_positives(session)
    assert (fp.alert_id, fp.reason_code, fp.source) == (alert.id, "reference_outdated", "dismiss")


def test_dismissal_needs_a_known_reason_and_a_comment_for_other(session: Session) -> None:
    alert = new_alert(session, "blue")
    with pytest.raises(InvalidInput, match="unknown false-positive reason"):
        lifecycle.dismiss(session, alert.id, INSPECTOR, "looks_fine")
    with pytest.raises(InvalidInput, match="comment"):
        lifecycle.dismiss(session, alert.id, INSPECTOR, "other")
    assert lifecycle.dismiss(session, alert.id, INSPECTOR, "duplicate").status == "dismissed"


def test_an_owner_cannot_dismiss_their_own_alert(session: Session) -> None:
    alert = pushed(session, "orange", "2025-09-29T09:00:00")
    with pytest.raises(Forbidden, match="cannot dismiss"):
        lifecycle.dismiss(session, alert.id, EAST_CHIEF, "rule_too_broad")


# --- illegal transitions ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("steps", "action", "message"),
    [
        ([], "acknowledge", "is new: cannot acknowledge: .* not been pushed"),
        (["ack"], "acknowledge", "is acknowledged: cannot acknowledge"),
        (["ack"], "accept", "is acknowledged: cannot accept"),
        (["ack", "final"], "dismiss", "waiting for review"),
        (["ack", "final", "accept"], "final", "only closing is left"),
        (["ack", "final", "accept", "close"], "return", "is closed"),
        (["dismiss"], "acknowledge", "dismissed as a false positive"),
        (["ack"], "close", "is acknowledged: cannot close"),
    ],
)
def test_illegal_transitions_name_the_state_the_action_and_why(
    session: Session, steps: list[str], action: str, message: str
) -> None:
    travel("2025-09-29T09:00:00")
    alert = new_alert(session, "orange")
    run = {
        "ack": lambda: lifecycle.acknowledge(session, alert.id, EAST_CHIEF),
        "final": lambda: lifecycle.submit_feedback(session, alert.id, EAST_CHIEF, FINAL_CONFIRMED),
        "accept": lambda: lifecycle.review(session, alert.id, INSPECTOR, "accept"),
        "return": lambda: lifecycle.review(session, alert.id, INSPECTOR, "return", "补充"),
        "close": lambda: lifecycle.close(session, alert.id, INSPECTOR),
        "dismiss": lambda: lifecycle.dismiss(session, alert.id, INSPECTOR, "duplicate"),
        "acknowledge": lambda: lifecycle.acknowledge(session, alert.id, EAST_CHIEF),
    }
    if steps and steps[0] != "dismiss":
        lifecycle.open_tracking(session, alert, owners=[EAST_CHIEF], copies=[], routed_at=None)
    for step in steps:
        run[step]()
    status_before = session.get(Alert, alert.id).status
    with pytest.raises(InvalidTransition, match=message):
        run[action]()
    assert session.get(Alert, alert.id).status == status_before


def test_pushing_twice_is_an_invalid_transition(session: Session) -> None:
    alert = pushed(session, "red", "2025-09-29T09:00:00")
    with pytest.raises(InvalidTransition, match="is pushed: cannot push"):
        lifecycle.open_tracking(session, alert, owners=[EAST_CHIEF], copies=[], routed_at=None)


# --- reports ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"finding": None}, "finding"),
        ({"verification_methods": []}, "verification_methods"),
        ({"verification_methods": ["gut_feeling"]}, "verification_methods"),
        ({"finding": "unfounded", "disposal": []}, "reason_code"),
        ({"finding": "unfounded", "reason_code": "duplicate"}, "disposal"),
        ({"reason_code": "duplicate"}, "reason_code"),
        ({"disposal": []}, "disposal"),
        ({"disposal": ["fine_the_clerk"]}, "disposal"),
        ({"persons_responsible": []}, "persons_responsible"),
        ({"business_remedy": ["apologise"]}, "business_remedy"),
        ({"attachments": [{"name": "x.pdf", "sha256": "zz", "size": 1}]}, "attachments"),
        ({"facts": ""}, "facts"),
        ({"kind": "interim"}, "kind"),
    ],
)
def test_a_final_report_missing_what_section_4_4_asks_for_is_refused(
    session: Session, change: dict[str, Any], field: str
) -> None:
    alert = pushed(session, "orange", "2025-09-29T09:00:00")
    lifecycle.acknowledge(session, alert.id, EAST_CHIEF)
    report = {
        key: value for key, value in {**FINAL_CONFIRMED, **change}.items() if value is not None
    }
    with pytest.raises(ValidationError) as refused:
        lifecycle.submit_feedback(session, alert.id, EAST_CHIEF, report)
    assert field in refused.value.messages
    assert session.scalar(select(func.count()).select_from(FeedbackReport)) == 0


def test_a_partly_confirmed_report_may_carry_a_reason_for_the_unfounded_part(
    session: Session,
) -> None:
    alert = pushed(session, "orange", "2025-09-29T09:00:00")
    lifecycle.acknowledge(session, alert.id, EAST_CHIEF)
    report = {**FINAL_CONFIRMED, "finding": "partly", "reason_code": "source_data_error"}
    lifecycle.submit_feedback(session, alert.id, EAST_CHIEF, report)
    stored = session.scalar(select(FeedbackReport).where(FeedbackReport.alert_id == alert.id))
    assert (stored.finding, stored.reason_code) == ("partly", "source_data_error")
    assert stored.attachments == FINAL_CONFIRMED["attachments"]


# --- history and audit --------------------------------------------------------------------------


def test_every_change_writes_an_alert_event_and_an_audit_entry(session: Session) -> None:
    audit_before = session.scalar(select(func.count()).select_from(AuditEntry))
    alert = _reported(session, "red", "2025-09-29T09:00:00", "2025-10-09T15:00:00")
    lifecycle.review(session, alert.id, INSPECTOR, "accept")
    lifecycle.close(session, alert.id, INSPECTOR)
    events = session.scalars(
        select(AlertEvent).where(AlertEvent.alert_id == alert.id).order_by(AlertEvent.id)
    ).all()
    assert [(e.action, e.from_status, e.to_status) for e in events] == [
        ("push", "new", "pushed"),
        ("acknowledge", "pushed", "acknowledged"),
        ("final_report", "acknowledged", "feedback_submitted"),
        ("accept", "feedback_submitted", "reviewed"),
        ("close", "reviewed", "closed"),
    ]
    assert [e.actor for e in events] == ["routing", EAST_CHIEF, EAST_CHIEF, INSPECTOR, INSPECTOR]
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.subject_id == str(alert.id)).order_by(AuditEntry.id)
    ).all()
    assert [e.action for e in entries] == [f"alert.{e.action}" for e in events]
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == audit_before + 5
    assert trail.verify(session).ok


# --- policy -------------------------------------------------------------------------------------


def test_policy_from_mapping_overrides_periods_and_ladders_and_keeps_the_rest() -> None:
    policy = DeadlinePolicy.from_mapping(
        {
            "red": {"acknowledge": "15 minutes", "review": None},
            "yellow": {
                "escalation": {"acknowledge": [{"kind": "escalate", "targets": ["brigade_head"]}]}
            },
        }
    )
    assert policy.red.acknowledge == Period(0.25, "hours")
    assert policy.red.review is None
    assert policy.red.final_report == DEFAULT_POLICY.red.final_report
    assert len(policy.yellow.escalation["acknowledge"]) == 1  # type: ignore[index]
    assert policy.orange == DEFAULT_POLICY.orange


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"purple": {}}, "unknown severity"),
        ({"red": {"acknowlege": "30 minutes"}}, "unknown keys"),
        ({"red": {"acknowledge": "30 fortnights"}}, "unknown unit"),
        ({"red": {"escalation": {"acknowledge": [{"kind": "shout", "targets": []}]}}}, "shout"),
    ],
)
def test_policy_from_mapping_refuses_what_it_cannot_read(
    mapping: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        DeadlinePolicy.from_mapping(mapping)


def test_working_hours_are_those_of_the_unit_that_owns_the_alert(session: Session) -> None:
    # 城西 serves 09:00-12:00 on Mondays (so on adjusted weekend days) and 09:00-17:00 on Fridays.
    hours = {"mon": [["09:00", "12:00"]], "fri": [["09:00", "17:00"]]}
    keeper = Timekeeper(unit_hours=lambda code: (hours, None) if code == WEST else (None, None))
    travel("2025-09-26T16:00:00")
    alert = new_alert(session, "orange", unit_code=WEST)
    state = lifecycle.open_tracking(
        session, alert, owners=[EAST_CHIEF], copies=[], routed_at=None, timekeeper=keeper
    )
    # Fri 16:00-17:00 is one hour; the adjusted Sunday 09-28 gives three more by 12:00.
    assert due(state, "acknowledge") == at("2025-09-28T12:00:00")
