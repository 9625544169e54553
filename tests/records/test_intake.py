"""Intake: every record ends accepted, duplicate or quarantined; nothing is lost."""

from __future__ import annotations

import csv
from pathlib import Path

import orjson
import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from auditcage.records import quarantine
from auditcage.records.intake import Outcome, accept_batch
from auditcage.records.models import DataQualityNotice, QuarantinedRecord, QuarantineState, Record
from auditcage.records.readers import flatten, read_records
from tests.builders import make_record

pytestmark = pytest.mark.db


def _ingest(session: Session, records: list, source: str = "test") -> object:
    return accept_batch(session, list(enumerate(records)), source=source)


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_valid_record_is_stored_with_its_key_columns(session: Session) -> None:
    raw = make_record("violation")
    report = _ingest(session, [raw])
    assert report.accepted == 1 and report.quarantined == 0
    stored = session.scalars(select(Record)).one()
    assert stored.record_id == raw["record_id"]
    assert stored.serial_no == raw["serial_no"]
    assert stored.plate_no == raw["plate_no"]
    assert stored.payload["action_time"] == raw["action_time"]


def test_duplicate_record_id_is_reported_and_not_stored_twice(session: Session) -> None:
    raw = make_record("vehicle")
    first = _ingest(session, [raw, raw])
    second = _ingest(session, [raw])
    assert (first.accepted, first.duplicates) == (1, 1)
    assert (second.accepted, second.duplicates) == (0, 1)
    assert second.outcomes[0].outcome is Outcome.DUPLICATE
    assert _count(session, Record) == 1


def test_steps_sharing_a_serial_are_all_stored(session: Session) -> None:
    accept = make_record("vehicle", record_id="vehicle_reg:step-1", action="accept")
    approve = make_record("vehicle", record_id="vehicle_reg:step-2", action="approve")
    report = _ingest(session, [accept, approve])
    assert report.accepted == 2
    assert _count(session, Record) == 2


def test_invalid_record_is_quarantined_with_position_field_and_reason(session: Session) -> None:
    good = make_record("violation")
    bad = make_record("violation", record_id="violation:bad-1", points=13)
    report = _ingest(session, [good, bad])
    assert report.accepted == 1 and report.quarantined == 1
    outcome = report.outcomes[-1]
    assert outcome.outcome is Outcome.QUARANTINED
    assert outcome.position == 1 and outcome.record_id == "violation:bad-1"
    assert [p.field for p in outcome.problems] == ["points"]
    kept = session.scalars(select(QuarantinedRecord)).one()
    assert kept.payload == bad  # kept whole, as received
    assert kept.reasons[0]["field"] == "points"
    assert report.quarantined_by_reason["points_range"] == 1


def test_accepted_record_with_a_warning_keeps_a_data_quality_notice(session: Session) -> None:
    raw = make_record("violation", plate_no="黔A1234")  # one character short of GA 36
    report = _ingest(session, [raw])
    assert report.accepted == 1 and report.accepted_with_warnings == 1
    notice = session.scalars(select(DataQualityNotice)).one()
    assert notice.record_id == raw["record_id"] and notice.field == "plate_no"
    assert session.scalars(select(Record)).one().has_warnings


def test_a_line_of_invalid_json_in_the_middle_of_a_file_is_quarantined_and_the_rest_read(
    session: Session, tmp_path: Path
) -> None:
    first = make_record("violation", record_id="violation:line-1")
    third = make_record("violation", record_id="violation:line-3")
    path = tmp_path / "records.ndjson"
    path.write_bytes(orjson.dumps(first) + b"\n{not json at all\n\n" + orjson.dumps(third) + b"\n")
    report = accept_batch(session, read_records(path), source=str(path))
    assert (report.read, report.accepted, report.quarantined) == (3, 2, 1)
    kept = session.scalars(select(QuarantinedRecord)).one()
    assert kept.position == 2 and kept.raw_text == "{not json at all"
    assert kept.reasons[0]["code"] == "invalid_json"


def _sample_batch() -> list[dict]:
    return [
        make_record("vehicle", record_id="vehicle_reg:fmt-1"),
        make_record("license", record_id="license_mgmt:fmt-2"),
        make_record("accident", record_id="accident:fmt-3"),
        make_record("violation", record_id="violation:fmt-4"),
        make_record("violation", record_id="violation:fmt-5", points=99),  # quarantined
    ]


