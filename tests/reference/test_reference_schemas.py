"""Validating reference rows (catalogue §7.2): NDJSON and CSV shapes, problems, shipped tables."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import orjson
import pytest

from auditcage.errors import ReferenceDataError
from auditcage.reference import service
from auditcage.reference.datasets import DATASETS
from auditcage.reference.files import parse_csv_rows, read_rows

# One valid row per dataset, using list- and object-valued fields wherever the dataset has them.
VALID_ROWS: dict[str, dict[str, Any]] = {
    "units": {
        "unit_code": "520102000000",
        "parent_code": None,
        "level": "brigade",
        "name": "南明区大队",
        "province_code": "52",
        "calendar_id": "gz",
        "service_hours": {
            "mon": [["08:30", "12:00"], ["13:00", "17:30"]],
            "sat": [["09:00", "12:00"]],
        },
        "head_staff_ids": ["P100"],
        "discipline_contact_ids": ["P900"],
        "jurisdiction_area_codes": ["520102"],
        "lat": 26.57,
        "lon": 106.71,
    },
    "staff": {
        "staff_id": "F520133",
        "id_no": "520102199001011234",
        "name": "张三",
        "staff_kind": "auxiliary",
        "unit_code": "520102000000",
        "position": "window_officer",
        "status": "active",
        "certificates": [{"kind": "inspector", "valid_to": "2027-12-31"}],
        "cert_serials": ["3A9F01"],
        "notify": ["mailto://zhang@example.org"],
        "effective_from": "2024-01-01",
        "effective_to": "2025-01-01T00:00:00+08:00",
    },
    "duty_roster": {
        "staff_id": "F520133",
        "date": "2024-06-11",
        "shift_start": "08:30",
        "shift_end": "17:30",
        "unit_code": "520102000000",
        "leave_type": None,
    },
    "relations": {
        "staff_id": "F520133",
        "related_id_no": "520102199202021234",
        "relation": "spouse",
    },
    "staff_assets": {"staff_id": "F520133", "kind": "plate", "value": "黔A12345"},
    "terminals": {
        "terminal_id": "T-52010007",
        "window_id": "GY-CG-W07",
        "unit_code": "520102000000",
        "site_id": None,
        "kind": "window",
        "ip_ranges": ["10.52.1.0/24"],
        "assigned_staff_ids": ["F520133", "P100"],
    },
    "business_types": {
        "business_type": "VEH_TRANSFER",
        "police_only_actions": ["approve"],
        "required_evidence": ["photo_vin", "vin_rubbing"],
        "needs_inspection": True,
        "police_inspection_vehicle_types": ["K11", "H11"],
        "four_eyes": True,
        "sla_days": 1,
        "day_basis": "calendar",
        "blocking_statuses": ["C", "K"],
        "commercial_use_natures": ["B", "F"],
        "archive_items": ["application_form"],
    },
    "violation_codes": {
        "violation_code": "16250",
        "description": "驾驶机动车违反道路交通信号灯通行的",
        "points": 6,
        "fine_min": 20,
        "fine_max": 200,
        "local_standard_fine": 150,
        "fixed_amounts": [150, 200],
        "warning_allowed": False,
        "penalty_extra": [],
        "online_processable": True,
        "vehicle_classes": None,
        "categories": ["red_light"],
        "effective_from": "2022-04-01",
        "effective_to": None,
    },
    "calendar": {"calendar_id": "gz", "date": "2027-10-01", "kind": "holiday"},
    "agents": {
        "org_code": "91520100MA6DXXXX1X",
        "kind": "dealer",
        "name": "贵阳某4S店",
        "authorised_agent_id_nos": ["520102198001011234"],
        "registered_drivers": [],
        "registered_plates": ["黔A00001"],
        "blacklisted": False,
    },
    "exam_venues": {
        "venue_id": "V01",
        "unit_code": "520100000000",
        "judging": "electronic",
        "capacity_per_day": {"1": 600, "3": 120},
        "sessions": [{"weekday": 1, "start": "08:30", "end": "12:00"}],
        "routes": [{"route_id": "R1", "distance_km": 3.2}],
        "examiner_ids": ["E01"],
    },
    "school_affiliations": {
        "id_no": "520102198001011234",
        "driving_school_code": "DS01",
        "role": "instructor",
    },
    "inspection_sites": {
        "site_id": "S01",
        "unit_code": "520100000000",
        "kind": "车管所",
        "lat": 26.6,
        "lon": 106.7,
        "radius_m": 300,
        "pda_ids": ["PDA-1"],
    },
    "vehicles": {
        "vin": "LSVAU2180N2123456",
        "plate_no": "黔A12345",
        "plate_type": "02",
        "owner_id_no": "520102199001011234",
        "vehicle_type": "K33",
        "use_nature": "A",
        "status": "A",
        "mortgage_active": False,
        "seizure_active": False,
        "stolen_flag": False,
        "first_reg_date": "2019-05-20",
        "registering_unit": "520100000400",
        "effective_from": "2019-05-20",
        "effective_to": None,
    },
    "licences": {
        "license_no": "520102199001011234",
        "holder_id_no": "520102199001011234",
        "holder_birth_date": "1990-01-01",
        "license_class": "C1",
        "status": "A",
        "first_issue_date": "2010-03-01",
        "cycle_start": "2024-03-01",
        "cycle_end": "2025-02-28",
        "points": 3,
        "issuing_province": "52",
        "detained": False,
        "effective_from": "2024-03-01T00:00:00+08:00",
        "effective_to": None,
    },
    "licence_classes": {"license_class": "C1", "vehicle_types": ["K31", "K33", "H31"]},
    "bank_ledger": {
        "bank_txn_id": "B1",
        "decision_no": "5201001234567",
        "amount": 200,
        "paid_on": "2024-06-12",
    },
    "document_stock": {
        "document_kind": "fine_receipt",
        "number_from": "000100",
        "number_to": "000199",
        "staff_id": "P100",
        "issued_on": "2024-06-01",
    },
    "parking_ledger": {
        "plate_no": "黔A12345",
        "lot_id": "L1",
        "in_at": "2024-06-11T10:00:00+08:00",
        "out_at": "2024-06-12T09:00:00+08:00",
        "released_by": "P100",
    },
    "inspection_reports": {
        "report_no": "R1",
        "vin": "LSVAU2180N2123456",
        "plate_no": "黔A12345",
        "owner_id_no": "520102199001011234",
        "insurance_valid_to": "2025-05-19",
        "result": "pass",
        "inspected_at": "2024-05-10T09:30:00+08:00",
    },
    "bodycam_index": {
        "clip_id": "C1",
        "device_id": "D1",
        "staff_id": "P100",
        "started_at": "2024-06-11T16:30:00+08:00",
        "ended_at": "2024-06-11T16:50:00+08:00",
        "uploaded_at": "2024-06-11T20:00:00+08:00",
        "retention_class": "normal",
        "deleted_at": None,
    },
    "watchlist": {"kind": "broker_phone", "value": "13800000000", "note": "已知黄牛"},
    "appraisal_agencies": {
        "agency_id": "AG1",
        "name": "某司法鉴定所",
        "region_unit_code": "520100000000",
        "qualified": True,
    },
    "premium_plate_patterns": {"pattern": r"(.)\1{4}", "note": "5个相同字符"},
}


def as_csv(rows: list[dict[str, Any]]) -> str:
    """The rows as a CSV export writes them: lists and objects as JSON text, empty cell = null."""
    out = io.StringIO()
    writer = csv.writer(out)
    columns = list(rows[0])
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return orjson.dumps(value).decode()
    return str(value)


def csv_rows(rows: list[dict[str, Any]]) -> list[tuple[int, Any]]:
    return list(parse_csv_rows(io.StringIO(as_csv(rows))))


def problems(dataset: str, rows: Any) -> list[str]:
    with pytest.raises(ReferenceDataError) as refused:
        service.validate_rows(dataset, rows)
    return refused.value.problems


def test_every_dataset_has_a_schema_and_a_valid_example() -> None:
    assert set(VALID_ROWS) == set(DATASETS)


@pytest.mark.parametrize("dataset", sorted(VALID_ROWS))
def test_a_row_loads_the_same_from_ndjson_and_from_csv(dataset: str, tmp_path: Path) -> None:
    row = VALID_ROWS[dataset]
    ndjson_file = tmp_path / f"{dataset}.jsonl"
    ndjson_file.write_bytes(orjson.dumps(row) + b"\n")
    csv_file = tmp_path / f"{dataset}.csv"
    csv_file.write_text(as_csv([row]), encoding="utf-8")

    from_ndjson = service.validate_rows(dataset, read_rows(ndjson_file))
    from_csv = service.validate_rows(dataset, read_rows(csv_file))

    assert from_ndjson == from_csv
    assert len(from_ndjson) == 1
    assert set(from_ndjson[0]) >= set(row)


def test_loaded_rows_are_json_ready_and_normalised() -> None:
    [row] = service.validate_rows("parking_ledger", [(1, {
        "plate_no": " 黔A12345 ", "lot_id": "L1", "in_at": "2024-06-11T02:00:00Z", "out_at": "",
    })])  # fmt: skip
    assert row["plate_no"] == "黔A12345"
    assert row["in_at"] == "2024-06-11T10:00:00+08:00"
    assert row["out_at"] is None
    assert row["released_by"] is None  # every known field is present
    orjson.dumps(row)


def test_numbers_and_booleans_arrive_as_text_from_csv() -> None:
    [row] = service.validate_rows("licences", csv_rows([{
        "license_no": "L1", "points": "12", "detained": "1", "issuing_province": "52",
    }]))  # fmt: skip
    assert row["points"] == 12
    assert row["detained"] is True
    [row] = service.validate_rows("violation_codes", [(1, {
        **VALID_ROWS["violation_codes"], "fine_max": "200.0", "online_processable": 0,
    })])  # fmt: skip
    assert row["fine_max"] == 200
    assert row["online_processable"] is False


def test_unknown_columns_are_accepted_and_kept() -> None:
    [row] = service.validate_rows("watchlist", [(1, {**VALID_ROWS["watchlist"], "source": "举报"})])
    assert row["source"] == "举报"


def test_a_bad_csv_row_names_its_line_field_and_reason() -> None:
    staff = VALID_ROWS["staff"]
    listed = problems("staff", csv_rows([staff, {**staff, "staff_kind": "volunteer"}]))
    assert listed == [
        "staff line 3, staff_kind: must be one of: police, auxiliary, contractor",
    ]


def test_every_problem_of_every_row_is_listed() -> None:
    rows = [
        (1, {"staff_id": "A", "unit_code": "U", "status": "active"}),
        (2, {"staff_id": "", "staff_kind": "police", "unit_code": "U", "status": "gone"}),
    ]
    assert problems("staff", rows) == [
        "staff line 1, staff_kind: required",
        "staff line 2, staff_id: required, may not be empty",
        "staff line 2, status: must be one of: active, leave, suspended, transferred_out, "
        "resigned, retired",
    ]


def test_nested_problems_name_the_path_inside_the_field() -> None:
    row = {**VALID_ROWS["staff"], "certificates": [{"kind": "inspector", "valid_to": "31/12/2027"}]}
    assert problems("staff", [(4, row)]) == [
        "staff line 4, certificates.0.valid_to: expected a date YYYY-MM-DD",
    ]


def test_codes_given_as_json_numbers_are_refused() -> None:
    row = {**VALID_ROWS["units"], "unit_code": 520102000000}
    [problem] = problems("units", [(1, row)])
    assert problem.startswith("units line 1, unit_code: expected text")


def test_a_list_column_that_is_not_json_text_is_refused() -> None:
    rows = csv_rows([{**VALID_ROWS["terminals"], "assigned_staff_ids": "F520133,P100"}])
    [problem] = problems("terminals", rows)
    assert problem.startswith("terminals line 2, assigned_staff_ids: expected a list as JSON text")


def test_effective_to_must_be_after_effective_from() -> None:
    row = {**VALID_ROWS["staff"], "effective_from": "2024-01-01", "effective_to": "2024-01-01"}
    assert problems("staff", [(1, row)]) == [
        "staff line 1, effective_to: must be after effective_from"
    ]


def test_a_period_may_mix_a_date_and_a_datetime() -> None:
    row = {
        **VALID_ROWS["staff"],
        "effective_from": "2024-01-01",
        "effective_to": "2024-01-01T09:00:00+08:00",
    }
    [loaded] = service.validate_rows("staff", [(1, row)])
    assert loaded["effective_to"] == "2024-01-01T09:00:00+08:00"


@pytest.mark.parametrize(
    ("hours", "reason"),
    [
        (
            {"mon": [["08:30", "25:00"]]},
            "service_hours.mon: ['08:30', '25:00']: expected times HH:MM",
        ),
        ({"mon": [["17:30", "08:30"]]}, "ends before it starts"),
        ({"mon": [["08:30", "12:00"], ["11:00", "17:30"]]}, "intervals overlap at 11:00"),
        ({"monday": [["08:30", "12:00"]]}, "service_hours.monday: unknown day"),
        ({"mon": "08:30-12:00"}, 'expected a list of ["HH:MM", "HH:MM"]'),
    ],
)
def test_service_hours_are_validated(hours: dict[str, Any], reason: str) -> None:
    [problem] = problems("units", [(1, {**VALID_ROWS["units"], "service_hours": hours})])
    assert reason in problem


def test_service_hours_may_end_at_midnight() -> None:
    row = {**VALID_ROWS["units"], "service_hours": {"sat": [["20:00", "00:00"]]}}
    [loaded] = service.validate_rows("units", [(1, row)])
    assert loaded["service_hours"] == {"sat": [["20:00", "24:00"]]}


def test_an_unreadable_ndjson_line_is_a_problem_with_its_line_number(tmp_path: Path) -> None:
    row = orjson.dumps(VALID_ROWS["watchlist"]).decode()
    file = tmp_path / "watchlist.jsonl"
    file.write_text(f"{row}\n\n{{not json\n[1, 2]\n{row}\n", encoding="utf-8")
    listed = problems("watchlist", read_rows(file))
    assert [p.split(":")[0] for p in listed] == ["watchlist line 3", "watchlist line 4"]
    assert "not valid JSON" in listed[0]
    assert "expected a JSON object, got list" in listed[1]


def test_a_csv_row_with_more_cells_than_the_header_is_a_problem() -> None:
    text = "kind,value\nbroker_phone,138,extra\n"
    assert problems("watchlist", parse_csv_rows(io.StringIO(text))) == [
        "watchlist line 2: 3 cells but the header has 2 columns"
    ]


def test_csv_lines_are_counted_across_quoted_line_breaks() -> None:
    text = 'kind,value,note\nbroker_phone,138,"two\nlines"\nnobody,139,\n'
    assert problems("watchlist", parse_csv_rows(io.StringIO(text))) == [
        "watchlist line 4, kind: must be one of: protected_person, broker_phone, broker_ip, "
        "broker_account, broker_id_no"
    ]


def test_duplicate_keys_are_refused_where_a_key_names_one_thing() -> None:
    unit = VALID_ROWS["units"]
    assert problems("units", [(1, unit), (2, unit)]) == [
        "units line 2, unit_code: '520102000000' is already on line 1"
    ]


def test_the_unit_tree_must_be_whole_and_without_cycles() -> None:
    unit = {**VALID_ROWS["units"], "level": "station"}
    rows = [
        (1, {**unit, "unit_code": "A", "parent_code": "B"}),
        (2, {**unit, "unit_code": "B", "parent_code": "A"}),
        (3, {**unit, "unit_code": "C", "parent_code": "X"}),
    ]
    assert problems("units", rows) == [
        "units line 1, parent_code: the unit tree has a cycle",
        "units line 2, parent_code: the unit tree has a cycle",
        "units line 3, parent_code: unknown unit 'X'",
    ]


def test_fines_must_lie_within_the_statutory_range() -> None:
    row = {**VALID_ROWS["violation_codes"], "local_standard_fine": 250}
    assert problems("violation_codes", [(1, row)]) == [
        "violation_codes line 1, local_standard_fine: 250 is outside fine_min..fine_max"
    ]
    row = {**VALID_ROWS["violation_codes"], "points": 5}
    [problem] = problems("violation_codes", [(1, row)])
    assert "points: statutory points are 12, 9, 6, 3, 1 or 0" in problem


def test_an_invalid_plate_pattern_is_refused() -> None:
    [problem] = problems("premium_plate_patterns", [(1, {"pattern": "(88"})])
    assert problem.startswith(
        "premium_plate_patterns line 1, pattern: not a valid regular expression"
    )


def test_a_calendar_row_without_calendar_id_belongs_to_the_default_calendar() -> None:
    [row] = service.validate_rows(
        "calendar", csv_rows([{"calendar_id": None, "date": "2027-01-01", "kind": "holiday"}])
    )
    assert row["calendar_id"] == "default"


def test_a_huge_number_of_problems_is_capped() -> None:
    rows = [(n, {"kind": "nobody", "value": "x"}) for n in range(1, 1001)]
    listed = problems("watchlist", rows)
    assert len(listed) == service.MAX_PROBLEMS + 1
    assert listed[-1] == f"… and {1000 - service.MAX_PROBLEMS} more problems not listed"


def test_an_unknown_dataset_is_not_found() -> None:
    from auditcage.errors import NotFound

    with pytest.raises(NotFound):
        service.validate_rows("cars", [])


# --- the shipped policy tables ------------------------------------------------------------------


def shipped(dataset: str) -> list[dict[str, Any]]:
    return service.validate_rows(dataset, read_rows(service.shipped_dir() / f"{dataset}.jsonl"))


def test_the_shipped_tables_are_the_policy_datasets_and_load_clean() -> None:
    files = {p.stem for p in service.shipped_dir().glob("*.jsonl")}
    assert files == {name for name, spec in DATASETS.items() if spec.policy}
    for name in files:
        shipped(name)


def test_the_shipped_business_types_cover_every_business_type_of_the_contract() -> None:
    from auditcage.records.enums import BUSINESS_TYPES

    rows = shipped("business_types")
    assert sorted(r["business_type"] for r in rows) == sorted(BUSINESS_TYPES)
    assert all(r["name"] and r["day_basis"] in ("working", "calendar") for r in rows)


def test_every_shipped_business_type_reserves_approve_for_police() -> None:
    for row in shipped("business_types"):
        assert "approve" in row["police_only_actions"], row["business_type"]


def test_every_shipped_violation_code_has_2022_points_and_a_chinese_description() -> None:
    rows = shipped("violation_codes")
    assert len(rows) >= 40
    for row in rows:
        assert row["points"] in {0, 1, 3, 6, 9, 12}, row["violation_code"]
        assert re.fullmatch(r"\d{5}", row["violation_code"])
        assert re.search(r"[\u4e00-\u9fff]", row["description"])
        assert row["effective_from"] == "2022-04-01"
    categories = {c for row in rows for c in row["categories"]}
    assert {
        "drink_driving",
        "drunk_driving",
        "points_trading",
        "fake_plate",
        "hit_and_run",
    } <= categories


@pytest.mark.parametrize(
    ("serial", "premium"),
    [
        ("88888", True), ("A6666", True), ("12345", True), ("54321", True), ("66888", True),
        ("68686", True), ("3K888", True), ("D12345", True), ("A3K72", False), ("12354", False),
        ("66666", True), ("A1B2C", False),
    ],
)  # fmt: skip
def test_the_shipped_plate_patterns_find_premium_serials(serial: str, premium: bool) -> None:
    patterns = [re.compile(row["pattern"]) for row in shipped("premium_plate_patterns")]
    assert any(p.search(serial) for p in patterns) is premium


def test_an_extra_validity_column_on_an_unversioned_dataset_must_be_a_date() -> None:
    row = {**VALID_ROWS["watchlist"], "effective_from": "soon"}
    assert problems("watchlist", [(1, row)]) == [
        "watchlist line 1, effective_from: expected an ISO date (YYYY-MM-DD) or datetime"
    ]


def test_a_csv_saved_by_excel_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    file = tmp_path / "watchlist.csv"
    file.write_bytes("\ufeffkind,value\nbroker_phone,13800000000\n".encode())
    [row] = service.validate_rows("watchlist", read_rows(file))
    assert row["kind"] == "broker_phone"


def test_a_json_array_file_is_refused_with_a_hint(tmp_path: Path) -> None:
    file = tmp_path / "watchlist.json"
    file.write_text('[\n{"kind": "broker_phone", "value": "1"}\n]\n', encoding="utf-8")
    assert problems("watchlist", read_rows(file)) == [
        "watchlist line 1: the file is a JSON array; write one JSON object per line"
    ]


def test_a_csv_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "watchlist.csv"
    file.write_bytes("kind,value,note\nbroker_phone,1,黄牛\n".encode("gbk"))
    [problem] = problems("watchlist", read_rows(file))
    assert "not UTF-8 text" in problem
