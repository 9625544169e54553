"""The synthetic province: determinism, the §7.2 reference contract, the §1 record contract."""

from __future__ import annotations

import importlib.util
import json
import re
import tracemalloc
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import pytest
from stdnum.cn import ric

from auditcage.demo import generate, write_scenario
from auditcage.demo.identity import vin_check
from auditcage.demo.plants import planted_ids

# Catalogue §7.2, field names exactly as the contract lists them.
REFERENCE_FIELDS: dict[str, set[str]] = {
    "units": {"unit_code", "parent_code", "level", "name", "province_code", "calendar_id",
              "service_hours", "head_staff_ids", "discipline_contact_ids"},
    "staff": {"staff_id", "id_no", "name", "staff_kind", "unit_code", "position", "status",
              "certificates", "cert_serials", "notify", "effective_from", "effective_to"},
    "duty_roster": {"staff_id", "date", "shift_start", "shift_end", "unit_code", "leave_type"},
    "relations": {"staff_id", "related_id_no", "relation"},
    "staff_assets": {"staff_id", "kind", "value"},
    "terminals": {"terminal_id", "window_id", "unit_code", "site_id", "kind", "ip_ranges",
                  "assigned_staff_ids"},
    "agents": {"org_code", "kind", "name", "authorised_agent_id_nos", "registered_drivers",
               "registered_plates", "blacklisted"},
    "exam_venues": {"venue_id", "unit_code", "judging", "capacity_per_day", "sessions", "routes",
                    "examiner_ids"},
    "school_affiliations": {"id_no", "driving_school_code", "role"},
    "inspection_sites": {"site_id", "unit_code", "kind", "lat", "lon", "radius_m", "pda_ids"},
    "vehicles": {"vin", "plate_no", "plate_type", "owner_id_no", "vehicle_type", "use_nature",
                 "status", "mortgage_active", "seizure_active", "stolen_flag", "first_reg_date",
                 "registering_unit", "effective_from", "effective_to"},
    "licences": {"license_no", "holder_id_no", "holder_birth_date", "license_class", "status",
                 "first_issue_date", "cycle_start", "cycle_end", "points", "issuing_province",
                 "detained", "effective_from", "effective_to"},
    "bank_ledger": {"bank_txn_id", "decision_no", "amount", "paid_on"},
    "document_stock": {"document_kind", "number_from", "number_to", "staff_id", "issued_on"},
    "parking_ledger": {"plate_no", "lot_id", "in_at", "out_at", "released_by"},
    "inspection_reports": {"report_no", "vin", "plate_no", "owner_id_no", "insurance_valid_to",
                           "result", "inspected_at"},
    "bodycam_index": {"clip_id", "device_id", "staff_id", "started_at", "ended_at", "uploaded_at",
                      "retention_class", "deleted_at"},
    "watchlist": {"kind", "value", "note"},
    "appraisal_agencies": {"agency_id", "name", "region_unit_code", "qualified"},
    "violation_codes": {"violation_code", "description", "points", "fine_min", "fine_max",
                        "local_standard_fine", "fixed_amounts", "warning_allowed",
                        "penalty_extra", "online_processable", "vehicle_classes",
                        "effective_from", "effective_to"},
}  # fmt: skip
# Catalogue §0.5 item 10: optional reference fields that §7.2 requires of no source, which the
# province writes where a rule needs them (VIO-06's distance clause, LIC-14(b)).
OPTIONAL_FIELDS: dict[str, set[str]] = {
    "units": {"jurisdiction_area_codes", "lat", "lon"},
    "violation_codes": {"categories"},
}
ENUMS = {
    ("units", "level"): {"province", "detachment", "brigade", "station", "window"},
    ("staff", "staff_kind"): {"police", "auxiliary", "contractor"},
    ("staff", "status"): {"active", "leave", "suspended", "transferred_out", "resigned", "retired"},
    ("staff", "position"): {"brigade_head", "deputy_brigade_head", "detachment_head",
                            "deputy_detachment_head", "province_head", "deputy_province_head",
                            "inspector_discipline", "legal_reviewer", "supervision_post",
                            "window_officer", "examiner", "vehicle_inspector", "other"},
    ("relations", "relation"): {"spouse", "parent", "child", "sibling", "parent_in_law",
                                "child_in_law", "household", "declared_other"},
    ("staff_assets", "kind"): {"plate", "vin", "license"},
    ("terminals", "kind"): {"window", "kiosk", "pda", "exam_seat", "exam_vehicle", "backend"},
    ("agents", "kind"): {"dealer", "used_car_market", "registration_station", "fleet",
                         "driving_school", "agency"},
    ("exam_venues", "judging"): {"electronic", "manual", "mixed"},
    ("school_affiliations", "role"): {"instructor", "owner", "staff"},
    ("duty_roster", "leave_type"): {None, "annual", "sick", "personal", "training", "other"},
    ("bodycam_index", "retention_class"): {"normal", "evidence", "major"},
    ("inspection_reports", "result"): {"pass", "fail"},
    ("watchlist", "kind"): {"protected_person", "broker_phone", "broker_ip", "broker_account",
                            "broker_id_no"},
}  # fmt: skip

