"""The type checker of conditions: every mistake names its column and field, with a hint."""

from __future__ import annotations

from datetime import datetime

import pytest

from auditcage import clock
from auditcage.records.enrich import Enricher
from auditcage.records.validation import validate_record
from auditcage.reference.index import ReferenceIndex
from auditcage.rulepacks.check import CheckError, check
from auditcage.rulepacks.fields import (
    BOOL,
    DATETIME,
    DERIVED_TYPES,
    LIST,
    NUMBER,
    OBJECT,
    REGISTRY,
    STRING,
    suggest,
)
from tests.builders import make_record

LISTS = {"night_desk": ["N-0031"], "watch_plates": ["黔A12345"]}


def error_of(text: str, **kwargs: object) -> CheckError:
    with pytest.raises(CheckError) as caught:
        check(text, lists=LISTS, **kwargs)  # type: ignore[arg-type]
    return caught.value


# --- the registry -------------------------------------------------------------------------------


def test_registry_types_nested_record_paths_from_the_schemas() -> None:
    assert REGISTRY.paths["violation.decision.decided_at"].type == DATETIME
    assert REGISTRY.paths["vehicle.seizure_active"].type == BOOL
    assert REGISTRY.paths["points"].type == NUMBER
    assert REGISTRY.paths["record_id"].type == STRING
    assert "approve" in (REGISTRY.paths["action"].enum_values or ())


def test_registry_describes_the_elements_of_a_list_of_objects() -> None:
    parties = REGISTRY.paths["accident.parties"]
    assert parties.type == LIST
    assert parties.item is not None
    assert parties.item.member("role").enum_values is not None  # type: ignore[union-attr]
    alcohol = parties.item.member("alcohol_test")
    assert alcohol is not None and alcohol.member("done").type == BOOL  # type: ignore[union-attr]


def test_derived_field_table_matches_what_enrich_returns() -> None:
    record = validate_record(
        make_record("violation"), now=datetime(2030, 1, 1, tzinfo=clock.SHANGHAI)
    )
    assert record.record is not None
    derived = Enricher(ReferenceIndex({})).enrich(record.record).derived
    assert set(derived) == set(DERIVED_TYPES)


def test_derived_objects_and_lists_are_typed() -> None:
    assert REGISTRY.paths["vehicle_master"].type == OBJECT
    assert REGISTRY.paths["unit_ancestors"].type == LIST


def test_suggest_proposes_the_nearest_field_name() -> None:
    assert suggest("handle_hour") == "hour"
    assert suggest("inspection.ended_at") == "vehicle.inspection.ended_at"


# --- names ------------------------------------------------------------------------------------


def test_unknown_field_names_column_field_and_suggestion() -> None:
    error = error_of('action == "decide" and handle_hour < 8')
    assert error.column == 23
    assert error.field == "handle_hour"
    assert error.suggestion == "hour"
    assert "did you mean hour?" in str(error)


def test_unknown_member_of_a_block_suggests_the_sibling() -> None:
    error = error_of("vehicle.inspection.ended_att > action_time")
    assert error.field == "vehicle.inspection.ended_att"
    assert error.suggestion == "vehicle.inspection.ended_at"


def test_path_through_a_list_outside_a_quantifier_is_refused_with_a_hint() -> None:
    error = error_of('accident.parties.role == "driver"')
    assert error.column == 0
    assert error.field == "accident.parties.role"
    assert "any(accident.parties, item.role" in error.problem


def test_item_outside_a_quantifier_is_refused() -> None:
    error = error_of('item.role == "driver"')
    assert error.field == "item.role"
    assert "inside any(" in error.problem


def test_unknown_item_member_suggests_the_right_one() -> None:
    error = error_of('any(accident.parties, item.rol == "driver")')
    assert error.column == 22
    assert error.suggestion == "item.role"


def test_first_outside_a_sequence_is_refused() -> None:
    error = error_of("first.operator_id == operator_id")
    assert error.field == "first.operator_id"
    assert "sequence" in error.problem
    assert check("first.operator_id == operator_id", allow_first=True).fields == {
        "first.operator_id",
        "operator_id",
    }


def test_unknown_named_list_is_refused_with_a_suggestion() -> None:
    error = error_of("operator_id in lists.night_desks")
    assert error.column == 15
    assert error.field == "lists.night_desks"
    assert error.suggestion == "lists.night_desk"


# --- enums and types --------------------------------------------------------------------------


def test_misspelt_enum_value_is_refused_with_the_right_value() -> None:
    error = error_of('action == "aprove"')
    assert error.column == 10
    assert error.field == "action"
    assert error.suggestion == "approve"


def test_misspelt_enum_value_in_a_list_is_refused() -> None:
    error = error_of('action in ["decide", "revok"]')
    assert error.column == 21
    assert error.suggestion == "revoke"


