from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from auditcage.calendar import WorkCalendar
from auditcage.clock import SHANGHAI
from auditcage.records.enrich import Enricher, NoticeCode, enrich, related
from auditcage.reference.index import ReferenceIndex

PROVINCE, DETACHMENT, EAST, WEST = "520000000000", "520100000000", "520102000000", "520103000000"
WANG_ID_NO = "520102198001011234"  # 王, window officer of 城东大队
WANG_SPOUSE_ID_NO = "52010219820202432X"
CITIZEN_A, CITIZEN_B = "520103199003035678", "520103199104046789"
FLEET = "91520100MA6DXXXX0X"
FLEET_DRIVER = "520104198505057890"  # a domestic licence number is the holder's ID number

UNITS = [
    {"unit_code": PROVINCE, "parent_code": None, "level": "province", "province_code": "52"},
    {
        "unit_code": DETACHMENT,
        "parent_code": PROVINCE,
        "level": "detachment",
        "province_code": "52",
    },
    {
        "unit_code": EAST,
        "parent_code": DETACHMENT,
        "level": "brigade",
        "province_code": "52",
        "calendar_id": "guiyang",
        "service_hours": {d: [["08:30", "12:00"], ["13:00", "17:30"]] for d in ("mon", "tue")},
    },
    {"unit_code": WEST, "parent_code": DETACHMENT, "level": "brigade", "province_code": "52"},
]
STAFF = [
    # 王: police window officer; his law-enforcement certificate lapsed at the end of 2024.
    {
        "staff_id": "P1001",
        "id_no": WANG_ID_NO,
        "staff_kind": "police",
        "unit_code": EAST,
        "position": "window_officer",
        "status": "active",
        "certificates": [
            {"kind": "law_enforcement", "valid_to": "2024-12-31"},
            {"kind": "inspector", "valid_to": None},
        ],
        "cert_serials": ["CERT-1001"],
    },
    # 李: auxiliary at 城东; claims nothing, R2 says auxiliary.
    {"staff_id": "A2001", "id_no": CITIZEN_B, "staff_kind": "auxiliary", "unit_code": EAST,
     "position": "other", "status": "active"},
    # 赵: 城东 until July 2024, then 城西 (transferred mid-year).
    {"staff_id": "P1002", "id_no": "520102197707077777", "staff_kind": "police", "unit_code": EAST,
     "position": "brigade_head", "status": "active", "effective_from": "2020-01-01",
     "effective_to": "2024-07-01"},
    {"staff_id": "P1002", "id_no": "520102197707077777", "staff_kind": "police", "unit_code": WEST,
     "position": "deputy_brigade_head", "status": "active", "effective_from": "2024-07-01"},
    # 钱: retired in 2024.
    {"staff_id": "P1003", "id_no": "520102196001011111", "staff_kind": "police", "unit_code": EAST,
     "position": "window_officer", "status": "active", "effective_to": "2024-03-01"},
    {"staff_id": "P1003", "id_no": "520102196001011111", "staff_kind": "police", "unit_code": EAST,
     "position": "window_officer", "status": "retired", "effective_from": "2024-03-01"},
]  # fmt: skip
ROSTER = [
    {"staff_id": "P1001", "date": "2024-06-17", "shift_start": "20:00", "shift_end": "02:00",
     "unit_code": EAST},
    {"staff_id": "P1001", "date": "2024-06-19", "leave_type": "annual"},
    {"staff_id": "A2001", "date": "2024-06-18", "shift_start": "08:00", "shift_end": "08:00"},
]  # fmt: skip
VIOLATION_CODES = [
    {"violation_code": "1625", "points": 3, "fine_min": 20, "fine_max": 200,
     "local_standard_fine": 100, "warning_allowed": False, "effective_to": "2022-04-01"},
    {"violation_code": "1625", "points": 6, "fine_min": 20, "fine_max": 200,
     "local_standard_fine": 200, "warning_allowed": False, "effective_from": "2022-04-01"},
]  # fmt: skip
TERMINALS = [
    {"terminal_id": "T-EAST-01", "window_id": "W-EAST-1", "unit_code": EAST, "kind": "window",
     "assigned_staff_ids": ["P1001"]},
]  # fmt: skip
VEHICLES = [
    {"vin": "LSVAU2180N2000001", "plate_no": "黔A12345", "plate_type": "02",
     "owner_id_no": CITIZEN_A, "status": "A", "effective_to": "2024-05-01"},
    {"vin": "LSVAU2180N2000001", "plate_no": "黔A12345", "plate_type": "02",
     "owner_id_no": CITIZEN_B, "status": "A", "effective_from": "2024-05-01"},
]  # fmt: skip
LICENCES = [
    {"license_no": CITIZEN_A, "holder_id_no": CITIZEN_A, "points": 9, "status": "A"},
]
BUSINESS_TYPES = [
    {"business_type": "violation_decision", "police_only_actions": ["decide", "eliminate"],
     "needs_inspection": False, "four_eyes": True, "sla_days": 5, "day_basis": "working"},
]  # fmt: skip
RELATIONS = [{"staff_id": "P1001", "related_id_no": WANG_SPOUSE_ID_NO, "relation": "spouse"}]
AGENTS = [{"org_code": FLEET, "kind": "fleet", "registered_drivers": [FLEET_DRIVER]}]

