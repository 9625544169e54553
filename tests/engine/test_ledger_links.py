"""Ledger links by number range (VIO-16(b)) and near the row's time (VIO-15(b)), composite keys."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from auditcage import clock
from auditcage.config import DEFAULT_RULES_DIR
from auditcage.engine.replay import evaluate
from auditcage.engine.session import build_engine, load_rules
from auditcage.records.validation import validate_record
from auditcage.reference.index import ReferenceIndex
from auditcage.rulepacks.packs import RulePackError
from tests.engine.ruledir import make_rules_dir

VIO_16B = DEFAULT_RULES_DIR / "violation" / "vio_16b_issued_form_number_skipped.yaml"
VIO_15B = DEFAULT_RULES_DIR / "violation" / "vio_15b_vehicle_left_lot_without_release.yaml"
PREFIX = "5201001000"


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(clock.SHANGHAI)


def _reference(**datasets: list[dict[str, Any]]) -> ReferenceIndex:
    rows = yaml.safe_load((DEFAULT_RULES_DIR / "examples" / "reference.yaml").read_text())
    return ReferenceIndex({"units": rows["units"], "staff": rows["staff"], **datasets})


def _record(record_id: str, **fields: Any) -> dict[str, Any]:
    bases = yaml.safe_load((DEFAULT_RULES_DIR / "examples" / "base_records.yaml").read_text())
    result = validate_record({**bases["violation"], "record_id": record_id, **fields})
    assert result.record is not None, result.rejections
    return result.record


def _use(n: int, day: str) -> dict[str, Any]:
    at = f"{day}T10:00:00+08:00"
    return _record(
        f"violation:D{n}",
        serial_no=f"S{n}",
        document_no=f"{PREFIX}{n:03d}",
        action_time=at,
        accepted_at=at,
        completed_at=at,
    )


def _stock(low: int, high: int) -> dict[str, Any]:
    return {
        "document_kind": "penalty_decision",
        "number_from": f"{PREFIX}{low:03d}",
        "number_to": f"{PREFIX}{high:03d}",
        "staff_id": "520133",
        "issued_on": "2024-06-01",
    }


def _hits(
    tmp_path: Path, rule: Path, records: list[dict[str, Any]], ref: ReferenceIndex, as_of: str
):
    rules_dir = make_rules_dir(tmp_path, {f"violation/{rule.name}": rule.read_text("utf-8")})
    ruleset, rules = load_rules(rules_dir)
    engine = build_engine(ruleset, rules, ref)
    return [h for h in evaluate(engine, records, as_of=_t(as_of)) if h.kind == "J"]


def test_a_skipped_number_is_counted_and_named_in_the_hit(tmp_path: Path) -> None:
    ref = _reference(document_stock=[_stock(1, 6)])
    records = [_use(1, "2024-06-03"), _use(2, "2024-06-04"), _use(5, "2024-06-10")]
    (hit,) = _hits(tmp_path, VIO_16B, records, ref, "2024-07-01T00:00:00+08:00")
    assert hit.detail["range_n"] == 6 and hit.detail["used_n"] == 3
    assert hit.detail["gap_n"] == 2 and hit.detail["unused_n"] == 3  # 3, 4 skipped; 6 unused
    assert hit.record_ids == ("violation:D1", "violation:D2", "violation:D5")
    assert hit.key == (
        "document_stock.staff_id=520133;document_stock.document_kind=penalty_decision;"
        f"document_stock.number_from={PREFIX}001"
    )
    assert hit.at == _t("2024-06-01T00:00:00+08:00")  # the row's time (issued_on), as CP-19(c)


def test_numbers_of_another_length_or_outside_the_range_do_not_link(tmp_path: Path) -> None:
    ref = _reference(document_stock=[_stock(1, 3)])
    outside = _use(4, "2024-06-05")  # 004: above the range
    shorter = _record(
        "violation:X",
        serial_no="SX",
        document_no=f"{PREFIX}02"[1:],  # a different length is never a number of the range
        action_time="2024-06-05T10:00:00+08:00",
        accepted_at="2024-06-05T10:00:00+08:00",
        completed_at="2024-06-05T10:00:00+08:00",
    )
    records = [_use(1, "2024-06-03"), shorter, outside, _use(3, "2024-06-06")]
    (hit,) = _hits(tmp_path, VIO_16B, records, ref, "2024-07-01T00:00:00+08:00")
    assert hit.detail["gap_n"] == 1 and hit.record_ids == ("violation:D1", "violation:D3")


def test_a_range_too_wide_to_look_up_is_not_judged(tmp_path: Path) -> None:
    from auditcage.engine import ledgers

    wide = {**_stock(1, 1), "number_from": "0" * 7, "number_to": f"{ledgers.RANGE_MAX:07d}"}
    ref = _reference(document_stock=[wide])
    record = _record(
        "violation:W",
        document_no="0000005",
        action_time="2024-06-03T10:00:00+08:00",
        accepted_at="2024-06-03T10:00:00+08:00",
        completed_at="2024-06-03T10:00:00+08:00",
    )
    assert _hits(tmp_path, VIO_16B, [record], ref, "2024-07-01T00:00:00+08:00") == []


def _parking(out_at: str) -> dict[str, Any]:
    return {
        "plate_no": "黔A12345",
        "lot_id": "LOT-01",
        "in_at": "2024-06-10T10:30:00+08:00",
        "out_at": out_at,
        "released_by": "520150",
    }


def _release(record_id: str, at: str, plate: str = "黔A12345") -> dict[str, Any]:
    return _record(
        record_id,
        business_type="VIO_RELEASE",
        action="release",
        reason_code="docs_verified",
        plate_no=plate,
        action_time=at,
        accepted_at=at,
        completed_at=at,
    )


def test_only_releases_within_the_two_hours_count_and_the_stay_is_the_evidence(
    tmp_path: Path,
) -> None:
    ref = _reference(parking_ledger=[_parking("2024-06-12T09:00:00+08:00")])
    seize = _record(
        "violation:SEIZE",
        business_type="VIO_MEASURE",
        action="seize",
        action_time="2024-06-10T09:40:00+08:00",
        accepted_at="2024-06-10T09:40:00+08:00",
        completed_at="2024-06-10T09:40:00+08:00",
    )
    early = _release("violation:R-EARLY", "2024-06-12T06:59:59+08:00")  # 2 h 1 s before
    (hit,) = _hits(tmp_path, VIO_15B, [seize, early], ref, "2024-06-12T12:00:00+08:00")
    assert hit.severity == "red" and hit.unit_code == "520100000000"  # released_by's R2 unit
    assert hit.record_ids == ("violation:SEIZE", "violation:R-EARLY")
    assert hit.key.startswith("parking_ledger.plate_no=黔A12345;parking_ledger.lot_id=LOT-01;")
    on_time = _release("violation:R-OK", "2024-06-12T10:59:00+08:00")
    assert _hits(tmp_path / "q", VIO_15B, [seize, on_time], ref, "2024-06-12T12:00:00+08:00") == []


def test_two_exits_of_one_plate_are_two_rows(tmp_path: Path) -> None:
    rows = [_parking("2024-06-12T09:00:00+08:00"), _parking("2024-06-20T09:00:00+08:00")]
    hits = _hits(
        tmp_path,
        VIO_15B,
        [_release("violation:R1", "2024-06-12T09:30:00+08:00")],
        _reference(parking_ledger=rows),
        "2024-06-21T00:00:00+08:00",
    )
    assert [h.key.rsplit("=", 1)[1] for h in hits] == ["2024-06-20T09:00:00+08:00"]


@pytest.mark.parametrize(
    ("link", "problem"),
    [
        ("{record: document_no, row: staff_id, range: [number_from, number_to]}", "or `range`"),
        ("{record: document_no}", "or `range`"),
        ("{record: plate_no, row: plate_no, since: in_at}", "since needs within"),
        ("{record: document_no, range: [number_from, nowhere]}", "'nowhere' is not a field"),
    ],
)
def test_a_malformed_link_is_refused(tmp_path: Path, link: str, problem: str) -> None:
    text = VIO_16B.read_text("utf-8")
    start = text.index("  link:\n")
    end = text.index("parameters:")
    broken = text[:start] + f"  link: {link}\n" + text[end:]
    rules_dir = make_rules_dir(tmp_path, {"violation/vio_16b.yaml": broken})
    with pytest.raises(RulePackError) as raised:
        load_rules(rules_dir)
    assert problem in str(raised.value)