def test_misspelt_enum_value_of_a_list_element_is_refused() -> None:
    error = error_of('any(accident.parties, item.role == "drivr")')
    assert error.field == "accident.parties.item.role" or error.field == "item.role"
    assert error.suggestion == "driver"


def test_comparing_a_datetime_with_a_number_is_a_type_error() -> None:
    error = error_of("action_time > 5")
    assert error.column == 12
    assert error.field == "action_time"
    assert "a datetime with a number" in error.problem


def test_ordering_a_string_against_a_number_is_a_type_error() -> None:
    error = error_of("plate_no < 3")
    assert error.field == "plate_no"
    assert "a string with a number" in error.problem


def test_comparing_a_date_with_a_datetime_hints_at_date() -> None:
    error = error_of("vehicle.insurance_valid_to < action_time")
    assert "date(...)" in error.problem


def test_comparing_with_null_points_to_is_null() -> None:
    error = error_of("approver_id == null")
    assert error.column == 15
    assert "is null" in error.problem


def test_a_boolean_has_no_order() -> None:
    assert "no order" in error_of("vehicle.stolen_flag < true").problem


def test_arithmetic_on_mismatched_types_is_refused() -> None:
    error = error_of("action_time + 5 > action_time")
    assert error.column == 12
    assert "cannot add a datetime and a number" in error.problem


def test_datetime_difference_is_a_duration() -> None:
    checked = check("vehicle.inspection.ended_at - vehicle.inspection.started_at < 120s")
    assert checked.type.type == BOOL
    assert checked.fields == {"vehicle.inspection.ended_at", "vehicle.inspection.started_at"}


def test_a_condition_must_be_boolean() -> None:
    error = error_of("points + 1")
    assert error.column == 7
    assert "true or false" in error.problem


def test_and_needs_conditions_on_both_sides() -> None:
    error = error_of("hour and workday")
    assert error.field == "hour"


def test_in_a_string_needs_a_string_on_the_left() -> None:
    assert "substring" in error_of("points in plate_no").problem


# --- functions --------------------------------------------------------------------------------


def test_unknown_function_is_refused_with_a_suggestion() -> None:
    error = error_of("relatd(operator_id_no, subject_id_no)")
    assert error.column == 0
    assert error.suggestion == "related"


def test_wrong_arity_names_the_call() -> None:
    error = error_of("points > 0 and related(subject_id_no)")
    assert error.column == 15
    assert "takes 2 arguments, got 1" in error.problem


def test_function_argument_of_the_wrong_type_is_refused() -> None:
    error = error_of("days_between(points, action_time) > 3")
    assert error.column == 13
    assert error.field == "points"


def test_lookup_needs_a_known_dataset_literal() -> None:
    error = error_of('lookup("violation_code", violation_code, "points") > 3')
    assert error.column == 7
    assert error.suggestion == "violation_codes"


def test_lookup_of_a_compound_key_needs_every_part() -> None:
    error = error_of('lookup("duty_roster", operator_id, "shift_start") is null')
    assert "staff_id and date" in error.problem


def test_matches_compiles_its_regex_at_check_time() -> None:
    error = error_of('matches(plate_no, "黔A[0-9")')
    assert error.column == 18
    assert "invalid regular expression" in error.problem


def test_deadline_unit_must_be_known() -> None:
    error = error_of('deadline(accepted_at, 3, "workdays") < action_time')
    assert error.suggestion == "working_days"


def test_quantifier_needs_a_list() -> None:
    error = error_of('any(plate_no, item == "x")')
    assert error.field == "plate_no"


def test_context_functions_read_action_time_and_unit() -> None:
    checked = check("not related(vehicle_owner_id_no, license_holder_id_no)")
    assert {"action_time", "unit_code"} <= checked.fields


# --- code is refused --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("__import__('os')", "underscore"),
        ("().__class__", "expected a value"),
        ('eval("1")', "not a function of the condition language"),
        ('open("x")', "not a function of the condition language"),
        ("exec('x') or true", "not a function of the condition language"),
        ("plate_no.__class__ == 1", "underscore"),
    ],
)
def test_code_is_refused_with_a_clear_message(text: str, expected: str) -> None:
    error = error_of(text)
    assert expected in error.problem
    assert error.column >= 0


def test_a_valid_condition_reports_the_fields_it_reads() -> None:
    checked = check(
        'business_type in ["VEH_TRANSFER", "VEH_DEREGISTER"] '
        "and (vehicle.seizure_active or vehicle.stolen_flag) and plate_no in lists.watch_plates",
        lists=LISTS,
    )
    assert checked.fields == {
        "business_type",
        "vehicle.seizure_active",
        "vehicle.stolen_flag",
        "plate_no",
    }
