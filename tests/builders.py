"""Builders of valid raw records, as they arrive on the wire (JSON-ready: datetimes are strings).

Override only what a test is about. Dotted keys reach into nested objects, and a numeric part
indexes a list:

    make_record("violation", **{"violation.procedure": "general", "plate_no": DELETE})
    make_record("accident", **{"accident.parties.1.liability": "full"})

The personal data is synthetic but valid: resident ID numbers carry a real GB 11643 check
character and VINs a real GB 16735 check digit.
"""

from __future__ import annotations

import copy
from typing import Any, Final

from stdnum.cn import ric

from auditcage.records.validation import vin_check_digit

DELETE: Final = object()  # an override value that removes the field


def valid_resident_id(region: str = "520102", birth: str = "19900101", seq: str = "123") -> str:
    """An 18-character resident ID number with the right MOD 11-2 check character."""
    body = region + birth + seq
    return body + ric.calc_check_digit(body + "0")


def valid_vin(prefix16_without_check: str) -> str:
    """The 17-character VIN made of these 16 characters with the check digit put at position 9."""
    chars = prefix16_without_check
    assert len(chars) == 16, "16 characters: positions 1-8 and 10-17"
    placeholder = chars[:8] + "0" + chars[8:]
    return chars[:8] + vin_check_digit(placeholder) + chars[8:]


# The people of the records. Names, phones and numbers are invented.
ZHANG_SANFENG: Final = valid_resident_id("520102", "19850312", "041")  # buyer, Guiyang
LI_SI: Final = valid_resident_id("520103", "19780605", "112")  # seller, Guiyang
WANG_WU: Final = valid_resident_id("440106", "19880715", "123")  # driver from Guangzhou
ZHAO_LIU: Final = valid_resident_id("520103", "19920520", "222")  # vehicle owner, Guiyang
QIAN_QI: Final = valid_resident_id("110105", "19851120", "332")  # agent
SUN_BA: Final = valid_resident_id("520102", "19860228", "051")  # licence holder
VIN: Final = valid_vin("LSVAU2180N212345")

_VEHICLE: Final[dict[str, Any]] = {
    "record_id": "vehicle_reg:GY-20240611-0000004411",
    "source_system": "vehicle_reg",
    "schema_version": "1.0",
    "serial_no": "520100240611000123",
    "service": "vehicle",
    "business_type": "VEH_TRANSFER",
    "source_business_code": "B",
    "action": "approve",
    "action_time": "2024-06-11T10:15:00+08:00",
    "accepted_at": "2024-06-11T09:40:12+08:00",
    "unit_code": "520100000400",
    "window_id": "GY-CG-W03",
    "terminal_id": "T-52010003",
    "client_ip": "10.52.1.23",
    "channel": "window",
    "operator_id": "520133",
    "operator_role": "police",
    "operator_cert_serial": "4B1C0D22",
    "reviewer_id": "520140",
    "approver_id": "520101",
    "subject_id_type": "resident_id",
    "subject_id_no": ZHANG_SANFENG,
    "subject_name": "张三丰",
    "subject_phone": "13812345678",
    "plate_no": "黔A12345",
    "plate_type": "02",
    "vin": VIN,
    "vehicle_owner_id_no": ZHANG_SANFENG,
    "amount": 15.0,
    "amount_kind": "fee",
    "document_no": "520100240611RC0042",
    "document_kind": "reg_certificate",
    "evidence_count": 2,
    "evidence": [
        {"evidence_id": "ev-1", "kind": "photo_front_left_45", "uri": "s3://ev/1.jpg"},
        {"evidence_id": "ev-2", "kind": "photo_vin", "uri": "s3://ev/2.jpg"},
    ],
    "vehicle": {
        "vehicle_type": "K33",
        "use_nature": "A",
        "vehicle_status": "A",
        "first_reg_date": "2019-05-20",
        "mortgage_active": False,
        "seizure_active": False,
        "stolen_flag": False,
        "insurance_valid_to": "2025-05-19",
        "inspection": {
            "inspector_id": "520177",
            "site_id": "GY-CY-01",
            "started_at": "2024-06-11T09:10:00+08:00",
            "ended_at": "2024-06-11T09:22:30+08:00",
            "gps": {"lat": 26.6470, "lon": 106.6302, "accuracy_m": 8.0, "datum": "WGS84"},
            "result": "pass",
            "photos": [
                {
                    "evidence_id": "ph-1",
                    "kind": "photo_front_left_45",
                    "taken_at": "2024-06-11T09:12:00+08:00",
                    "model_standard": False,
                },
                {"evidence_id": "ph-2", "kind": "photo_rear_right_45"},
                {"evidence_id": "ph-3", "kind": "photo_vin"},
            ],
            "vin_rubbing_ref": "rub-88",
            "is_pre_inspection": False,
        },
        "transfer": {"from_owner_id_no": LI_SI, "to_owner_id_no": ZHANG_SANFENG},
    },
}