FULL = {
    "units": UNITS,
    "staff": STAFF,
    "duty_roster": ROSTER,
    "violation_codes": VIOLATION_CODES,
    "terminals": TERMINALS,
    "vehicles": VEHICLES,
    "licences": LICENCES,
    "business_types": BUSINESS_TYPES,
    "relations": RELATIONS,
    "agents": AGENTS,
}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def make_record(**overrides: Any) -> dict[str, Any]:
    """A validated violation decision by 王 at 城东 on a Tuesday morning; override what matters."""
    record: dict[str, Any] = {
        "record_id": "violation:1",
        "serial_no": "5201021000000001",
        "service": "violation",
        "business_type": "violation_decision",
        "action": "decide",
        "action_time": at("2024-06-18T10:15:30"),
        "unit_code": EAST,
        "channel": "window",
        "window_id": "W-EAST-1",
        "terminal_id": "T-EAST-01",
        "operator_id": "P1001",
        "operator_role": "police",
        "operator_cert_serial": "CERT-1001",
        "violation_code": "1625",
        "license_no": CITIZEN_A,
        "vin": "LSVAU2180N2000001",
        "plate_no": "黔A12345",
        "violation": {},
    }
    record.update(overrides)
    return record


@pytest.fixture
def ref() -> ReferenceIndex:
    return ReferenceIndex(FULL)


@pytest.fixture
def enricher(ref: ReferenceIndex) -> Enricher:
    return Enricher(ref, WorkCalendar(ref))


def derived(enricher: Enricher, **overrides: Any) -> dict[str, Any]:
    return enricher.enrich(make_record(**overrides)).derived


def codes(enricher: Enricher, **overrides: Any) -> list[str]:
    return [n.code for n in enricher.enrich(make_record(**overrides)).notices]


# --- time and calendar ----------------------------------------------------------------------


def test_time_fields_are_taken_in_shanghai_time(enricher: Enricher) -> None:
    d = derived(enricher, action_time=datetime.fromisoformat("2024-06-18T02:15:30+00:00"))
    assert (d["hour"], d["minute"], d["weekday"]) == (10, 15, 2)
    assert (d["date"], d["month"]) == ("2024-06-18", "2024-06")


def test_a_national_day_record_is_on_a_statutory_holiday_outside_service_hours(
    enricher: Enricher,
) -> None:
    d = derived(enricher, action_time=at("2024-10-01T10:00"))
    assert d["statutory_holiday"] is True
    assert d["workday"] is False
    assert d["within_service_hours"] is False


def test_an_adjusted_sunday_is_a_working_day_with_the_units_monday_hours(
    enricher: Enricher,
) -> None:
    d = derived(enricher, action_time=at("2024-09-29T10:00"))
    assert (d["workday"], d["adjusted_workday"], d["within_service_hours"]) == (True, True, True)


def test_a_lunchtime_record_is_outside_the_units_service_hours(enricher: Enricher) -> None:
    assert derived(enricher, action_time=at("2024-06-18T12:00"))["within_service_hours"] is False
    assert derived(enricher, action_time=at("2024-06-18T11:59"))["within_service_hours"] is True