def _write_flat(records: list[dict], path: Path) -> None:
    flat = [flatten(r) for r in records]
    columns = sorted({c for row in flat for c in row})
    if path.suffix == ".csv":
        with path.open("w", newline="", encoding="utf-8") as stream:
            writer = csv.DictWriter(stream, fieldnames=columns)
            writer.writeheader()
            writer.writerows(flat)
        return
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(columns)
    for row in flat:
        sheet.append([row.get(c, None) if row.get(c, "") != "" else None for c in columns])
    workbook.save(path)


def _stored(session: Session) -> tuple[list, list]:
    records = [
        (r.record_id, r.payload) for r in session.scalars(select(Record).order_by(Record.record_id))
    ]
    quarantined = [
        (q.record_id, q.codes)
        for q in session.scalars(select(QuarantinedRecord).order_by(QuarantinedRecord.id))
    ]
    return records, quarantined


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_flattened_import_equals_the_ndjson_import_of_the_same_records(
    db_engine, tmp_path: Path, suffix: str
) -> None:
    records = _sample_batch()
    ndjson = tmp_path / "records.ndjson"
    ndjson.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    flat = tmp_path / f"records{suffix}"
    _write_flat(records, flat)
    results = []
    for path in (ndjson, flat):
        with db_engine.connect() as connection:
            outer = connection.begin()
            session = Session(bind=connection)
            accept_batch(session, read_records(path), source="same-source")
            session.flush()
            results.append(_stored(session))
            session.close()
            outer.rollback()
    assert results[0] == results[1]
    assert len(results[0][0]) == 4 and len(results[0][1]) == 1


def test_quarantined_record_can_be_corrected_and_replayed(session: Session) -> None:
    bad = make_record("violation", record_id="violation:fix-me", points=13)
    _ingest(session, [bad])
    kept = session.scalars(select(QuarantinedRecord)).one()
    result = quarantine.replay(session, kept.id, actor="tester", corrected={**bad, "points": 3})
    assert result.outcome is Outcome.ACCEPTED
    assert kept.state is QuarantineState.REPLAYED or kept.state == "replayed"
    assert kept.replayed_record_id == "violation:fix-me"
    assert session.scalars(select(Record.record_id)).all() == ["violation:fix-me"]
    assert quarantine.pending(session) == []


def test_replay_of_a_still_invalid_record_keeps_it_pending_with_the_new_reasons(
    session: Session,
) -> None:
    bad = make_record("violation", record_id="violation:still-bad", points=13)
    _ingest(session, [bad])
    kept = session.scalars(select(QuarantinedRecord)).one()
    result = quarantine.replay(
        session, kept.id, actor="tester", corrected={**bad, "points": 3, "action": "explode"}
    )
    assert result.outcome is Outcome.QUARANTINED
    assert kept.state == QuarantineState.PENDING and kept.attempts == 1
    assert [r["field"] for r in kept.reasons] == ["action"]
    assert _count(session, QuarantinedRecord) == 1
    assert _count(session, Record) == 0


def test_an_operator_unknown_to_the_staff_registry_is_a_notice_not_a_failure(
    session: Session,
) -> None:
    from auditcage.reference import service
    from auditcage.reference.cache import ReferenceCache

    service.replace_dataset(
        session,
        "staff",
        [
            {
                "staff_id": "P000001",
                "id_no": "520102198001011234",
                "name": "张三",
                "staff_kind": "police",
                "unit_code": "520102000000",
                "position": "window_officer",
                "status": "active",
            }
        ],
        source="test",
        actor="tester",
    )
    raw = make_record("violation", record_id="violation:ghost-operator", operator_id="GHOST-1")
    notices = ReferenceCache().notice_source(session)
    report = accept_batch(session, [(0, raw)], source="test", notices=notices)
    assert report.accepted == 1 and report.accepted_with_warnings == 1
    codes = {n.code for n in session.scalars(select(DataQualityNotice))}
    assert "unknown_operator" in codes