_LICENSE: Final[dict[str, Any]] = {
    "record_id": "license_mgmt:GY-20240612-0000000917",
    "source_system": "license_mgmt",
    "schema_version": "1.0",
    "serial_no": "520100240612L00917",
    "service": "license",
    "business_type": "LIC_RENEW",
    "action": "issue",
    "action_time": "2024-06-12T11:02:00+08:00",
    "accepted_at": "2024-06-12T10:31:00+08:00",
    "completed_at": "2024-06-12T11:02:00+08:00",
    "unit_code": "520100000400",
    "window_id": "GY-CG-W09",
    "terminal_id": "T-52010009",
    "client_ip": "10.52.1.39",
    "channel": "window",
    "operator_id": "F520188",
    "operator_role": "auxiliary",
    "subject_id_type": "resident_id",
    "subject_id_no": SUN_BA,
    "subject_name": "孙八",
    "subject_phone": "13985001234",
    "license_no": SUN_BA,
    "license_holder_id_no": SUN_BA,
    "amount": 10.0,
    "amount_kind": "fee",
    "document_kind": "license_card",
    "evidence_count": 0,
    "license": {
        "license_class": "C1",
        "license_status": "A",
        "first_issue_date": "2014-06-20",
        "cycle_start": "2023-06-20",
        "cycle_end": "2024-06-19",
        "points_before": 0,
        "points_after": 0,
        "probation": False,
        "detention_active": False,
    },
}

_ACCIDENT: Final[dict[str, Any]] = {
    "record_id": "accident:GY-20240615-0000000302",
    "source_system": "accident",
    "schema_version": "1.0",
    "serial_no": "5201002024000302",
    "service": "accident",
    "business_type": "ACC_DETERMINATION",
    "action": "decide",
    "action_time": "2024-06-15T15:30:00+08:00",
    "accepted_at": "2024-06-08T09:05:00+08:00",
    "unit_code": "520102000000",
    "client_ip": "10.52.3.15",
    "channel": "backend",
    "operator_id": "520211",
    "operator_role": "police",
    "operator_cert_serial": "7F00AA10",
    "approver_id": "520201",
    "subject_id_type": "resident_id",
    "subject_id_no": WANG_WU,
    "case_no": "5201002024000302",
    "document_no": "520102-2024-0302",
    "document_kind": "determination",
    "evidence_count": 1,
    "evidence": [{"evidence_id": "sc-1", "kind": "photo_scene"}],
    "accident": {
        "accident_no": "5201002024000302",
        "procedure": "general",
        "report_mode": "on_scene",
        "reported_at": "2024-06-08T08:41:00+08:00",
        "scene_started_at": "2024-06-08T09:05:00+08:00",
        "scene_ended_at": "2024-06-08T10:20:00+08:00",
        "deaths": 0,
        "injured_serious": 0,
        "injured_minor": 1,
        "property_damage_only": False,
        "crime_flags": {"dui": False, "drugs": False, "hit_and_run": False},
        "officers": ["520211", "520215"],
        "parties": [
            {
                "seq": 1,
                "role": "driver",
                "id_no": WANG_WU,
                "license_no": WANG_WU,
                "plate_no": "黔A12345",
                "phone": "13600001111",
                "alcohol_test": {
                    "done": True,
                    "tested_at": "2024-06-08T09:15:00+08:00",
                    "result_mg_100ml": 0.0,
                },
                "liability": "main",
            },
            {
                "seq": 2,
                "role": "driver",
                "id_no": ZHAO_LIU,
                "license_no": ZHAO_LIU,
                "plate_no": "黔AD12345",
                "phone": "13700002222",
                "alcohol_test": {"done": True, "result_mg_100ml": 0.0},
                "liability": "secondary",
            },
        ],
        "appraisals": [
            {
                "kind": "vehicle",
                "commissioned_at": "2024-06-08T16:00:00+08:00",
                "agency_id": "GZ-JD-03",
                "result_at": "2024-06-12T10:00:00+08:00",
                "served_at": "2024-06-13T09:00:00+08:00",
            }
        ],
        "determination": {
            "type": "determination",
            "made_at": "2024-06-15T15:30:00+08:00",
            "public_evidence_at": "2024-06-14T10:00:00+08:00",
            "rights_notified": True,
        },
    },
}