def test_a_record_in_a_year_without_calendar_gets_monday_to_friday_and_a_notice(
    enricher: Enricher,
) -> None:
    record = make_record(action_time=at("2027-01-05T10:00"), violation_code=None)
    result = enricher.enrich(record)
    assert result.derived["workday"] is True
    assert result.derived["calendar_known"] is False
    assert [n.code for n in result.notices] == [NoticeCode.CALENDAR_MISSING]
    assert result.notices[0].field == "action_time"


def test_a_year_with_loaded_r8_rows_gets_no_calendar_notice() -> None:
    rows = [{"calendar_id": None, "date": "2027-01-01", "kind": "holiday"}]
    ref = ReferenceIndex({**FULL, "calendar": rows})
    enricher = Enricher(ref)
    result = enricher.enrich(make_record(action_time=at("2027-01-01T10:00"), violation_code=None))
    assert result.derived["statutory_holiday"] is True
    assert result.notices == ()


# --- roster ---------------------------------------------------------------------------------


def test_an_overnight_shift_of_the_previous_day_covers_the_early_morning(
    enricher: Enricher,
) -> None:
    assert derived(enricher, action_time=at("2024-06-18T01:30"))["on_duty"] is True
    assert derived(enricher, action_time=at("2024-06-18T02:00"))["on_duty"] is False
    d = derived(enricher, action_time=at("2024-06-17T23:00"))
    assert (d["on_duty"], d["duty_unit_code"]) == (True, EAST)


def test_a_shift_ending_at_its_start_time_is_a_24_hour_duty(enricher: Enricher) -> None:
    assert derived(enricher, operator_id="A2001", action_time=at("2024-06-19T07:59"))["on_duty"]
    assert not derived(enricher, operator_id="A2001", action_time=at("2024-06-19T08:00"))["on_duty"]


def test_a_leave_row_puts_the_operator_on_leave_and_off_duty(enricher: Enricher) -> None:
    d = derived(enricher, action_time=at("2024-06-19T10:00"))
    assert (d["on_leave"], d["leave_type"], d["on_duty"]) == (True, "annual", False)


def test_roster_fields_are_none_without_roster_data() -> None:
    enricher = Enricher(ReferenceIndex({"staff": STAFF}))
    d = enricher.enrich(make_record()).derived
    assert (d["on_duty"], d["on_leave"]) == (None, None)


# --- staff and units ------------------------------------------------------------------------


def test_operator_fields_come_from_the_staff_registry_not_the_claimed_role(
    enricher: Enricher,
) -> None:
    d = derived(enricher, operator_id="A2001", operator_role="police")
    assert d["operator_staff_kind"] == "auxiliary"
    assert d["operator_known"] is True
    assert d["operator_id_no"] == CITIZEN_B


def test_operator_unit_follows_the_r2_version_valid_at_action_time_after_a_transfer(
    enricher: Enricher,
) -> None:
    before = derived(enricher, operator_id="P1002", action_time=at("2024-06-18T10:00"))
    after = derived(enricher, operator_id="P1002", action_time=at("2024-08-20T10:00"))
    assert (before["operator_unit_code"], before["operator_position"]) == (EAST, "brigade_head")
    assert before["operator_unit_is_ancestor_or_equal"] is True
    assert (after["operator_unit_code"], after["operator_position"]) == (
        WEST,
        "deputy_brigade_head",
    )
    assert after["operator_unit_is_ancestor_or_equal"] is False


def test_operator_status_is_the_one_in_force_at_action_time(enricher: Enricher) -> None:
    assert derived(enricher, operator_id="P1003", action_time=at("2024-02-29T10:00"))[
        "operator_status"
    ] == ("active")
    assert derived(enricher, operator_id="P1003")["operator_status"] == "retired"


def test_only_certificates_valid_on_the_action_date_are_listed(enricher: Enricher) -> None:
    assert derived(enricher, action_time=at("2024-12-31T10:00"))["operator_certificates"] == [
        "law_enforcement",
        "inspector",
    ]
    assert derived(enricher, action_time=at("2025-01-02T10:00"))["operator_certificates"] == [
        "inspector"
    ]


def test_a_certificate_serial_not_registered_for_the_operator_is_flagged(
    enricher: Enricher,
) -> None:
    assert derived(enricher)["operator_cert_serial_known"] is True
    assert derived(enricher, operator_cert_serial="CERT-9")["operator_cert_serial_known"] is False


