"""The record contract: what is quarantined, what is accepted with a warning (catalogue §1.7)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditcage import clock
from auditcage.records import enums as e
from auditcage.records.validation import Validation, validate_record
from tests.builders import DELETE, make_record, valid_resident_id, valid_vin

SERVICES = ("vehicle", "license", "accident", "violation")
NOW = datetime(2024, 6, 20, 12, 0, tzinfo=clock.SHANGHAI)  # after every builder's action_time


def check(raw: Any, *, now: datetime = NOW) -> Validation:
    return validate_record(raw, now=now)


def rejected(raw: Any, *, now: datetime = NOW) -> list[tuple[str, str]]:
    """The (field, code) of every rejection."""
    return [(p.field, p.code) for p in check(raw, now=now).rejections]


def warned(raw: Any) -> list[tuple[str, str]]:
    return [(p.field, p.code) for p in check(raw).warnings]


def accepted(raw: Any) -> dict[str, Any]:
    result = check(raw)
    assert result.rejections == ()
    assert result.record is not None
    return result.record


# --- the builders themselves ---


@pytest.mark.parametrize("service", SERVICES)
def test_builder_records_are_accepted_without_warnings(service: str) -> None:
    result = check(make_record(service))
    assert result.rejections == () and result.warnings == ()
    assert result.record is not None and result.record["service"] == service


def test_builder_ids_and_vins_carry_real_check_characters() -> None:
    assert valid_resident_id("520102", "19900101", "123") == "52010219900101123X"
    assert valid_vin("1M8GDM9AKP042788") == "1M8GDM9AXKP042788"  # the ISO 3779 textbook VIN


# --- required fields (§1.2 "req: yes") ---

REQUIRED = (
    "record_id",
    "source_system",
    "schema_version",
    "serial_no",
    "service",
    "business_type",
    "action",
    "action_time",
    "unit_code",
    "channel",
    "operator_id",
    "operator_role",
)


@pytest.mark.parametrize("name", REQUIRED)
def test_record_without_a_required_field_is_quarantined_naming_it(name: str) -> None:
    assert rejected(make_record("violation", **{name: DELETE})) == [(name, "missing_field")]


@pytest.mark.parametrize("empty", [None, "", "  "], ids=["null", "empty", "blank"])
def test_required_field_that_is_null_or_empty_counts_as_missing(empty: Any) -> None:
    assert rejected(make_record("vehicle", operator_id=empty)) == [("operator_id", "missing_field")]


@pytest.mark.parametrize("value", [DELETE, None], ids=["missing", "null"])
def test_missing_evidence_count_defaults_to_zero_and_is_not_quarantined(value: object) -> None:
    assert accepted(make_record("vehicle", evidence_count=value))["evidence_count"] == 0


def test_negative_evidence_count_is_quarantined() -> None:
    assert rejected(make_record("vehicle", evidence_count=-1)) == [
        ("evidence_count", "out_of_range")
    ]


# --- conditions stated in §1.2's notes ---


def test_accepted_at_is_required_unless_the_action_is_a_query() -> None:
    assert rejected(make_record("license", accepted_at=DELETE)) == [
        ("accepted_at", "missing_field")
    ]
    assert accepted(make_record("license", accepted_at=DELETE, action="query"))


@pytest.mark.parametrize(
    ("channel", "name"),
    [
        ("window", "window_id"),
        ("window", "terminal_id"),
        ("window", "client_ip"),
        ("kiosk", "terminal_id"),
        ("field", "terminal_id"),
        ("station", "terminal_id"),
        ("backend", "client_ip"),
        ("internet", "client_ip"),
        ("internet", "account_id"),
    ],
)
def test_channel_field_is_required_for_its_channel(channel: str, name: str) -> None:
    raw = make_record("vehicle", channel=channel, **{"account_id": "12123-u-88", name: DELETE})
    problems = check(raw).rejections
    assert [(p.field, p.code) for p in problems] == [(name, "missing_field")]
    assert f"channel={channel}" in problems[0].reason


def test_system_channel_needs_no_window_terminal_ip_or_account() -> None:
    gone = dict.fromkeys(("window_id", "terminal_id", "client_ip", "account_id"), DELETE)
    assert accepted(make_record("violation", channel="system", **gone))


def test_subject_id_type_is_required_when_subject_id_no_is_set() -> None:
    raw = make_record("violation", subject_id_type=DELETE)
    assert rejected(raw) == [("subject_id_type", "missing_field")]
    assert accepted(make_record("violation", subject_id_type=DELETE, subject_id_no=DELETE))


@pytest.mark.parametrize("keep", ["plate_no", "vin"], ids=["with plate only", "with vin only"])
def test_vehicle_owner_id_no_is_required_when_plate_or_vin_is_set(keep: str) -> None:
    other = "vin" if keep == "plate_no" else "plate_no"
    raw = make_record("violation", vehicle_owner_id_no=DELETE, **{other: DELETE})
    assert rejected(raw) == [("vehicle_owner_id_no", "missing_field")]


def test_vehicle_owner_id_no_is_not_required_without_plate_and_vin() -> None:
    assert accepted(
        make_record("violation", vehicle_owner_id_no=DELETE, plate_no=DELETE, vin=DELETE)
    )


def test_amount_kind_is_required_when_amount_is_set() -> None:
    assert rejected(make_record("violation", amount_kind=DELETE)) == [
        ("amount_kind", "missing_field")
    ]


@pytest.mark.parametrize("action", sorted(e.ACTIONS_NEEDING_REASON))
def test_reason_code_is_required_for_corrective_actions(action: str) -> None:
    raw = make_record(
        "violation", action=action, changed_fields=["points"], before={"points": 6}, after={}
    )
    assert ("reason_code", "missing_field") in rejected(raw)


def test_reason_text_is_required_when_the_reason_is_other() -> None:
    raw = make_record("violation", action="cancel", reason_code="other")
    assert rejected(raw) == [("reason_text", "missing_field")]
    assert accepted(make_record("violation", action="cancel", reason_code="other", reason_text="x"))


MODIFY = {
    "action": "modify",
    "reason_code": "correction",
    "changed_fields": ["violation.license_used"],
    "before": {"violation.license_used": valid_resident_id("520103", "19920520", "222")},
    "after": {"violation.license_used": valid_resident_id("440106", "19880715", "123")},
}


@pytest.mark.parametrize("name", ["changed_fields", "before", "after"])
def test_modify_without_changed_fields_before_or_after_is_quarantined(name: str) -> None:
    raw = make_record("violation", **{**MODIFY, name: DELETE})
    assert rejected(raw) == [(name, "modify_without_change")]


def test_modify_with_an_empty_change_list_is_quarantined() -> None:
    raw = make_record("violation", **{**MODIFY, "changed_fields": []})
    assert rejected(raw) == [("changed_fields", "modify_without_change")]


def test_complete_modify_is_accepted() -> None:
    assert accepted(make_record("violation", **MODIFY))


@pytest.mark.parametrize("name", ["before", "after"])
def test_revoke_without_before_or_after_is_quarantined(name: str) -> None:
    revoke = {
        "action": "revoke",
        "reason_code": "reconsideration",
        "before": {"points": 6},
        "after": {"points": 0},
    }
    raw = make_record("violation", **{**revoke, name: DELETE})
    assert rejected(raw) == [(name, "revoke_without_change")]
    assert accepted(make_record("violation", **revoke))


def test_violation_decide_without_violation_code_is_quarantined() -> None:
    raw = make_record("violation", violation_code=DELETE)
    assert rejected(raw) == [("violation_code", "decide_without_code")]


def test_other_violation_steps_without_violation_code_are_accepted() -> None:
    # §1.2 says "required for violation records", but §1.7 holds only a decide (§0.5 item 2).
    assert accepted(make_record("violation", violation_code=DELETE, action="notify"))


# --- "cond" fields whose note states no condition (§0.5 item 2) ---


@pytest.mark.parametrize(
    "name",
    [
        "plate_no",
        "vin",
        "document_no",
        "basis_doc_no",
        "approval_no",
        "operator_cert_serial",
        "completed_at",
        "plate_type",
        "license_no",
        "license_holder_id_no",
        "points",
        "amount",
        "document_kind",
    ],
)
def test_cond_field_without_a_stated_condition_never_quarantines(name: str) -> None:
    for service in SERVICES:
        raw = make_record(service, **{"basis_doc_no": "FY-1", "approval_no": "SP-1", name: DELETE})
        if name == "amount":
            raw.pop("amount_kind", None)
        assert check(raw).rejections == (), service


# --- service, business type and extension block ---


def test_record_without_the_block_of_its_service_is_quarantined() -> None:
    problems = check(make_record("violation", violation=DELETE)).rejections
    assert [(p.field, p.code) for p in problems] == [("violation", "block_mismatch")]
    assert "service and extension block do not match" in problems[0].reason


def test_record_with_a_block_of_another_service_is_quarantined() -> None:
    raw = make_record("violation", vehicle={"vehicle_type": "K33"})
    assert rejected(raw) == [("vehicle", "block_mismatch")]


def test_record_whose_block_is_not_an_object_is_quarantined() -> None:
    assert rejected(make_record("violation", violation="yes")) == [("violation", "bad_type")]


def test_business_type_of_another_service_is_quarantined() -> None:
    raw = make_record("violation", business_type="VEH_TRANSFER")
    assert rejected(raw) == [("business_type", "business_type_mismatch")]


def test_every_business_type_belongs_to_a_service_of_its_prefix() -> None:
    prefixes = {"VEH": "vehicle", "LIC": "license", "ACC": "accident", "VIO": "violation"}
    assert len(e.BUSINESS_TYPES) == 56
    for code, service in e.BUSINESS_TYPES.items():
        assert prefixes[code[:3]] == service


def test_unknown_but_well_formed_source_system_is_accepted() -> None:
    assert accepted(make_record("vehicle", source_system="gz_vehicle_v2"))


def test_malformed_source_system_is_quarantined() -> None:
    assert rejected(make_record("vehicle", source_system="Vehicle Reg")) == [
        ("source_system", "bad_format")
    ]


@pytest.mark.parametrize(("version", "ok"), [("1.0", True), ("1.3", True), ("2.0", False)])
def test_schema_version_must_be_1_x(version: str, ok: bool) -> None:
    problems = rejected(make_record("vehicle", schema_version=version))
    assert problems == ([] if ok else [("schema_version", "bad_format")])


@pytest.mark.parametrize(("name", "limit"), [("record_id", 64), ("serial_no", 40)])
def test_identifiers_longer_than_their_limit_are_quarantined(name: str, limit: int) -> None:
    assert accepted(make_record("vehicle", **{name: "x" * limit}))
    problems = check(make_record("vehicle", **{name: "x" * (limit + 1)})).rejections
    assert [(p.field, p.code) for p in problems] == [(name, "too_long")]
    assert f"limit {limit}" in problems[0].reason


# --- enums (§1.7: an unknown value is quarantined) ---

ENUM_FIELDS = [
    ("vehicle", "action", "action"),
    ("vehicle", "channel", "channel"),
    ("vehicle", "operator_role", "operator_role"),
    ("vehicle", "subject_id_type", "subject_id_type"),
    ("vehicle", "amount_kind", "amount_kind"),
    ("vehicle", "document_kind", "document_kind"),
    ("vehicle", "business_type", "business_type"),
    ("vehicle", "gps", "gps.datum"),
    ("vehicle", "evidence.1.kind", "evidence.1.kind"),
    ("vehicle", "vehicle.inspection.result", "vehicle.inspection.result"),
    ("vehicle", "vehicle.inspection.gps.datum", "vehicle.inspection.gps.datum"),
    ("vehicle", "vehicle.inspection.photos.2.kind", "vehicle.inspection.photos.2.kind"),
    ("vehicle", "vehicle.plate_selection.method", "vehicle.plate_selection.method"),
    ("vehicle", "vehicle.temp_plate.reason", "vehicle.temp_plate.reason"),
    ("license", "license.license_status", "license.license_status"),
    ("license", "license.exam.subject", "license.exam.subject"),
    ("license", "license.exam.attempt", "license.exam.attempt"),
    ("license", "license.exam.assignment", "license.exam.assignment"),
    ("license", "license.exam.result", "license.exam.result"),
    ("license", "license.exam.judging", "license.exam.judging"),
    ("license", "license.study.kind", "license.study.kind"),
    ("accident", "accident.procedure", "accident.procedure"),
    ("accident", "accident.report_mode", "accident.report_mode"),
    ("accident", "accident.parties.0.role", "accident.parties.0.role"),
    ("accident", "accident.parties.1.liability", "accident.parties.1.liability"),
    ("accident", "accident.appraisals.0.kind", "accident.appraisals.0.kind"),
    ("accident", "accident.determination.type", "accident.determination.type"),
    ("accident", "accident.review.conclusion", "accident.review.conclusion"),
    ("violation", "violation.source", "violation.source"),
    ("violation", "violation.procedure", "violation.procedure"),
    ("violation", "violation.decision.penalty_kinds", "violation.decision.penalty_kinds.1"),
    ("violation", "violation.decision.delivery_method", "violation.decision.delivery_method"),
    ("violation", "violation.driver_verify.method", "violation.driver_verify.method"),
    ("violation", "violation.payment.status", "violation.payment.status"),
    ("violation", "violation.payment.channel", "violation.payment.channel"),
    ("violation", "violation.measure.type", "violation.measure.type"),
    ("violation", "violation.measure.signed_by_party", "violation.measure.signed_by_party"),
    ("violation", "violation.revocation.basis_type", "violation.revocation.basis_type"),
]
BOGUS: dict[str, Any] = {
    "gps": {"lat": 26.6, "lon": 106.6, "datum": "BD09"},
    "license.license_status": "AZ",
    "license.exam.subject": 5,
    "license.exam.attempt": 3,
    "violation.decision.penalty_kinds": ["fine", "caning"],
}


@pytest.mark.parametrize(("service", "key", "path"), ENUM_FIELDS, ids=[f[2] for f in ENUM_FIELDS])
def test_unknown_enum_value_is_quarantined_with_its_dotted_path(
    service: str, key: str, path: str
) -> None:
    problems = check(make_record(service, **{key: BOGUS.get(key, "bogus")})).rejections
    assert [(p.field, p.code) for p in problems] == [(path, "unknown_enum")]
    assert "expected one of" in problems[0].reason or "expected letters" in problems[0].reason


def test_unknown_action_names_the_value_the_field_and_the_allowed_values() -> None:
    (problem,) = check(make_record("vehicle", action="foo")).rejections
    assert problem.reason.startswith("unknown value 'foo' for action; expected one of accept, ")


def test_elimination_reason_outside_the_cp09_list_is_accepted_for_the_rule_to_grade() -> None:
    raw = make_record("violation", **{"violation.elimination.reason_code": "friend_of_chief"})
    assert accepted(raw)


# --- time ---


def test_unparsable_action_time_is_quarantined() -> None:
    for value in ("yesterday", "2024-06-11", 1718095327):
        assert rejected(make_record("vehicle", action_time=value)) == [
            ("action_time", "bad_datetime")
        ]


def test_action_time_more_than_5_minutes_in_the_future_is_quarantined() -> None:
    action_time = NOW + timedelta(minutes=6, seconds=30)
    problems = check(make_record("vehicle", action_time=action_time.isoformat())).rejections
    assert [(p.field, p.code) for p in problems] == [("action_time", "future_time")]
    assert problems[0].reason == "action_time is 7 minutes in the future (limit 5)"


def test_action_time_exactly_5_minutes_ahead_is_accepted() -> None:
    raw = make_record("vehicle", action_time=(NOW + timedelta(minutes=5)).isoformat())
    assert accepted(raw)


def test_future_check_uses_the_frozen_clock_by_default(frozen_clock: None) -> None:
    ahead = (clock.now() + timedelta(hours=1)).isoformat()
    problems = validate_record(make_record("vehicle", action_time=ahead)).rejections
    assert [(p.field, p.code) for p in problems] == [("action_time", "future_time")]


def test_naive_datetimes_are_shanghai_time_and_all_are_loaded_aware_in_shanghai() -> None:
    record = accepted(
        make_record(
            "vehicle",
            action_time="2024-06-11T10:15:00",
            accepted_at="2024-06-11T01:40:12Z",
            **{"vehicle.inspection.started_at": "2024-06-11 09:10:00"},
        )
    )
    assert record["action_time"] == datetime(2024, 6, 11, 10, 15, tzinfo=clock.SHANGHAI)
    assert record["action_time"].tzinfo is clock.SHANGHAI
    assert record["accepted_at"] == datetime(2024, 6, 11, 9, 40, 12, tzinfo=clock.SHANGHAI)
    assert record["accepted_at"].tzinfo is clock.SHANGHAI
    started = record["vehicle"]["inspection"]["started_at"]
    assert started == datetime(2024, 6, 11, 9, 10, tzinfo=clock.SHANGHAI)


def test_dates_are_loaded_as_dates() -> None:
    record = accepted(make_record("vehicle"))
    assert record["vehicle"]["first_reg_date"] == date(2019, 5, 20)


def test_malformed_date_is_quarantined() -> None:
    raw = make_record("vehicle", **{"vehicle.insurance_valid_to": "2025-02-30"})
    assert rejected(raw) == [("vehicle.insurance_valid_to", "bad_date")]


# --- identity numbers ---


def test_resident_id_with_a_wrong_check_character_is_quarantined() -> None:
    good = valid_resident_id("520102", "19900101", "123")
    bad = good[:-1] + ("1" if good[-1] != "1" else "2")
    problems = check(make_record("violation", subject_id_no=bad)).rejections
    assert [(p.field, p.code) for p in problems] == [("subject_id_no", "id_checksum")]
    assert problems[0].reason == "GB 11643 checksum does not match"


@pytest.mark.parametrize(
    "number", ["52010219900101123", "4401**********1234", "5201021990010112AX"]
)
def test_resident_id_of_the_wrong_shape_is_quarantined(number: str) -> None:
    assert rejected(make_record("violation", subject_id_no=number)) == [
        ("subject_id_no", "id_format")
    ]


def test_resident_id_with_a_lowercase_x_is_accepted() -> None:
    number = valid_resident_id("520102", "19900101", "123")
    assert number.endswith("X")
    assert accepted(make_record("violation", subject_id_no=number.lower()))


def test_resident_id_with_an_unknown_region_is_accepted_with_a_warning() -> None:
    raw = make_record("violation", subject_id_no=valid_resident_id("520502", "19800101", "123"))
    assert accepted(raw)
    assert warned(raw) == [("subject_id_no", "id_component")]


def test_non_resident_id_types_are_not_checksum_checked() -> None:
    assert accepted(make_record("violation", subject_id_type="passport", subject_id_no="E1234567"))


def test_id_numbers_without_a_declared_type_are_not_quarantined() -> None:
    raw = make_record("violation", vehicle_owner_id_no="5201021990", agent_id_no="bad")
    assert accepted(raw)


# --- VIN ---


@pytest.mark.parametrize(
    "vin",
    ["LSVAU2180N212345", "LSVAU2180N2123456X", "LSVAU2I80N2123456", "lsvau2180n2123456"],
    ids=["16 chars", "18 chars", "letter I", "lowercase"],
)
def test_vin_that_is_not_17_allowed_characters_is_quarantined(vin: str) -> None:
    assert rejected(make_record("violation", vin=vin)) == [("vin", "vin_format")]


def test_vin_with_a_wrong_check_digit_is_accepted_with_a_warning() -> None:
    vin = valid_vin("WDB12345678901234"[:16])
    wrong = vin[:8] + ("1" if vin[8] != "1" else "2") + vin[9:]
    raw = make_record("violation", vin=wrong)
    assert accepted(raw)
    assert warned(raw) == [("vin", "vin_check_digit")]


def test_vin_in_the_transfer_block_is_not_checked() -> None:
    assert accepted(make_record("vehicle", **{"vehicle.transfer.vin": "short"}))


# --- plates (GA 36: warning only) ---


@pytest.mark.parametrize(
    "plate",
    [
        "黔A12345",  # the catalogue's own spelling of Guizhou
        "贵A12345",
        "京AF0236",
        "黔AD12345",  # small new energy
        "黔AGE1234",  # small new energy, 2021 letters
        "黔A12345D",  # large new energy
        "黔A1234学",
        "京A1234警",
        "粤Z1234港",
        "沪A1234领",
        "黔A1234挂",
        "使014578",
    ],
)
def test_ga36_plate_is_accepted_without_a_warning(plate: str) -> None:
    assert warned(make_record("violation", plate_no=plate)) == []


@pytest.mark.parametrize("plate", ["黔A1234", "黔I12345", "WJ贵12345", "ABC1234", "黔A-12345"])
def test_plate_outside_ga36_is_accepted_with_a_warning(plate: str) -> None:
    raw = make_record("violation", plate_no=plate)
    assert accepted(raw)
    assert warned(raw) == [("plate_no", "plate_pattern")]


# --- numbers ---


@pytest.mark.parametrize("points", [-1, 13])
def test_points_outside_0_to_12_are_quarantined(points: int) -> None:
    assert rejected(make_record("violation", points=points)) == [("points", "points_range")]


@pytest.mark.parametrize("points", [0, 12])
def test_points_at_the_bounds_are_accepted(points: int) -> None:
    assert accepted(make_record("violation", points=points))["points"] == points


def test_fractional_points_are_a_type_error_not_truncated() -> None:
    assert rejected(make_record("violation", points=6.5)) == [("points", "bad_type")]


def test_negative_amount_is_quarantined_unless_it_is_a_refund() -> None:
    assert rejected(make_record("violation", amount=-200.0)) == [("amount", "negative_amount")]
    assert accepted(make_record("violation", amount=-200.0, amount_kind="refund"))


@pytest.mark.parametrize("amount", [float("nan"), float("inf"), "NaN"])
def test_non_finite_amount_is_quarantined(amount: Any) -> None:
    assert rejected(make_record("violation", amount=amount)) == [("amount", "non_finite")]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("operator_id", 520133),
        ("amount", "two hundred"),
        ("points", True),
        ("evidence", {"kind": "photo_vin"}),
        ("before", ["points"]),
        ("violation.decision.penalty_kinds", "fine"),
        ("violation.driver_verify", "none"),
    ],
)
def test_value_of_the_wrong_type_is_quarantined(key: str, value: Any) -> None:
    assert rejected(make_record("violation", **{key: value})) == [(key, "bad_type")]


# --- whole records ---


@pytest.mark.parametrize("raw", [[], "record", None, 42], ids=["list", "str", "null", "int"])
def test_anything_but_an_object_is_rejected_as_a_whole(raw: Any) -> None:
    result = check(raw)
    assert result.record is None
    assert [(p.field, p.code) for p in result.rejections] == [("", "not_an_object")]


def test_all_problems_of_a_record_are_reported_together() -> None:
    raw = make_record(
        "violation",
        action_time="soon",
        channel="fax",
        points=13,
        vin="TOO-SHORT",
        vehicle={"vehicle_type": "K33"},
        unit_code=DELETE,
        **{
            "violation.decision.penalty_kinds": ["fine", "caning"],
            "violation.payment.paid_at": "never",
        },
    )
    assert sorted(rejected(raw)) == sorted(
        [
            ("unit_code", "missing_field"),
            ("action_time", "bad_datetime"),
            ("channel", "unknown_enum"),
            ("points", "points_range"),
            ("vin", "vin_format"),
            ("vehicle", "block_mismatch"),
            ("violation.decision.penalty_kinds.1", "unknown_enum"),
            ("violation.payment.paid_at", "bad_datetime"),
        ]
    )


def test_unknown_extra_fields_are_kept_at_the_top_and_in_blocks() -> None:
    raw = make_record(
        "vehicle",
        source_batch="2024-06-11/7",
        **{"vehicle.colour": "white", "vehicle.inspection.weather": {"rain": True}},
    )
    record = accepted(raw)
    assert record["source_batch"] == "2024-06-11/7"
    assert record["vehicle"]["colour"] == "white"
    assert record["vehicle"]["inspection"]["weather"] == {"rain": True}


def test_optional_fields_may_be_null() -> None:
    raw = make_record("violation", approver_id=None, reason_code=None, gps=None, evidence=None)
    assert accepted(raw)


def test_validation_does_not_change_the_raw_record() -> None:
    raw = make_record("accident")
    before = repr(raw)
    check(make_record("accident", points=99))
    check(raw)
    assert repr(raw) == before


# --- property: any mix of valid enum values never crashes validation ---

ENUM_VALUES: dict[str, list[Any]] = {
    "action": list(e.Action),
    "channel": list(e.Channel),
    "operator_role": list(e.OperatorRole),
    "service": list(e.Service),
    "business_type": list(e.BUSINESS_TYPES),
    "subject_id_type": list(e.SubjectIdType),
    "amount_kind": list(e.AmountKind),
    "document_kind": list(e.DocumentKind),
    "vehicle.inspection.result": list(e.InspectionResult),
    "license.exam.subject": [int(s) for s in e.ExamSubject],
    "accident.parties.0.liability": list(e.Liability),
    "violation.procedure": list(e.ViolationProcedure),
    "violation.payment.status": list(e.PaymentStatus),
    "violation.measure.type": list(e.MeasureType),
}
overrides = st.dictionaries(
    st.sampled_from(sorted(ENUM_VALUES)),
    st.just(None),
    max_size=6,
).flatmap(
    lambda keys: st.fixed_dictionaries(
        {
            k: st.sampled_from([str(v) if isinstance(v, str) else v for v in ENUM_VALUES[k]])
            for k in keys
        }
    )
)


@settings(max_examples=50, database=None)
@given(service=st.sampled_from(SERVICES), changes=overrides)
def test_validation_never_raises_and_every_rejection_names_field_and_reason(
    service: str, changes: dict[str, Any]
) -> None:
    result = validate_record(make_record(service, **changes), now=NOW)
    assert (result.record is None) == bool(result.rejections)
    for problem in result.rejections + result.warnings:
        assert problem.field and problem.reason and problem.code