SERVICE_OF_TYPE = {"VEH": "vehicle", "LIC": "license", "ACC": "accident", "VIO": "violation"}
BLOCKS = ("vehicle", "license", "accident", "violation")
ACTIONS = {"accept", "inspect", "examine", "review", "approve", "decide", "issue", "print",
           "reprint", "notify", "deliver", "reject", "cancel", "collect", "remit", "seize",
           "release", "eliminate", "revoke", "modify", "delete", "query", "transfer", "close",
           "archive", "reopen"}  # fmt: skip
CHANNELS = {"window", "backend", "kiosk", "internet", "mobile_police", "field", "station", "system"}
ROLES = {"police", "auxiliary", "examiner", "inspector", "agency_staff", "system"}
NEEDS_REASON = {"modify", "revoke", "delete", "eliminate", "reject", "cancel", "release"}
REQUIRED = ("record_id", "source_system", "schema_version", "serial_no", "service", "business_type",
            "action", "action_time", "unit_code", "channel", "operator_id", "operator_role",
            "evidence_count")  # fmt: skip
ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00")
PLATE = re.compile(r"黔[A-HJ-NP-Z][A-HJ-NP-Z0-9]{5,6}")
VIN = re.compile(r"[A-HJ-NPR-Z0-9]{17}")


@pytest.fixture(scope="module")
def province():
    return generate(seed=11, start=date(2026, 8, 1), months=3, records_target=6000,
                    include_invalid=True)  # fmt: skip


@pytest.fixture(scope="module")
def records(province):
    return list(province.iter_records())


@pytest.fixture(scope="module")
def invalid_ids(province) -> set[str]:
    return {rid for c in province.planted if c.catalogue_id == "QUARANTINE" for rid in c.record_ids}


def contract_problems(rec: dict) -> list[str]:
    """The conditional-field rules of §1.2 and the quarantine list of §1.7, written out here."""
    problems = [f"missing {name}" for name in REQUIRED if rec.get(name) in (None, "")]
    action, channel = rec.get("action"), rec.get("channel")
    if action not in ACTIONS:
        problems.append(f"action {action}")
    if channel not in CHANNELS:
        problems.append(f"channel {channel}")
    if rec.get("operator_role") not in ROLES:
        problems.append("operator_role")
    if rec.get("service") != SERVICE_OF_TYPE.get(rec.get("business_type", "")[:3]):
        problems.append("business_type of another service")
    blocks = [b for b in BLOCKS if b in rec]
    if blocks != [rec.get("service")] or not isinstance(rec[blocks[0]] if blocks else None, dict):
        problems.append(f"blocks {blocks}")
    if action != "query" and not rec.get("accepted_at"):
        problems.append("accepted_at")
    if channel == "window" and not rec.get("window_id"):
        problems.append("window_id")
    if channel in ("window", "kiosk", "field", "station") and not rec.get("terminal_id"):
        problems.append("terminal_id")
    if channel in ("window", "backend", "internet") and not rec.get("client_ip"):
        problems.append("client_ip")
    if channel == "internet" and not rec.get("account_id"):
        problems.append("account_id")
    if rec.get("subject_id_no") and not rec.get("subject_id_type"):
        problems.append("subject_id_type")
    if rec.get("subject_id_type") == "resident_id" and not ric.is_valid(rec["subject_id_no"]):
        problems.append("subject_id_no checksum")
    if (rec.get("plate_no") or rec.get("vin")) and not rec.get("vehicle_owner_id_no"):
        problems.append("vehicle_owner_id_no")
    if rec.get("vin") and not VIN.fullmatch(rec["vin"]):
        problems.append("vin")
    if rec.get("amount") is not None and not rec.get("amount_kind"):
        problems.append("amount_kind")
    if action in NEEDS_REASON and not rec.get("reason_code"):
        problems.append("reason_code")
    if action == "modify" and not (
        rec.get("changed_fields") and rec.get("before") and rec.get("after")
    ):
        problems.append("modify without changed_fields/before/after")
    if action == "revoke" and not (rec.get("before") and rec.get("after")):
        problems.append("revoke without before/after")
    if rec.get("service") == "violation" and action == "decide" and not rec.get("violation_code"):
        problems.append("violation_code")
    if rec.get("points") is not None and not 0 <= rec["points"] <= 12:
        problems.append("points")
    for name in ("action_time", "accepted_at", "completed_at"):
        if rec.get(name) and not ISO_TIME.fullmatch(rec[name]):
            problems.append(f"{name} format")
    return problems


