"""rows(): every reference row of a value, for conditions over several rows (any/all/count)."""

from __future__ import annotations

from datetime import datetime

from auditcage import clock
from auditcage.engine.compile_pandas import compile_pandas, frame_from_records
from auditcage.engine.compile_python import Env, compile_python
from auditcage.reference.index import ReferenceIndex
from auditcage.rulepacks.check import check
from auditcage.rulepacks.functions import EvalContext

AT = datetime(2024, 6, 11, 10, 0, tzinfo=clock.SHANGHAI)
VIN = "LSVAU21860N212345"
REPORTS = [
    {"report_no": "R1", "vin": VIN, "result": "fail", "inspected_at": "2024-06-01T09:00:00+08:00"},
    {"report_no": "R2", "vin": VIN, "result": "pass", "inspected_at": "2024-06-03T09:00:00+08:00"},
    {
        "report_no": "R3",
        "vin": "OTHER",
        "result": "pass",
        "inspected_at": "2024-06-05T09:00:00+08:00",
    },
]
PASSED_RECENTLY = (
    'any(rows("inspection_reports", "vin", vin), '
    'item.result == "pass" and item.inspected_at >= action_time - 30d)'
)


def _holds(text: str, record: dict, rows: list[dict]) -> bool:
    ctx = EvalContext(ReferenceIndex({"inspection_reports": rows}))
    checked = check(text)
    python = compile_python(checked)(Env(record, {}, ctx))
    frame = frame_from_records([(record, {}, None)], checked.fields)
    pandas = bool(compile_pandas(checked)(frame, ctx).iloc[0])
    assert python == pandas, "the two compilers disagree"
    return python


def test_a_condition_sees_every_row_of_the_value_not_only_the_last() -> None:
    record = {"vin": VIN, "action_time": AT}
    assert _holds(PASSED_RECENTLY, record, REPORTS)
    assert not _holds(PASSED_RECENTLY, record, [REPORTS[0], REPORTS[2]])
    assert _holds('count(rows("inspection_reports", "vin", vin), true) == 2', record, REPORTS)


def test_no_value_or_no_rows_is_an_empty_list() -> None:
    assert not _holds(PASSED_RECENTLY, {"vin": None, "action_time": AT}, REPORTS)
    assert not _holds(PASSED_RECENTLY, {"vin": VIN, "action_time": AT}, [])


def test_member_reads_an_object_member_by_a_number_or_text_key() -> None:
    venues = [{"venue_id": "V1", "unit_code": "520100000400", "capacity_per_day": {"2": 40}}]
    ctx = EvalContext(ReferenceIndex({"exam_venues": venues}))
    checked = check(
        'member(lookup("exam_venues", license.exam.venue_id, "capacity_per_day"), '
        "license.exam.subject) == 40"
    )
    at = {"action_time": AT}
    holds = compile_python(checked)
    assert holds(Env({**at, "license": {"exam": {"venue_id": "V1", "subject": 2}}}, {}, ctx))
    assert not holds(Env({**at, "license": {"exam": {"venue_id": "V1", "subject": 3}}}, {}, ctx))
    assert not holds(Env({**at, "license": {"exam": {"venue_id": "V9", "subject": 2}}}, {}, ctx))