def test_reviewer_and_approver_kinds_come_from_the_staff_registry(enricher: Enricher) -> None:
    d = derived(enricher, reviewer_id="A2001", approver_id="P1002")
    assert (d["reviewer_staff_kind"], d["approver_staff_kind"]) == ("auxiliary", "police")
    assert d["approver_position"] == "brigade_head"


def test_a_unit_lists_its_ancestors_up_to_the_root(enricher: Enricher) -> None:
    d = derived(enricher)
    assert d["unit_ancestors"] == [EAST, DETACHMENT, PROVINCE]
    assert (d["unit_level"], d["unit_parent_code"], d["unit_province_code"]) == (
        "brigade",
        DETACHMENT,
        "52",
    )


def test_a_detachment_officer_is_an_ancestor_of_a_brigade_record() -> None:
    staff = [
        {"staff_id": "D1", "staff_kind": "police", "unit_code": DETACHMENT, "status": "active"}
    ]
    enricher = Enricher(ReferenceIndex({"units": UNITS, "staff": staff}))
    assert enricher.enrich(make_record(operator_id="D1")).derived[
        "operator_unit_is_ancestor_or_equal"
    ]


# --- violation codes, masters, terminals, business types ------------------------------------


def test_statutory_points_are_those_of_the_r7_version_in_force(enricher: Enricher) -> None:
    assert derived(enricher, action_time=at("2022-03-31T23:59"))["vio_statutory_points"] == 3
    d = derived(enricher, action_time=at("2022-04-01T00:00"))
    assert (d["vio_statutory_points"], d["vio_local_standard_fine"], d["vio_code_known"]) == (
        6,
        200,
        True,
    )


def test_vehicle_master_is_found_by_vin_as_of_action_time(enricher: Enricher) -> None:
    assert derived(enricher, action_time=at("2024-04-30T10:00"))["vehicle_master"][
        "owner_id_no"
    ] == (CITIZEN_A)
    assert derived(enricher)["vehicle_master"]["owner_id_no"] == CITIZEN_B


def test_vehicle_master_falls_back_to_the_plate_when_there_is_no_vin(enricher: Enricher) -> None:
    d = derived(enricher, vin=None, plate_type="02")
    assert d["vehicle_master"]["vin"] == "LSVAU2180N2000001"
    assert derived(enricher, vin=None, plate_no="黔A99999")["vehicle_master"] is None


def test_licence_points_before_come_from_the_licence_master(enricher: Enricher) -> None:
    d = derived(enricher)
    assert d["licence_master"]["holder_id_no"] == CITIZEN_A
    assert d["licence_points_before"] == 9


def test_terminal_and_business_type_fields(enricher: Enricher) -> None:
    d = derived(enricher)
    assert (d["terminal_window_id"], d["terminal_unit_code"]) == ("W-EAST-1", EAST)
    assert d["terminal_assigned_staff_ids"] == ["P1001"]
    assert d["operator_assigned_to_terminal"] is True
    assert d["business_police_only_actions"] == ["decide", "eliminate"]
    assert (d["business_four_eyes"], d["business_sla_days"], d["business_day_basis"]) == (
        True,
        5,
        "working",
    )


# --- notices --------------------------------------------------------------------------------


def test_a_fully_resolved_record_has_no_notices(enricher: Enricher) -> None:
    assert codes(enricher) == []


def test_an_operator_unknown_to_the_staff_registry_is_reported(enricher: Enricher) -> None:
    result = enricher.enrich(make_record(operator_id="P9999"))
    assert [n.code for n in result.notices] == [NoticeCode.UNKNOWN_OPERATOR]
    assert (result.notices[0].field, result.notices[0].value) == ("operator_id", "P9999")
    assert result.derived["operator_known"] is False


def test_an_operator_with_no_r2_version_at_action_time_is_unknown(enricher: Enricher) -> None:
    staff = [{"staff_id": "P5", "staff_kind": "police", "effective_from": "2025-01-01"}]
    enricher = Enricher(ReferenceIndex({**FULL, "staff": staff}))
    assert codes(enricher, operator_id="P5") == [NoticeCode.UNKNOWN_OPERATOR]


def test_a_system_operator_is_not_an_unknown_operator(enricher: Enricher) -> None:
    result = enricher.enrich(make_record(operator_id="SYS:nightly_close"))
    assert result.notices == ()
    assert result.derived["operator_is_system"] is True
    assert result.derived["operator_known"] is None