def test_the_same_seed_gives_the_same_records_and_reference():
    a = generate(seed=3, records_target=1500)
    b = generate(seed=3, records_target=1500)
    assert list(a.iter_records()) == list(b.iter_records())
    assert a.reference == b.reference
    assert [c.as_json() for c in a.planted] == [c.as_json() for c in b.planted]


def test_iterating_twice_replays_the_same_stream(province):
    assert list(province.iter_records(limit=500)) == list(province.iter_records(limit=500))


def test_another_seed_gives_other_records():
    # The normal flows: planted cases number their serials from a fixed block on purpose.
    a = generate(seed=1, records_target=800, plants=[]).iter_records(limit=200)
    b = generate(seed=2, records_target=800, plants=[]).iter_records(limit=200)
    assert [r["record_id"] for r in a] != [r["record_id"] for r in b]


def test_reference_rows_carry_exactly_the_contract_fields(province):
    ref = province.reference
    assert set(ref) == set(REFERENCE_FIELDS)
    for name, fields in REFERENCE_FIELDS.items():
        assert ref[name], f"{name} is empty"
        optional = OPTIONAL_FIELDS.get(name, set())
        for row in ref[name]:
            assert fields <= set(row) <= fields | optional, (name, set(row) ^ fields)
    for (name, field), allowed in ENUMS.items():
        assert {row[field] for row in ref[name]} <= allowed, (name, field)


def test_the_world_has_the_shape_the_rules_need(province):
    ref = province.reference
    units = {u["unit_code"]: u for u in ref["units"]}
    assert all(re.fullmatch(r"\d{12}", code) for code in units)
    levels = Counter(u["level"] for u in units.values())
    assert levels["province"] == 1 and levels["detachment"] >= 3 and levels["brigade"] >= 12
    assert {"520100000000", "520300000000", "520400000000"} <= set(units)
    assert any("sat" in u["service_hours"] for u in units.values())
    for u in units.values():
        if u["level"] in ("province", "detachment", "brigade"):
            assert u["head_staff_ids"] and u["discipline_contact_ids"]
    staff_ids = Counter(s["staff_id"] for s in ref["staff"])
    assert any(n == 2 for n in staff_ids.values())  # versioned history: a transfer, a retirement
    assert any(s["status"] == "retired" for s in ref["staff"])
    assert all(url.startswith("mailto://") and url.endswith("@example.test")
               for s in ref["staff"] for url in s["notify"])  # fmt: skip
    assert any(r["leave_type"] for r in ref["duty_roster"])
    assert any(r["shift_end"] and r["shift_end"] < r["shift_start"] for r in ref["duty_roster"])
    assert all(ric.is_valid(s["id_no"]) for s in ref["staff"])
    assert all(vin_check(v["vin"][:8] + "0" + v["vin"][9:]) == v["vin"][8] for v in ref["vehicles"])
    assert all(PLATE.fullmatch(v["plate_no"]) for v in ref["vehicles"] if v["plate_no"])
    drivers = [a for a in ref["agents"] if a["kind"] in ("fleet", "driving_school")]
    assert all(a["registered_drivers"] for a in drivers)