def _nul_batch() -> list[dict]:
    return [
        make_record("violation", record_id="violation:nul-ok"),
        make_record("violation", record_id="violation:nul-top", window_id="GY\x00W07"),
        make_record(
            "violation",
            record_id="violation:nul-deep",
            **{"violation.decision.penalty_kinds": ["fine\x00"]},
        ),
        make_record("violation", record_id="violation:nul\x00id"),
    ]


def test_a_nul_in_any_string_field_quarantines_that_record_only_and_names_the_field(
    session: Session,
) -> None:
    report = _ingest(session, _nul_batch())
    session.flush()  # PostgreSQL refuses U+0000 in text and jsonb: the copies must be escaped
    assert (report.read, report.accepted, report.quarantined) == (4, 1, 3)
    assert report.quarantined_by_reason["nul_character"] == 3
    held = {o.position: o for o in report.outcomes if o.outcome is Outcome.QUARANTINED}
    assert [(p.field, p.code) for p in held[1].problems] == [("window_id", "nul_character")]
    deep = {(p.field, p.code) for p in held[2].problems}  # an unknown penalty kind as well
    assert ("violation.decision.penalty_kinds.0", "nul_character") in deep
    assert [p.field for p in held[3].problems] == ["record_id"]
    assert "U+0000" in held[1].problems[0].reason
    assert session.scalars(select(Record.record_id)).all() == ["violation:nul-ok"]
    session.expire_all()  # read back what the database holds
    kept = session.scalars(select(QuarantinedRecord).order_by(QuarantinedRecord.id)).all()
    assert kept[0].payload["window_id"] == "GY\\u0000W07"  # shown where the NUL was
    assert kept[1].payload["violation"]["decision"]["penalty_kinds"] == ["fine\\u0000"]
    assert kept[2].record_id == "violation:nul\\u0000id"
    assert orjson.loads(kept[0].raw_text)["window_id"] == "GY\x00W07"  # the exact original


def test_a_nul_quarantined_record_replayed_unchanged_stays_held_and_fixed_is_accepted(
    session: Session,
) -> None:
    bad = make_record("violation", record_id="violation:nul-fix", window_id="GY\x00W07")
    _ingest(session, [bad])
    kept = session.scalars(select(QuarantinedRecord)).one()
    again = quarantine.replay(session, kept.id, actor="tester")
    session.flush()
    assert again.outcome is Outcome.QUARANTINED
    assert [r["code"] for r in kept.reasons] == ["nul_character"]
    still_bad = {**bad, "window_id": "GY-W07", "plate_no": "黔A\x0012345"}
    result = quarantine.replay(session, kept.id, actor="tester", corrected=still_bad)
    session.flush()
    assert result.outcome is Outcome.QUARANTINED
    assert [r["field"] for r in kept.reasons] == ["plate_no"]
    assert kept.payload["plate_no"] == "黔A\\u000012345"
    fixed = {**bad, "window_id": "GY-W07"}
    result = quarantine.replay(session, kept.id, actor="tester", corrected=fixed)
    assert result.outcome is Outcome.ACCEPTED
    assert session.scalars(select(Record.record_id)).all() == ["violation:nul-fix"]


def test_a_raw_nul_byte_in_a_file_is_quarantined_with_the_line_escaped(
    session: Session, tmp_path: Path
) -> None:
    good = make_record("violation", record_id="violation:raw-ok")
    ndjson = tmp_path / "raw.ndjson"
    ndjson.write_bytes(orjson.dumps(good) + b'\n{"record_id": "a\x00b"}\n')
    flat = tmp_path / "raw.csv"
    _write_flat([{**good, "record_id": "violation:csv-nul", "window_id": "W\x0007"}], flat)
    report = accept_batch(session, read_records(ndjson), source=str(ndjson))
    report.merge(accept_batch(session, read_records(flat), source=str(flat)))
    session.flush()
    assert (report.read, report.accepted, report.quarantined) == (3, 1, 2)
    session.expire_all()
    line, cell = session.scalars(select(QuarantinedRecord).order_by(QuarantinedRecord.id)).all()
    assert line.codes == "invalid_json" and line.raw_text == '{"record_id": "a\\u0000b"}'
    assert cell.codes == "nul_character" and cell.payload["window_id"] == "W\\u000007"