def test_each_unresolved_reference_has_its_own_notice_code(enricher: Enricher) -> None:
    assert codes(enricher, unit_code="529999000000") == [NoticeCode.UNKNOWN_UNIT]
    assert codes(enricher, window_id="W-NOWHERE") == [NoticeCode.UNKNOWN_WINDOW]
    assert codes(enricher, terminal_id="T-NOWHERE") == [NoticeCode.UNKNOWN_TERMINAL]
    assert codes(enricher, violation_code="9999") == [NoticeCode.UNKNOWN_VIOLATION_CODE]


def test_a_code_not_yet_in_force_at_action_time_is_unknown(enricher: Enricher) -> None:
    codes_from_2025 = [{"violation_code": "16250", "points": 3, "effective_from": "2025-01-01"}]
    enricher = Enricher(ReferenceIndex({**FULL, "violation_codes": codes_from_2025}))
    assert codes(enricher, violation_code="16250") == [NoticeCode.UNKNOWN_VIOLATION_CODE]


def test_a_missing_dataset_is_reported_once_and_not_as_unknown_references() -> None:
    enricher = Enricher(ReferenceIndex({"units": UNITS, "staff": STAFF}))
    result = enricher.enrich(make_record())
    assert [(n.code, n.field) for n in result.notices] == [
        (NoticeCode.DATASET_MISSING, "window_id"),  # terminals: once for window and terminal
        (NoticeCode.DATASET_MISSING, "violation_code"),
    ]
    assert result.derived["terminal_known"] is None


def test_known_flags_are_none_rather_than_false_without_their_dataset() -> None:
    d = Enricher(ReferenceIndex({})).enrich(make_record(operator_id="P9999")).derived
    assert (d["operator_known"], d["unit_known"], d["terminal_known"], d["vio_code_known"]) == (
        None,
        None,
        None,
        None,
    )


def test_empty_reference_fields_are_not_reported(enricher: Enricher) -> None:
    assert codes(enricher, window_id=None, terminal_id="", violation_code=None) == []


def test_the_module_function_reuses_one_enricher_per_reference_index(ref: ReferenceIndex) -> None:
    calendar = WorkCalendar(ref)
    first = enrich(make_record(), ref, calendar)
    second = enrich(make_record(operator_id="P9999"), ref, calendar)
    assert first.notices == ()
    assert [n.code for n in second.notices] == [NoticeCode.UNKNOWN_OPERATOR]


# --- related() ------------------------------------------------------------------------------


def test_a_person_is_related_to_themselves(ref: ReferenceIndex) -> None:
    assert related(CITIZEN_A, CITIZEN_A, ref)
    assert related("52010219820202432x", WANG_SPOUSE_ID_NO, ref)  # lower-case check character


def test_a_declared_spouse_is_related_in_both_directions(ref: ReferenceIndex) -> None:
    assert related(WANG_ID_NO, WANG_SPOUSE_ID_NO, ref)
    assert related(WANG_SPOUSE_ID_NO, WANG_ID_NO, ref)


def test_an_organisation_is_related_to_its_registered_driver(ref: ReferenceIndex) -> None:
    assert related(FLEET, FLEET_DRIVER, ref)
    assert related(FLEET_DRIVER, FLEET, ref)
    assert not related(FLEET, CITIZEN_A, ref)


def test_two_unrelated_citizens_are_not_related(ref: ReferenceIndex) -> None:
    assert not related(CITIZEN_A, CITIZEN_B, ref)
    assert not related(WANG_SPOUSE_ID_NO, CITIZEN_A, ref)


def test_nulls_and_empties_are_never_related(ref: ReferenceIndex) -> None:
    assert not related(None, None, ref)
    assert not related("", "", ref)
    assert not related(None, WANG_ID_NO, ref)


def test_a_relation_ended_before_action_time_no_longer_relates() -> None:
    relations = [
        {"staff_id": "P1001", "related_id_no": WANG_SPOUSE_ID_NO, "effective_to": "2023-01-01"}
    ]
    ref = ReferenceIndex({"staff": STAFF, "relations": relations})
    assert related(WANG_ID_NO, WANG_SPOUSE_ID_NO, ref, at=at("2022-12-31T10:00"))
    assert not related(WANG_ID_NO, WANG_SPOUSE_ID_NO, ref, at=at("2024-06-18T10:00"))