def test_records_have_unique_ids_and_shared_serials(records):
    ids = Counter(r["record_id"] for r in records)
    assert not [rid for rid, n in ids.items() if n > 1]
    assert all(r["record_id"].startswith(r["source_system"] + ":") for r in records)
    transfer_steps = Counter()
    for r in records:
        if r["business_type"] == "VEH_TRANSFER":
            transfer_steps[r["serial_no"]] += 1
    assert max(transfer_steps.values()) >= 5  # accept → inspect → review → approve → issue


def test_every_valid_record_respects_the_record_contract(records, invalid_ids):
    bad = {r["record_id"]: p for r in records if r["record_id"] not in invalid_ids
           for p in [contract_problems(r)] if p}  # fmt: skip
    assert not bad, list(bad.items())[:5]


def test_every_planted_invalid_record_breaks_the_contract(records, invalid_ids):
    assert len(invalid_ids) == 3
    by_id = {r["record_id"]: r for r in records}
    for rid in invalid_ids:
        assert contract_problems(by_id[rid]), rid


def test_records_are_in_event_time_order_per_day(records):
    days = [r["action_time"][:10] for r in records]
    assert days == sorted(days)


def test_volume_follows_the_target(records):
    assert 5000 <= len(records) <= 7500
    assert Counter(r["service"] for r in records).keys() == set(BLOCKS)


def test_a_demo_sized_province_meets_the_minimum_samples_of_the_rate_rules():
    decisions: Counter[tuple[str, str]] = Counter()
    exams: Counter[tuple[str, int, str]] = Counter()
    for r in generate(seed=7, records_target=20_000).iter_records():
        month = r["action_time"][:7]
        if r["service"] == "violation" and r["action"] == "decide":
            if not r["operator_id"].startswith("SYS:"):
                decisions[(r["operator_id"], month)] += 1
        elif r["action"] == "examine" and r["business_type"] == "LIC_EXAM":
            exams[(r["operator_id"], r["license"]["exam"]["subject"], month)] += 1
    assert sum(1 for n in decisions.values() if n >= 30) >= 3  # VIO-10(c), VIO-17(b), STF-14
    assert sum(1 for n in exams.values() if n >= 50) >= 1  # LIC-04


def test_planted_cases_cover_every_family(province, records):
    ids = {c.catalogue_id for c in province.planted}
    assert len(ids - {"QUARANTINE"}) >= 25
    assert {i.split("-")[0] for i in ids} >= {"VEH", "LIC", "ACC", "VIO", "STF", "CP"}
    assert planted_ids() <= ids
    present = {r["record_id"] for r in records}
    for case in province.planted:
        assert case.record_ids and set(case.record_ids) <= present, case.catalogue_id


def test_write_scenario_writes_reference_records_and_planted(tmp_path: Path):
    province = generate(seed=5, records_target=1200, include_invalid=True)
    reference_dir, records_path = write_scenario(province, tmp_path)
    assert sorted(p.stem for p in reference_dir.glob("*.jsonl")) == sorted(REFERENCE_FIELDS)
    lines = records_path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == list(province.iter_records())
    planted = [json.loads(line) for line in (tmp_path / "planted.jsonl").read_text().splitlines()]
    assert {"catalogue_id", "serial_no", "record_ids", "note", "fires", "severity"} == set(
        planted[0]
    )
    assert {p["catalogue_id"] for p in planted} >= {"STF-04", "VEH-04", "CP-14", "QUARANTINE"}
    vehicles = (reference_dir / "vehicles.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(vehicles) == len(province.reference["vehicles"])


def test_streaming_200k_records_keeps_memory_flat():
    province = generate(seed=7, records_target=200_000)
    tracemalloc.start()
    try:
        n = sum(1 for _ in province.iter_records(limit=30_000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert n == 30_000
    assert peak < 100 * 1024 * 1024


@pytest.mark.skipif(
    importlib.util.find_spec("auditcage.records.validation") is None, reason="no validator yet"
)
def test_the_validator_accepts_generated_records_and_rejects_the_planted_invalid_ones(
    records, invalid_ids
):
    from auditcage.records.validation import validate_record

    now = datetime.fromisoformat("2027-01-01T00:00:00+08:00")
    for rec in records:
        result = validate_record(rec, now=now)
        if rec["record_id"] in invalid_ids:
            assert not result.accepted, rec["record_id"]
        else:
            assert result.accepted, (rec["record_id"], result.rejections)
