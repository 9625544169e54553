"""Routing policy: matrix, timing, §4.2 modifiers, §4.5 recusal, digests, policy validation.

Pure tests over the small province of tests/notifications/province.py (no database).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import chinese_calendar
import pytest

from auditcage import clock
from auditcage.calendar import WorkCalendar
from auditcage.records.enrich import Relatedness
from auditcage.reference.index import ReferenceIndex
from auditcage.rulepacks.model import Severity
from notifications.policy import DEFAULT_PATH, PolicyError, load_policy, validate_policy
from notifications.routing import (
    Actors,
    AlertFacts,
    History,
    RoutingDecision,
    digest_due,
    digest_recipients,
    digest_slot,
    route,
)
from tests.notifications.province import (
    CITIZEN,
    DETACHMENT_CHIEF,
    DETACHMENT_DEPUTY,
    DETACHMENT_INSPECTOR,
    DETACHMENT_SUPERVISION,
    EAST,
    EAST_CHIEF,
    EAST_DEPUTY,
    EAST_SUPERVISION,
    EAST_WINDOW,
    ID_NO,
    NANJING,
    OPERATOR,
    OTHER_PROVINCE_DEPUTY,
    PROVINCE,
    PROVINCE_CHIEF,
    PROVINCE_DEPUTY,
    PROVINCE_INSPECTOR,
    PROVINCE_SUPERVISION,
    REVIEWER,
    WEST,
    WEST_OFFICER,
    WEST_SUPERVISION,
    WUXI,
    WUXI_CHIEF,
    province,
    staff_with,
)

POLICY = load_policy()
MONDAY_10 = datetime(2025, 9, 29, 10, 0, tzinfo=clock.SHANGHAI)  # a working Monday


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=clock.SHANGHAI)


def decide(
    severity: Severity,
    *,
    ref: ReferenceIndex | None = None,
    history: History | None = None,
    **facts: Any,
) -> RoutingDecision:
    """Route an alert of 城东窗口1 whose operator and reviewer are window staff, unless told."""
    values: dict[str, Any] = {
        "alert_id": 7,
        "severity": severity,
        "unit_code": EAST_WINDOW,
        "at": MONDAY_10,
        "rule_ids": ("VIO-03",),
        "actors": Actors.of(operator=OPERATOR, reviewer=REVIEWER),
        **facts,
    }
    return route(AlertFacts(**values), history or History(), POLICY, ref or province())


def ids(recipients: Any) -> list[str]:
    return [r.staff_id for r in recipients]


# --- the routing matrix (§4.3) --------------------------------------------------------------


def test_red_alert_is_owned_by_the_brigade_chief_and_the_detachment_chief_who_closes_it() -> None:
    decision = decide(Severity.RED)
    assert ids(decision.owners) == [EAST_CHIEF, DETACHMENT_CHIEF]
    assert decision.closed_by == (DETACHMENT_CHIEF,)
    assert decision.personal_acknowledgement
    assert decision.owners[0].unit_code == EAST  # the window's alert is its brigade's


def test_red_alert_copies_discipline_and_leaves_province_leadership_to_the_briefing() -> None:
    decision = decide(Severity.RED)
    assert ids(decision.copies) == [DETACHMENT_INSPECTOR, PROVINCE_INSPECTOR]
    assert decision.briefing == "red_briefing"
    assert decision.push.label == "instant"
    assert decision.channels == "all"
    assert decision.modifiers == ()


def test_orange_alert_goes_to_the_brigade_chief_copying_deputy_supervision_and_inspector() -> None:
    decision = decide(Severity.ORANGE)
    assert ids(decision.owners) == [EAST_CHIEF]
    assert ids(decision.copies) == [DETACHMENT_DEPUTY, DETACHMENT_SUPERVISION, DETACHMENT_INSPECTOR]
    assert decision.channels == "first"
    assert decision.push.label == "instant"


def test_yellow_alert_goes_to_the_supervision_post_of_the_brigade_in_the_daily_digest() -> None:
    decision = decide(Severity.YELLOW)
    assert ids(decision.owners) == [EAST_SUPERVISION]
    assert decision.copies == ()
    assert decision.push.label == "digest:daily_digest"
    # The window has no 监管岗 of its own: the nearest one up is no substitution.
    assert decision.substitutions == ()


def test_blue_alert_is_pushed_to_nobody_and_waits_for_the_weekly_report() -> None:
    decision = decide(Severity.BLUE)
    assert decision.owners == decision.copies == ()
    assert decision.push.label == "digest:weekly_report"


def test_recipients_carry_their_r2_notify_urls_and_the_role_that_found_them() -> None:
    chief = decide(Severity.RED).owners[0]
    assert chief.notify == ("mailto://e01@example.com", "json://push.example/E01")
    assert chief.role == "brigade.head"
    assert "head of 320102000000" in chief.reason


def test_alert_of_an_unknown_unit_is_routed_from_the_province_and_says_so() -> None:
    decision = decide(Severity.ORANGE, unit_code="999999999999")
    assert ids(decision.owners) == [PROVINCE_CHIEF]
    assert decision.substitutions[0].original == "unit 999999999999"


def test_shadow_alert_is_routed_for_the_record_but_never_pushed() -> None:
    decision = decide(Severity.RED, shadow=True)
    assert decision.push.mode == "none"
    assert ids(decision.owners) == [EAST_CHIEF, DETACHMENT_CHIEF]


# --- timing: quiet hours and back-fill ------------------------------------------------------


def test_orange_detected_at_23_00_is_queued_to_07_30_the_next_day() -> None:
    push = decide(Severity.ORANGE, at=at("2025-09-29T23:00:00")).push
    assert (push.mode, push.at) == ("at", at("2025-09-30T07:30:00"))


def test_orange_detected_after_midnight_waits_for_07_30_the_same_day() -> None:
    push = decide(Severity.ORANGE, at=at("2025-09-30T03:10:00")).push
    assert push.at == at("2025-09-30T07:30:00")


@pytest.mark.parametrize(
    ("when", "label"),
    [
        ("2025-09-29T21:59:59", "instant"),
        ("2025-09-29T22:00:00", "at:2025-09-30T07:30:00+08:00"),
        ("2025-09-30T07:29:59", "at:2025-09-30T07:30:00+08:00"),
        ("2025-09-30T07:30:00", "instant"),
    ],
)
def test_quiet_hours_include_22_00_and_end_at_07_30(when: str, label: str) -> None:
    assert decide(Severity.ORANGE, at=at(when)).push.label == label


def test_red_detected_at_23_00_is_pushed_at_once_despite_quiet_hours() -> None:
    assert decide(Severity.RED, at=at("2025-09-29T23:00:00")).push.label == "instant"


def test_backfilled_orange_is_not_pushed_in_real_time_but_goes_to_the_next_digest() -> None:
    decision = decide(Severity.ORANGE, late_data=True)
    assert decision.push.label == "digest:daily_digest"
    assert decision.modified_by("late_data")
    assert ids(decision.owners) == [EAST_CHIEF]  # the owners do not change, only the timing


def test_backfilled_red_is_still_pushed_at_once() -> None:
    decision = decide(Severity.RED, late_data=True)
    assert decision.push.label == "instant"
    assert not decision.modified_by("late_data")


# --- §4.2 escalation modifiers --------------------------------------------------------------


def test_fourth_orange_of_an_operator_within_30_days_becomes_red() -> None:
    decision = decide(Severity.ORANGE, history=History(operator_orange_30d=3))
    assert (decision.rule_severity, decision.severity) == (Severity.ORANGE, Severity.RED)
    assert decision.modified_by("repeat_offender")
    assert ids(decision.owners) == [EAST_CHIEF, DETACHMENT_CHIEF]


def test_third_orange_of_an_operator_stays_orange() -> None:
    decision = decide(Severity.ORANGE, history=History(operator_orange_30d=2))
    assert decision.severity is Severity.ORANGE
    assert decision.modifiers == ()


def test_second_red_of_an_operator_within_90_days_copies_province_leadership_and_inspector() -> (
    None
):
    decision = decide(Severity.RED, history=History(operator_red_90d=1))
    assert decision.modified_by("repeat_red")
    assert ids(decision.copies) == [
        DETACHMENT_INSPECTOR,
        PROVINCE_INSPECTOR,
        PROVINCE_CHIEF,
        PROVINCE_DEPUTY,  # the deputy in charge (R1 head_staff_ids), not every deputy
    ]
    assert OTHER_PROVINCE_DEPUTY not in decision.recipient_ids()


def test_first_red_of_an_operator_copies_no_province_leadership() -> None:
    decision = decide(Severity.RED, history=History(operator_red_90d=0))
    assert not decision.modified_by("repeat_red")
    assert PROVINCE_CHIEF not in decision.recipient_ids()


def test_fifth_red_of_a_brigade_within_30_days_copies_province_leadership() -> None:
    decision = decide(Severity.RED, history=History(unit_red_30d=4))
    assert decision.modified_by("unit_hot_spot")
    assert {PROVINCE_CHIEF, PROVINCE_DEPUTY} <= set(ids(decision.copies))
    assert not decide(Severity.RED, history=History(unit_red_30d=3)).modified_by("unit_hot_spot")


def test_orange_involving_10000_cny_becomes_red_and_copies_province_leadership() -> None:
    decision = decide(Severity.ORANGE, money_cny=10_000)
    assert decision.severity is Severity.RED
    assert decision.modified_by("money")
    assert PROVINCE_CHIEF in ids(decision.copies)


def test_yellow_involving_money_goes_one_level_up_to_orange_only() -> None:
    decision = decide(Severity.YELLOW, money_cny=12_000)
    assert decision.severity is Severity.ORANGE
    assert ids(decision.owners) == [EAST_CHIEF]
    assert PROVINCE_CHIEF not in decision.recipient_ids()  # copies are added at red only


def test_money_below_the_threshold_changes_nothing() -> None:
    assert decide(Severity.ORANGE, money_cny=9_999.99).severity is Severity.ORANGE


def test_red_involving_money_stays_red_and_gains_recipients_instead() -> None:
    decision = decide(Severity.RED, money_cny=50_000)
    assert decision.severity is Severity.RED
    assert "copies added" in next(m.reason for m in decision.modifiers if m.name == "money")
    assert PROVINCE_CHIEF in ids(decision.copies)


def test_points_trading_cluster_becomes_one_red_lead_with_its_members_linked() -> None:
    history = History(cluster=True, cluster_alert_ids=(11, 12))
    decision = decide(Severity.YELLOW, rule_ids=("VIO-01", "VIO-04"), history=history)
    assert decision.severity is Severity.RED
    assert decision.lead_alert_ids == (11, 12)
    assert decision.push.label == "instant"
    assert PROVINCE_CHIEF in ids(decision.copies)


def test_leadership_among_the_actors_moves_routing_one_level_up() -> None:
    decision = decide(Severity.ORANGE, actors=Actors.of(operator=OPERATOR, approver=EAST_DEPUTY))
    assert decision.modified_by("leadership")
    assert ids(decision.owners) == [DETACHMENT_CHIEF, DETACHMENT_INSPECTOR]
    assert EAST_CHIEF not in decision.recipient_ids()


def test_yellow_with_a_brigade_chief_among_the_actors_goes_to_the_detachment_supervision() -> None:
    decision = decide(Severity.YELLOW, actors=Actors.of(operator=OPERATOR, approver=EAST_CHIEF))
    assert ids(decision.owners) == [DETACHMENT_SUPERVISION]


# --- §4.5 recusal ---------------------------------------------------------------------------


def test_an_actor_never_receives_the_alert_and_the_next_level_does() -> None:
    # The 城东 监管岗 reviewed the business: the yellow alert goes to the detachment's 监管室.
    decision = decide(
        Severity.YELLOW, actors=Actors.of(operator=OPERATOR, reviewer=EAST_SUPERVISION)
    )
    assert ids(decision.owners) == [DETACHMENT_SUPERVISION]
    substitution = decision.substitutions[0]
    assert (substitution.original, substitution.substitute) == (
        EAST_SUPERVISION,
        DETACHMENT_SUPERVISION,
    )
    assert "reviewer of the alerted records" in substitution.reason


def test_brigade_leadership_actor_hands_the_red_to_the_detachment_chief_and_inspector() -> None:
    decision = decide(Severity.RED, actors=Actors.of(operator=EAST_DEPUTY))
    assert ids(decision.owners) == [DETACHMENT_CHIEF, DETACHMENT_INSPECTOR]
    assert decision.closed_by == (DETACHMENT_CHIEF,)
    moved = {(s.original, s.substitute) for s in decision.substitutions}
    assert moved == {
        ("brigade.head", "detachment.head"),
        ("brigade.head", "detachment.discipline"),
    }
    assert all("E02 holds deputy_brigade_head" in s.reason for s in decision.substitutions)


def test_detachment_leadership_actor_hands_the_red_to_province_leadership_and_inspector() -> None:
    decision = decide(Severity.RED, actors=Actors.of(operator=OPERATOR, approver=DETACHMENT_DEPUTY))
    assert ids(decision.owners) == [PROVINCE_CHIEF, PROVINCE_DEPUTY, PROVINCE_INSPECTOR]
    assert not {EAST_CHIEF, DETACHMENT_CHIEF, DETACHMENT_INSPECTOR} & set(decision.recipient_ids())
    assert decision.closed_by == (PROVINCE_CHIEF, PROVINCE_DEPUTY)


def test_recipient_related_to_an_actor_is_skipped_and_the_next_level_receives() -> None:
    # The east chief's sibling is the operator (R4, declared by the chief).
    relations = [{"staff_id": EAST_CHIEF, "related_id_no": ID_NO[OPERATOR], "relation": "sibling"}]
    decision = decide(Severity.ORANGE, ref=province(relations=relations))
    assert ids(decision.owners) == [DETACHMENT_CHIEF]
    assert decision.substitutions[0].original == EAST_CHIEF
    assert decision.substitutions[0].substitute == DETACHMENT_CHIEF
    assert "related (R4) to actor E11" in decision.substitutions[0].reason


def test_copied_inspector_related_to_an_actor_is_replaced_by_the_province_inspector() -> None:
    relations = [
        {"staff_id": DETACHMENT_INSPECTOR, "related_id_no": ID_NO[OPERATOR], "relation": "spouse"}
    ]
    decision = decide(Severity.ORANGE, ref=province(relations=relations))
    assert DETACHMENT_INSPECTOR not in decision.recipient_ids()
    assert PROVINCE_INSPECTOR in ids(decision.copies)


def test_recipient_who_is_the_subject_of_the_business_is_skipped() -> None:
    decision = decide(Severity.ORANGE, subject_id_nos=(ID_NO[EAST_CHIEF],))
    assert ids(decision.owners) == [DETACHMENT_CHIEF]
    assert "is a subject of the business" in decision.substitutions[0].reason


def test_recipient_related_to_the_subject_of_the_business_is_skipped() -> None:
    relations = [{"staff_id": EAST_CHIEF, "related_id_no": CITIZEN, "relation": "child"}]
    decision = decide(Severity.ORANGE, ref=province(relations=relations), subject_id_nos=(CITIZEN,))
    assert ids(decision.owners) == [DETACHMENT_CHIEF]
    assert "related (R4) to a subject" in decision.substitutions[0].reason


def test_reasons_never_carry_id_numbers() -> None:
    decision = decide(Severity.ORANGE, subject_id_nos=(ID_NO[EAST_CHIEF],))
    text = " ".join(s.reason for s in decision.substitutions) + decision.owners[0].reason
    assert ID_NO[EAST_CHIEF] not in text


def test_brigade_chief_on_leave_is_replaced_by_the_detachment_chief() -> None:
    decision = decide(Severity.ORANGE, unit_code=WEST, actors=Actors.of(operator=WEST_OFFICER))
    assert ids(decision.owners) == [DETACHMENT_CHIEF]
    assert "W01 is leave on 2025-09-29" in decision.substitutions[0].reason


def test_staff_rows_are_read_as_of_the_alert_time() -> None:
    # The east chief took up the post on 2025-10-01; before that the detachment chief stood in.
    staff = staff_with(EAST_CHIEF, effective_from="2025-10-01")
    ref = province(staff=staff)
    assert ids(decide(Severity.ORANGE, ref=ref).owners) == [DETACHMENT_CHIEF]
    later = decide(Severity.ORANGE, ref=ref, at=at("2025-10-09T10:00:00"))
    assert ids(later.owners) == [EAST_CHIEF]


# --- digests --------------------------------------------------------------------------------

CALENDAR = WorkCalendar()


def test_the_test_dates_are_what_the_statutory_calendar_says() -> None:
    assert chinese_calendar.is_workday(date(2025, 9, 28))  # Sunday, 调休
    assert not chinese_calendar.is_workday(date(2025, 9, 27))  # ordinary Saturday
    assert all(chinese_calendar.is_holiday(date(2025, 10, d)) for d in range(1, 9))
    assert chinese_calendar.is_workday(date(2025, 10, 11))  # Saturday, 调休


@pytest.mark.parametrize(
    ("day", "due"),
    [
        ("2025-09-26", ["red_briefing", "daily_digest"]),  # Friday
        ("2025-09-27", ["red_briefing"]),  # ordinary Saturday
        ("2025-09-28", ["red_briefing", "daily_digest"]),  # Sunday worked (调休)
        ("2025-09-29", ["red_briefing", "daily_digest", "weekly_report"]),  # Monday
        ("2025-10-01", ["red_briefing"]),  # National Day
        ("2025-10-06", ["red_briefing"]),  # a Monday inside the holiday: the report waits
        ("2025-10-09", ["red_briefing", "daily_digest", "weekly_report"]),  # first working day
        ("2025-10-11", ["red_briefing", "daily_digest"]),  # Saturday worked (调休)
        ("2025-10-13", ["red_briefing", "daily_digest", "weekly_report"]),
    ],
)
def test_digests_due_at_08_00_follow_the_statutory_calendar(day: str, due: list[str]) -> None:
    assert digest_due(POLICY, at(f"{day}T08:00:00"), CALENDAR) == due


def test_no_digest_is_due_before_08_00() -> None:
    assert digest_due(POLICY, at("2025-09-29T07:59:59"), CALENDAR) == []


def test_a_digest_already_sent_since_its_slot_is_not_due_again() -> None:
    now, since = at("2025-09-29T09:00:00"), at("2025-09-29T08:00:30")
    assert digest_due(POLICY, now, CALENDAR, since=since) == []
    assert digest_due(POLICY, now, CALENDAR, since=at("2025-09-29T07:59:00")) == [
        "red_briefing",
        "daily_digest",
        "weekly_report",
    ]


def test_digest_slot_of_the_daily_digest_on_a_holiday_is_the_last_working_day() -> None:
    slot = digest_slot("daily_digest", POLICY, at("2025-10-03T12:00:00"), CALENDAR)
    assert slot == at("2025-09-30T08:00:00")


def test_red_briefing_goes_to_province_leadership_inspector_and_each_detachment_chief() -> None:
    recipients = digest_recipients("red_briefing", POLICY, province(), MONDAY_10)
    assert [(r.staff_id, r.unit_code) for r in recipients] == [
        (PROVINCE_CHIEF, PROVINCE),
        (PROVINCE_DEPUTY, PROVINCE),
        (PROVINCE_INSPECTOR, PROVINCE),
        (DETACHMENT_CHIEF, NANJING),
        (WUXI_CHIEF, WUXI),
    ]


def test_daily_digest_goes_to_each_brigade_and_skips_a_chief_on_leave() -> None:
    recipients = digest_recipients("daily_digest", POLICY, province(), MONDAY_10)
    assert [(r.staff_id, r.unit_code) for r in recipients] == [
        (EAST_SUPERVISION, EAST),
        (WEST_SUPERVISION, WEST),
        (EAST_CHIEF, EAST),
    ]


def test_weekly_report_goes_to_detachment_leadership_and_the_province_supervision_office() -> None:
    recipients = digest_recipients("weekly_report", POLICY, province(), MONDAY_10)
    assert {r.staff_id for r in recipients} == {
        DETACHMENT_CHIEF,
        DETACHMENT_DEPUTY,
        WUXI_CHIEF,
        PROVINCE_SUPERVISION,
    }


# --- the policy file ------------------------------------------------------------------------


def test_shipped_routing_policy_is_valid() -> None:
    assert validate_policy(DEFAULT_PATH) == []


def test_deadlines_carry_the_catalogue_defaults() -> None:
    red, orange, yellow = (POLICY.deadlines[s] for s in ("red", "orange", "yellow"))
    assert str(red.acknowledge) == "30 minutes"
    assert str(red.initial_feedback) == "24 hours"
    assert str(red.final_report) == "5 working_days"
    assert str(orange.acknowledge) == "4 working_hours"
    assert yellow.initial_feedback is None
    assert POLICY.deadlines.returned_factor == 0.5


def test_modifier_thresholds_carry_the_catalogue_defaults() -> None:
    m = POLICY.modifiers
    assert (m.repeat_offender.orange_alerts, m.repeat_offender.within_days) == (3, 30)
    assert (m.repeat_red.red_alerts, m.repeat_red.within_days) == (2, 90)
    assert (m.unit_hot_spot.red_alerts, m.money.at_least_cny) == (5, 10_000)
    assert m.cluster.rules[0] == "VIO-01" and m.cluster.rules[-1] == "VIO-07"


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "routing.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _line(path: Path, fragment: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if fragment in line)


# (text replaced, replacement, the field named, the problem, the line it is on: a fragment)
BROKEN = [
    (
        "owners: [brigade.head, detachment.head]",
        "owners: [brigade.chief, detachment.head]",
        "severities.red.owners.0",
        "not scope.role",
        "owners: [brigade.chief",
    ),
    (
        'quiet_hours: {start: "22:00"',
        'quiet_hours: {start: "late"',
        "quiet_hours.start",
        "not a time of day",
        "quiet_hours: {start",
    ),
    (
        "    digest: daily_digest\n    channels: first",
        "    digest: daily_digets\n    channels: first",
        "severities.yellow.digest",
        "no digest named 'daily_digets'",
        "digest: daily_digets",
    ),
    (
        "    weekday: mon\n",
        "",
        "digests.weekly_report.weekday",
        "needs its weekday",
        "weekly_report:",
    ),
    (
        "    push: instant\n",
        "    push: instantly\n",
        "severities.red.push",
        "Must be one of",
        "push: instantly",
    ),
    (
        "    acknowledge: {amount: 30, unit: minutes}",
        "    acknowledge: {amount: 30, unit: minuts}",
        "deadlines.red.acknowledge.unit",
        "Must be one of",
        "unit: minuts",
    ),
    (
        "  money: {at_least_cny: 10000",
        "  money: {at_least: 10000, at_least_cny: 10000",
        "modifiers.money.at_least",
        "Unknown field",
        "money: {at_least:",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "field", "problem", "on_line"), BROKEN, ids=[b[2] for b in BROKEN]
)
def test_policy_errors_name_file_line_and_field(
    tmp_path: Path, old: str, new: str, field: str, problem: str, on_line: str
) -> None:
    path = _broken(tmp_path, old, new)
    issues = validate_policy(path)
    assert [i.field for i in issues] == [field]
    issue = issues[0]
    assert problem in issue.problem
    assert issue.line == _line(path, on_line)
    assert str(issue).startswith(f"{path}:{issue.line}: {field}:")


def test_missing_severity_is_named(tmp_path: Path) -> None:
    path = _broken(tmp_path, "  blue:  # 蓝", "  azure:  # 蓝")
    fields = {i.field for i in validate_policy(path)}
    assert {"severities.blue", "severities.azure"} <= fields


def test_yaml_syntax_error_names_its_line(tmp_path: Path) -> None:
    path = _broken(tmp_path, "quiet_hours: {start:", "quiet_hours: {start: [")
    issues = validate_policy(path)
    assert len(issues) == 1 and issues[0].line >= _line(path, "quiet_hours")


def test_load_policy_refuses_an_invalid_file_with_every_issue(tmp_path: Path) -> None:
    path = _broken(tmp_path, "push: outside_quiet_hours", "push: sometimes")
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    assert "severities.orange.push" in str(raised.value)


def test_a_rule_author_can_tune_a_threshold(tmp_path: Path) -> None:
    path = _broken(tmp_path, "orange_alerts: 3", "orange_alerts: 5")
    policy = load_policy(path)
    facts = AlertFacts(1, Severity.ORANGE, EAST, MONDAY_10, actors=Actors.of(OPERATOR))
    decision = route(facts, History(operator_orange_30d=3), policy, province())
    assert decision.severity is Severity.ORANGE


def test_route_uses_the_relatedness_it_is_given() -> None:
    relations = [{"staff_id": EAST_CHIEF, "related_id_no": ID_NO[OPERATOR], "relation": "sibling"}]
    ref = province(relations=relations)
    facts = AlertFacts(1, Severity.ORANGE, EAST, MONDAY_10, actors=Actors.of(OPERATOR))
    decision = route(facts, History(), POLICY, ref, relatedness=Relatedness(ref))
    assert ids(decision.owners) == [DETACHMENT_CHIEF]