# §1.8, with valid unmasked synthetic data.
_VIOLATION: Final[dict[str, Any]] = {
    "record_id": "violation:GZ-20240611-0000871234",
    "source_system": "violation",
    "schema_version": "1.0",
    "serial_no": "5201001234567890",
    "service": "violation",
    "business_type": "VIO_PROCESS",
    "action": "decide",
    "action_time": "2024-06-11T16:42:07+08:00",
    "accepted_at": "2024-06-11T16:38:55+08:00",
    "completed_at": "2024-06-11T16:42:07+08:00",
    "unit_code": "520100000000",
    "window_id": "GY-CG-W07",
    "terminal_id": "T-52010007",
    "client_ip": "10.52.1.37",
    "channel": "window",
    "operator_id": "F520133",
    "operator_role": "auxiliary",
    "operator_cert_serial": "3A9F0011",
    "approver_id": None,
    "subject_id_type": "resident_id",
    "subject_id_no": WANG_WU,
    "plate_no": "黔A12345",
    "plate_type": "02",
    "vin": VIN,
    "vehicle_owner_id_no": ZHAO_LIU,
    "license_no": WANG_WU,
    "license_holder_id_no": WANG_WU,
    "agent_id_no": QIAN_QI,
    "amount": 200.00,
    "amount_kind": "fine",
    "points": 6,
    "violation_code": "16250",
    "document_no": "5201001000123",
    "document_kind": "penalty_decision",
    "evidence_count": 0,
    "reason_code": None,
    "violation": {
        "violation_id": "5201001234567890",
        "source": "camera",
        "violation_time": "2024-05-30T08:11:00+08:00",
        "procedure": "simple",
        "decision": {
            "decision_no": "5201001000123",
            "decided_at": "2024-06-11T16:42:07+08:00",
            "decided_by": "F520133",
            "penalty_kinds": ["fine"],
        },
        "license_used": WANG_WU,
        "driver_verify": {"method": "none"},
    },
}

VALID_RECORDS: Final[dict[str, dict[str, Any]]] = {
    "vehicle": _VEHICLE,
    "license": _LICENSE,
    "accident": _ACCIDENT,
    "violation": _VIOLATION,
}


def make_record(service: str = "vehicle", /, **overrides: Any) -> dict[str, Any]:
    """A valid raw record of `service`; override only what the test is about."""
    record = copy.deepcopy(VALID_RECORDS[service])
    for path, value in overrides.items():
        _set(record, path.split("."), value)
    return record


def _set(target: Any, parts: list[str], value: Any) -> None:
    *parents, last = parts
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target.setdefault(part, {})
    if isinstance(target, list):
        if value is DELETE:
            del target[int(last)]
        else:
            target[int(last)] = value
    elif value is DELETE:
        target.pop(last, None)
    else:
        target[last] = value
