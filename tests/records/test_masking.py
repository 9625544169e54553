"""Masking of personal data in what is shown (catalogue §0.2 item 10, §1.8)."""

from __future__ import annotations

import copy

import pytest

from auditcage.records.masking import (
    PERSONAL_FIELDS,
    mask_id_number,
    mask_name,
    mask_phone,
    mask_plate,
    mask_record,
)
from tests.builders import make_record


def test_id_number_keeps_its_first_and_last_four_characters() -> None:
    assert mask_id_number("520102199001011234") == "5201**********1234"


@pytest.mark.parametrize(("value", "masked"), [("E1234567", "E******7"), ("AB", "**"), ("", "")])
def test_short_id_numbers_hide_at_least_half(value: str, masked: str) -> None:
    assert mask_id_number(value) == masked


@pytest.mark.parametrize(("name", "masked"), [("张三丰", "张**"), ("李四", "李*"), ("王", "*")])
def test_name_keeps_only_its_first_character(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_phone_keeps_its_first_three_and_last_four_digits() -> None:
    assert mask_phone("13812345678") == "138****5678"


def test_short_phone_keeps_only_its_last_two_digits() -> None:
    assert mask_phone("110") == "*10"


def test_plate_is_not_personal_data_and_is_kept() -> None:
    assert mask_plate("黔A12345") == "黔A12345"


def test_mask_record_masks_every_personal_field_of_the_common_part() -> None:
    raw = make_record(
        "violation",
        subject_name="王五",
        subject_phone="13600001111",
        agent_name="钱七",
        agent_phone="13900003333",
    )
    masked = mask_record(raw)
    for name in (
        "subject_id_no",
        "vehicle_owner_id_no",
        "license_no",
        "license_holder_id_no",
        "agent_id_no",
    ):
        assert masked[name] == mask_id_number(raw[name]), name
    assert masked["subject_name"] == "王*"
    assert masked["agent_name"] == "钱*"
    assert masked["subject_phone"] == "136****1111"
    assert masked["agent_phone"] == "139****3333"
    assert masked["violation"]["license_used"] == mask_id_number(raw["violation"]["license_used"])


def test_mask_record_keeps_what_is_not_personal() -> None:
    raw = make_record("violation")
    masked = mask_record(raw)
    for name in ("plate_no", "vin", "operator_id", "unit_code", "serial_no", "record_id"):
        assert masked[name] == raw[name]
    assert masked["violation"]["decision"] == raw["violation"]["decision"]


def test_mask_record_masks_accident_parties() -> None:
    raw = make_record("accident")
    masked = mask_record(raw)
    for before, after in zip(
        raw["accident"]["parties"], masked["accident"]["parties"], strict=True
    ):
        assert after["id_no"] == mask_id_number(before["id_no"])
        assert after["license_no"] == mask_id_number(before["license_no"])
        assert after["phone"] == mask_phone(before["phone"])
        assert after["plate_no"] == before["plate_no"]
        assert after["alcohol_test"] == before["alcohol_test"]


def test_mask_record_masks_both_owners_of_a_transfer() -> None:
    raw = make_record("vehicle")
    transfer = mask_record(raw)["vehicle"]["transfer"]
    assert transfer["from_owner_id_no"] == mask_id_number(
        raw["vehicle"]["transfer"]["from_owner_id_no"]
    )
    assert transfer["to_owner_id_no"] == mask_id_number(
        raw["vehicle"]["transfer"]["to_owner_id_no"]
    )


def test_mask_record_masks_personal_values_in_before_and_after() -> None:
    raw = make_record(
        "violation",
        action="modify",
        changed_fields=["violation.license_used", "vehicle_owner_id_no"],
        before={"violation.license_used": "520103199205202224", "vehicle_owner_id_no": "x" * 18},
        after={"violation": {"license_used": "440106198807151232"}, "points": 6},
    )
    masked = mask_record(raw)
    assert masked["before"] == {
        "violation.license_used": "5201**********2224",
        "vehicle_owner_id_no": "xxxx**********xxxx",
    }
    assert masked["after"] == {"violation": {"license_used": "4401**********1232"}, "points": 6}


def test_mask_record_does_not_change_its_input_and_tolerates_nulls() -> None:
    raw = make_record("violation", subject_name=None, agent_id_no=None)
    original = copy.deepcopy(raw)
    masked = mask_record(raw)
    assert raw == original
    assert masked["subject_name"] is None and masked["agent_id_no"] is None


def test_personal_fields_are_the_ids_names_and_phones_of_the_contract() -> None:
    assert set(PERSONAL_FIELDS) == {
        "subject_id_no",
        "subject_name",
        "subject_phone",
        "agent_id_no",
        "agent_name",
        "agent_phone",
        "vehicle_owner_id_no",
        "license_no",
        "license_holder_id_no",
        "violation.license_used",
        "accident.parties[].id_no",
        "accident.parties[].license_no",
        "accident.parties[].phone",
        "vehicle.transfer.from_owner_id_no",
        "vehicle.transfer.to_owner_id_no",
    }
