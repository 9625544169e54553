"""compile_python, compile_pandas and compile_durable (through DurableEvaluator) agree exactly.

Every condition of `CONDITIONS` is evaluated on builder records with overrides and on records
whose fields the conditions read are drawn by hypothesis, through all three compilers; the
results must be identical record by record.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditcage import clock
from auditcage.engine.compile_durable import compile_durable
from auditcage.engine.compile_pandas import compile_pandas, frame_from_records
from auditcage.engine.compile_python import Env, compile_python
from auditcage.engine.durable_adapter import DurableEvaluator, PredicateSpec
from auditcage.records.enrich import Enricher
from auditcage.records.validation import validate_record
from auditcage.reference.index import ReferenceIndex
from auditcage.rulepacks.check import CheckedCondition, check
from auditcage.rulepacks.functions import EvalContext
from tests.builders import (
    LI_SI,
    QIAN_QI,
    SUN_BA,
    VIN,
    WANG_WU,
    ZHANG_SANFENG,
    ZHAO_LIU,
    make_record,
)

SH = clock.SHANGHAI
LISTS = {"watch_plates": ["黔A12345", "黔B00001"], "night_desk": ["520101"], "empty": []}
SEQUENCE = "first."

CONDITIONS = [
    'action == "decide" and points > 0 and violation.driver_verify.method == "none"',
    "vehicle.inspection.ended_at - vehicle.inspection.started_at < 120s",
    'any(accident.parties, item.role == "driver" and item.id_no is null)',
    "not related(vehicle_owner_id_no, license_holder_id_no)",
    'business_type in ["VEH_TRANSFER", "VEH_DEREGISTER"] '
    "and (vehicle.seizure_active or vehicle.stolen_flag)",
    "amount < coalesce(vio_local_standard_fine, vio_fine_min)",
    "hour < 8 or hour >= 18 or not workday",
    "approver_id is null or approver_id == operator_id",
    "approver_id != operator_id",
    "not (approver_id == operator_id)",
    "reviewer_id is not null and reviewer_id != operator_id",
    "points != 6",
    "not (points > 3)",
    'amount >= 200 and amount_kind == "fine"',
    "amount * 2 > 300",
    "amount / points > 30",
    "-amount < -100",
    "plate_no in lists.watch_plates",
    "operator_id not in lists.night_desk",
    "operator_id not in lists.empty",
    "action not in []",
    '"D" in license.license_status',
    'license.license_status in "ABD"',
    "vehicle.mortgage_active and vehicle.mortgagee_consent_ref is null",
    'vehicle.vehicle_status != "A"',
    'vehicle.inspection.result == "pass" '
    "and count(vehicle.inspection.photos, item.model_standard == false) >= 2",
    "all(vehicle.inspection.photos, item.kind is not null)",
    "not any(vehicle.inspection.photos, item.taken_at is null)",
    "len(evidence) < 2",
    'len(changed_fields) > 0 and contains(changed_fields, "vin")',
    'any(changed_fields, item in ["vin", "vehicle.engine_no", "vehicle_owner_id_no"])',
    "accident.deaths > 0 and action_time - accident.scene_started_at < 72h",
    "accident.injured_serious > 0 or accident.deaths > 0",
    "date(accident.determination.made_at) == date(accident.scene_started_at)",
    "accident.appraisals is null",
    'accident.crime_flags.hit_and_run and action in ["close", "revoke"] '
    'and not any(accident.parties, item.role == "driver" and item.id_no is not null)',
    "any(accident.parties, item.alcohol_test.result_mg_100ml >= 20) "
    "and not accident.crime_flags.dui",
    "count(accident.officers, item is not null) < 2",
    "len(accident.officers) >= 2",
    "license.points_after < license.points_before",
    "license.exam.subject in [2, 3] and license.exam.manual_override",
    'license.exam.ended_at - license.exam.started_at < 600s and license.exam.result == "pass"',
    "min(license.exam.face_scores) < 0.75",
    "max(points, 3) == 3",
    "abs(amount - 100) <= 50",
    'startswith(plate_no, "黔A")',
    'matches(plate_no, "黔A[0-9]+")',
    'not matches(plate_no, "黔A.*")',
    'matches(client_ip, "10[.]52[.].*")',
    'lower(source_system) == "violation"',
    'upper(plate_type) == "02"',
    'violation.payment.channel == "on_spot" and (amount > 100 or reason_code not in '
    '["hard_to_enforce_later", "remote_area_party_request"])',
    '"warning" in violation.decision.penalty_kinds',
    "vio_code_known == false",
    "not vio_code_known",
    'operator_staff_kind != "police" and action in ["decide", "eliminate", "revoke"]',
    "related(operator_id_no, subject_id_no)",
    "related(violation.license_used, vehicle_owner_id_no) "
    "or violation.license_used == vehicle_owner_id_no",
    'lookup("violation_codes", violation_code, "points") > points',
    'lookup("units", unit_code, "level") == "brigade"',
    'deadline(accepted_at, 1, "working_days") < action_time',
    'action_time > deadline(accepted_at, 2, "hours")',
    "add_working_days(date(accepted_at), 2) < date(action_time)",
    "working_days_between(accepted_at, action_time) > 1",
    "days_between(vehicle.first_reg_date, action_time) > 365 * 5",
    "vehicle.insurance_valid_to < date(action_time)",
    "vehicle.insurance_valid_to - vehicle.first_reg_date > 730d",
    'any(vehicle.inspection.photos, hamming(item.phash, "ffff0000ffff0000") <= 6)',
    "coalesce(agent_id_no, vehicle_owner_id_no) == subject_id_no",
    "before.points > after.points",
    'before.vehicle.use_nature == "A" and after.vehicle.use_nature != "A"',
    "vehicle_master.stolen",
    "within_service_hours == false or on_duty is null",
    "weekday >= 6 and not statutory_holiday",
    "subject_id_no in [vehicle_owner_id_no, license_holder_id_no, agent_id_no]",
    "subject_id_no not in [vehicle_owner_id_no, license_holder_id_no]",
    "unit_code in unit_ancestors",
    "operator_unit_code not in unit_ancestors",
    "business_police_only_actions is null",
    "not false and true",
    "amount == 200.0 or points is null",
    "evidence_count > 0 and evidence is null",
    "violation.decision.decided_at >= accepted_at",
    "not (violation.decision.decided_at < accepted_at)",
    "license.cycle_end > license.first_issue_date",
    "vehicle.inspection.started_at is null",
    'subject_phone < "139"',
    'plate_no >= "黔A2"',
    "not (vehicle.seizure_active or hour > 12)",
    'not (action in ["decide", "approve"])',
    'not (action not in ["decide"])',
    "first.operator_id == operator_id and action_time - first.action_time < 24h",
    "first.action is null",
    "first.hour < hour",
    "max_of(accident.appraisals, item.confirmed_at) > accident.scene_ended_at",
    "min_of(accident.parties, item.alcohol_test.result_mg_100ml) >= 20",
    "sum_of(accident.parties, item.alcohol_test.result_mg_100ml) >= 40",
    'matches_any(plate_serial(plate_no), "premium_plate_patterns", "pattern")',
    'loaded("vehicles") and lookup("vehicles", vin, "plate_no") is null',
    'weekday(action_time) >= 6 or hhmm(action_time) < "08:30"',
]

# --- reference data and records ----------------------------------------------------------------

REFERENCE = ReferenceIndex(
    {
        "premium_plate_patterns": [{"pattern": "(.)\\1{3}"}, {"pattern": "888$"}],
        "units": [
            {"unit_code": "520100000000", "level": "detachment"},
            {"unit_code": "520100000400", "level": "brigade", "parent_code": "520100000000"},
            {"unit_code": "520102000000", "level": "brigade", "parent_code": "520100000000"},
        ],
        "staff": [
            {"staff_id": "520133", "id_no": ZHANG_SANFENG, "staff_kind": "police",
             "unit_code": "520100000400", "status": "active"},
            {"staff_id": "F520133", "id_no": QIAN_QI, "staff_kind": "auxiliary",
             "unit_code": "520102000000", "status": "active"},
            {"staff_id": "520101", "id_no": LI_SI, "staff_kind": "police",
             "unit_code": "520100000000", "status": "active"},
        ],
        "relations": [{"staff_id": "520101", "related_id_no": ZHAO_LIU, "relation": "spouse"}],
        "agents": [{"org_code": "ORG1", "registered_drivers": [WANG_WU]}],
        "violation_codes": [
            {"violation_code": "16250", "points": 6, "fine_min": 20, "fine_max": 200,
             "local_standard_fine": 150, "warning_allowed": True},
            {"violation_code": "13441", "points": 3, "fine_min": 50, "fine_max": 200,
             "warning_allowed": False},
        ],
        "vehicles": [{"vin": VIN, "plate_no": "黔A12345", "stolen": True}],
    }
)  # fmt: skip
ENRICHER = Enricher(REFERENCE)
CTX = EvalContext(REFERENCE)
NOW = datetime(2030, 1, 1, tzinfo=SH)


def _dig(r, parts):
    for p in parts:
        r = r.get(p) if isinstance(r, dict) else None
    return r


def put(record: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    target = record
    for part in parents:
        child = target.get(part)
        if not isinstance(child, dict):
            child = target[part] = {}
        target = child
    target[last] = value


def validated(service: str, **overrides: Any) -> dict[str, Any]:
    outcome = validate_record(make_record(service, **overrides), now=NOW)
    assert outcome.record is not None, outcome.rejections
    return outcome.record


def builder_records() -> list[dict[str, Any]]:
    at = "2024-06-11T21:14:00+08:00"
    return [
        validated("vehicle"),
        validated("license"),
        validated("accident"),
        validated("violation"),
        validated("vehicle", **{"vehicle.seizure_active": True, "action_time": at}),
        validated("vehicle", **{"vehicle.inspection.ended_at": "2024-06-11T09:11:00+08:00"}),
        validated("vehicle", business_type="VEH_DEREGISTER", **{"vehicle.stolen_flag": True}),
        validated("violation", amount=50.0, points=0, approver_id="F520133"),
        validated("violation", violation_code="13441", amount=20.0, reviewer_id="520101"),
        validated("violation", **{"violation.driver_verify.method": "face"}),
        validated("violation", vehicle_owner_id_no="ORG1", license_holder_id_no=WANG_WU),
        validated("accident", **{"accident.parties.0.id_no": None, "accident.deaths": 1}),
        validated("accident", **{"accident.crime_flags.hit_and_run": True}, action="close"),
        validated("license", **{"license.points_after": 3, "license.points_before": 6}),
        validated("license", **{"license.license_status": "AD"}, action_time=at),
    ]


def with_derived(records: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """(record, derived, first): every other record has the previous one as its `first`."""
    rows: list[tuple[Any, ...]] = []
    for index, record in enumerate(records):
        derived = ENRICHER.enrich(record).derived
        first = rows[index - 1][:2] if index % 2 and rows else None
        rows.append((record, derived, first))
    return rows


# --- the three paths ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compiled() -> list[CheckedCondition]:
    return [check(text, lists=LISTS, allow_first=SEQUENCE in text) for text in CONDITIONS]


@pytest.fixture(scope="module")
def durable(compiled: list[CheckedCondition]) -> Iterator[tuple[list[Any], DurableEvaluator]]:
    conditions = [compile_durable(c, tag=f"c{i}x") for i, c in enumerate(compiled)]
    specs = [PredicateSpec(str(i), d.condition_json, "*") for i, d in enumerate(conditions)]
    evaluator = DurableEvaluator(specs, name_prefix="agreement")
    yield conditions, evaluator
    evaluator.close()


def results_of(
    rows: list[tuple[Any, ...]],
    compiled: list[CheckedCondition],
    durable: tuple[list[Any], DurableEvaluator],
) -> dict[str, list[list[bool]]]:
    python = [[compile_python(c)(Env(r, d, CTX, f)) for r, d, f in rows] for c in compiled]
    columns = set().union(*(c.fields for c in compiled))
    frame = frame_from_records(rows, columns)
    pandas = [compile_pandas(c)(frame, CTX).tolist() for c in compiled]
    conditions, evaluator = durable
    fired: list[set[str]] = []
    for record, derived, first in rows:
        message: dict[str, Any] = {}
        for condition in conditions:
            message.update(condition.message_for(record, derived, CTX, first))
        fired.append(set(evaluator.matches(message, partition="all")))
    engine = [[str(i) in hits for hits in fired] for i in range(len(compiled))]
    return {"python": python, "pandas": pandas, "durable": engine}


def assert_agree(rows: list[tuple[Any, ...]], results: dict[str, list[list[bool]]]) -> None:
    for index, text in enumerate(CONDITIONS):
        python = results["python"][index]
        for path in ("pandas", "durable"):
            other = results[path][index]
            mismatched = [i for i, (a, b) in enumerate(zip(python, other, strict=True)) if a != b]
            assert not mismatched, (
                f"{path} disagrees with python on {text!r} for records {mismatched[:5]}: "
                f"{rows[mismatched[0]][0]}"
            )


def test_there_are_at_least_sixty_conditions_and_all_check() -> None:
    assert len(CONDITIONS) >= 60
    for text in CONDITIONS:
        check(text, lists=LISTS, allow_first=SEQUENCE in text)


def test_three_compilers_agree_on_builder_records(
    compiled: list[CheckedCondition], durable: tuple[list[Any], DurableEvaluator]
) -> None:
    rows = with_derived(builder_records())
    results = results_of(rows, compiled, durable)
    assert_agree(rows, results)
    assert any(any(column) for column in results["python"])  # the table is not all false


def test_example_conditions_fire_where_the_catalogue_says(
    compiled: list[CheckedCondition],
) -> None:
    rows = with_derived(builder_records())
    fire = {text: compile_python(c) for text, c in zip(CONDITIONS, compiled, strict=True)}
    record, derived, first = rows[3]  # §1.8: an auxiliary's camera decision, no verification
    assert fire[CONDITIONS[0]](Env(record, derived, CTX, first))
    record, derived, first = rows[4]  # seized vehicle transferred at night
    assert fire[CONDITIONS[4]](Env(record, derived, CTX, first))
    assert fire[CONDITIONS[6]](Env(record, derived, CTX, first))
    record, derived, first = rows[10]  # ORG1 and its registered driver are related
    assert not fire[CONDITIONS[3]](Env(record, derived, CTX, first))


# --- generated records -----------------------------------------------------------------------

IDS = [ZHANG_SANFENG, LI_SI, WANG_WU, ZHAO_LIU, QIAN_QI, SUN_BA, "ORG1", None, ""]
STAFF = ["520133", "F520133", "520101", "999", None, ""]
BASE = datetime(2024, 6, 11, 10, 0, tzinfo=SH)


def instants() -> st.SearchStrategy[datetime]:
    offsets = st.sampled_from([-86400 * 3, -7200, -600, -119, -1, 0, 1, 59, 3600, 86400 * 2])
    return offsets.map(lambda s: BASE + timedelta(seconds=s))


def moments() -> st.SearchStrategy[datetime | None]:
    return st.one_of(st.none(), instants())


def days() -> st.SearchStrategy[date | None]:
    return st.one_of(
        st.none(), st.sampled_from([date(2019, 5, 20), date(2024, 6, 11), date(2025, 5, 19)])
    )


def maybe(*values: Any) -> st.SearchStrategy[Any]:
    return st.sampled_from([*values, None])


def lists_of(*values: Any, size: int = 3) -> st.SearchStrategy[list[Any] | None]:
    return st.one_of(st.none(), st.lists(st.sampled_from(values), max_size=size))


def changes(points: tuple[Any, ...], natures: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    vehicle = st.fixed_dictionaries({"use_nature": maybe(*natures)})
    return st.one_of(
        st.none(), st.fixed_dictionaries({"points": maybe(*points), "vehicle": vehicle})
    )


PARTY = st.fixed_dictionaries(
    {"role": maybe("driver", "passenger"), "id_no": st.sampled_from(IDS)},
    optional={"alcohol_test": st.fixed_dictionaries({"result_mg_100ml": maybe(0.0, 20, 85.5)})},
)
PHOTO = st.fixed_dictionaries(
    {
        "kind": maybe("photo_vin", "photo_front_left_45"),
        "model_standard": maybe(True, False),
        "taken_at": moments(),
        "phash": maybe("ffff0000ffff0000", "ffff0000ffff00ff", "zz", ""),
    }
)
FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "action": maybe("decide", "approve", "close", "revoke", "inspect", "issue"),
    "business_type": maybe("VEH_TRANSFER", "VEH_DEREGISTER", "VIO_PROCESS"),
    "points": st.one_of(st.none(), st.integers(0, 12)),
    "amount": maybe(0.0, 50, 100, 100.5, 150.0, 200.0, 250),
    "amount_kind": maybe("fine", "fee"),
    "operator_id": st.sampled_from(STAFF),
    "approver_id": st.sampled_from(STAFF),
    "reviewer_id": st.sampled_from(STAFF),
    "subject_id_no": st.sampled_from(IDS),
    "vehicle_owner_id_no": st.sampled_from(IDS),
    "license_holder_id_no": st.sampled_from(IDS),
    "agent_id_no": st.sampled_from(IDS),
    "violation.license_used": st.sampled_from(IDS),
    "plate_no": maybe("黔A12345", "黔AD12345", "黔B00001", "黔A2", "黔A88888", "黔A12888", ""),
    "client_ip": maybe("10.52.1.23", "192.168.0.1", ""),
    "subject_phone": maybe("13812345678", "13900000000", "139", ""),
    "reason_code": maybe("hard_to_enforce_later", "minor", ""),
    "violation_code": maybe("16250", "13441", "99999"),
    "unit_code": maybe("520100000400", "520102000000", "520999000000"),
    "action_time": instants(),
    "accepted_at": moments(),
    "changed_fields": lists_of("vin", "points", "x"),
    "evidence": st.one_of(st.none(), st.lists(PHOTO, max_size=2)),
    "evidence_count": st.integers(0, 2),
    "before": changes((3, 6, "6"), ("A", "B")),  # "6": an untyped text against numbers
    "after": changes((3, 6), ("A", 1)),
    "license.license_status": maybe("A", "D", "AD", ""),
    "license.points_before": maybe(0, 6, 12),
    "license.points_after": maybe(0, 3, 12),
    "license.cycle_end": days(),
    "license.first_issue_date": days(),
    "license.exam.subject": maybe(1, 2, 3),
    "license.exam.result": maybe("pass", "fail"),
    "license.exam.manual_override": maybe(True, False),
    "license.exam.started_at": moments(),
    "license.exam.ended_at": moments(),
    "license.exam.face_scores": lists_of(0.5, 0.8, 0.95),
    "vehicle.seizure_active": maybe(True, False),
    "vehicle.stolen_flag": maybe(True, False),
    "vehicle.mortgage_active": maybe(True, False),
    "vehicle.mortgagee_consent_ref": maybe("MC-1", ""),
    "vehicle.vehicle_status": maybe("A", "G", ""),
    "vehicle.first_reg_date": days(),
    "vehicle.insurance_valid_to": days(),
    "vehicle.inspection.result": maybe("pass", "fail"),
    "vehicle.inspection.started_at": moments(),
    "vehicle.inspection.ended_at": moments(),
    "vehicle.inspection.photos": st.one_of(st.none(), st.lists(PHOTO, max_size=3)),
    "accident.deaths": maybe(0, 1, 3),
    "accident.injured_serious": maybe(0, 2),
    "accident.scene_started_at": moments(),
    "accident.determination.made_at": moments(),
    "accident.appraisals": st.one_of(st.none(), st.just([]), st.just([{"kind": "vehicle"}])),
    "accident.crime_flags.hit_and_run": maybe(True, False),
    "accident.crime_flags.dui": maybe(True, False),
    "accident.officers": lists_of("520211", ""),
    "accident.parties": st.one_of(st.none(), st.lists(PARTY, max_size=3)),
    "violation.driver_verify.method": maybe("none", "face"),
    "violation.payment.channel": maybe("on_spot", "bank"),
    "violation.decision.penalty_kinds": lists_of("warning", "fine", size=2),
    "violation.decision.decided_at": moments(),
}
OVERRIDES = st.fixed_dictionaries({}, optional=FIELDS)
RECORD = st.tuples(st.sampled_from(["vehicle", "license", "accident", "violation"]), OVERRIDES)


def generated(service: str, overrides: dict[str, Any]) -> dict[str, Any]:
    if not _BASES:
        _BASES.update({s: validated(s) for s in ("vehicle", "license", "accident", "violation")})
    record = copy.deepcopy(_BASES[service])
    for path, value in overrides.items():
        put(record, path, copy.deepcopy(value))
    return record


_BASES: dict[str, dict[str, Any]] = {}


@settings(max_examples=12, deadline=None)
@given(st.lists(RECORD, min_size=20, max_size=30))
def test_three_compilers_agree_on_generated_records(
    compiled: list[CheckedCondition],
    durable: tuple[list[Any], DurableEvaluator],
    drawn: list[tuple[str, dict[str, Any]]],
) -> None:
    rows = with_derived([generated(service, overrides) for service, overrides in drawn])
    assert_agree(rows, results_of(rows, compiled, durable))
