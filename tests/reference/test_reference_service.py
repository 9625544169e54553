"""Loading reference data: atomic replacement, history, versions, directories and shipped tables."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from auditcage import clock
from auditcage.errors import InvalidInput, ReferenceDataError
from auditcage.reference import service
from auditcage.reference.models import ReferenceLoad, ReferenceRow

pytestmark = pytest.mark.db

SHANGHAI = clock.SHANGHAI


def staff(staff_id: str = "F520133", **overrides: Any) -> dict[str, Any]:
    """A valid staff row; override only what the test is about."""
    row = {"staff_id": staff_id, "staff_kind": "auxiliary", "unit_code": "U1", "status": "active"}
    return {**row, **overrides}


def write_ndjson(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    return path


def loads_of(session: Session, dataset: str) -> int:
    return session.scalar(select(func.count()).where(ReferenceLoad.dataset == dataset)) or 0


def test_a_load_makes_its_rows_current_and_is_recorded(session: Session) -> None:
    load = service.replace_dataset(
        session, "staff", [staff("A"), staff("B")], source="api", actor="admin"
    )

    assert (load.dataset, load.rows, load.source, load.actor) == ("staff", 2, "api", "admin")
    assert load.replaced_load_id is None
    assert len(load.checksum) == 64
    index = service.build_index(session)
    assert index.get("staff", "A")["staff_kind"] == "auxiliary"
    assert load.id in [current.id for current in service.current_loads(session)]


def test_a_second_load_replaces_the_dataset_whole_and_keeps_the_history(session: Session) -> None:
    first = service.replace_dataset(
        session, "staff", [staff("A"), staff("B")], source="a.csv", actor="admin"
    )
    second = service.replace_dataset(session, "staff", [staff("C")], source="b.csv", actor="admin")

    index = service.build_index(session)
    assert index.get("staff", "A") is None
    assert index.get("staff", "C") is not None
    assert len(index.rows("staff")) == 1
    assert second.replaced_load_id == first.id
    assert [load.id for load in service.load_history(session, "staff")] == [second.id, first.id]
    # the replaced load keeps its rows, so what was current then can still be shown
    kept = session.scalar(select(func.count()).where(ReferenceRow.load_id == first.id))
    assert kept == 2


def test_a_refused_load_leaves_the_previous_data_intact(session: Session) -> None:
    service.replace_dataset(session, "staff", [staff("A")], source="api", actor="admin")

    with pytest.raises(ReferenceDataError) as refused:
        service.replace_dataset(
            session,
            "staff",
            [staff("B"), staff("C", staff_kind="volunteer")],
            source="api",
            actor="admin",
        )

    assert refused.value.problems == [
        "staff line 2, staff_kind: must be one of: police, auxiliary, contractor"
    ]
    assert loads_of(session, "staff") == 1
    index = service.build_index(session)
    assert index.get("staff", "A") is not None
    assert index.get("staff", "B") is None


def test_numbered_rows_keep_their_file_line_numbers_in_problems(session: Session) -> None:
    with pytest.raises(ReferenceDataError) as refused:
        service.replace_dataset(
            session, "staff", [(7, staff(status="gone"))], source="api", actor="admin"
        )
    assert refused.value.problems[0].startswith("staff line 7, status:")


def test_the_version_valid_at_a_time_is_used_from_inclusive_to_exclusive(session: Session) -> None:
    rows = [
        staff("P1", unit_code="OLD", effective_from="2024-01-01", effective_to="2024-07-01"),
        staff("P1", unit_code="NEW", effective_from="2024-07-01T00:00:00+08:00"),
    ]
    service.replace_dataset(session, "staff", rows, source="api", actor="admin")
    index = service.build_index(session)

    def unit_at(at: datetime) -> str | None:
        row = index.get("staff", "P1", at=at)
        return row["unit_code"] if row else None

    assert unit_at(datetime(2023, 12, 31, 23, 59, 59, tzinfo=SHANGHAI)) is None
    assert unit_at(datetime(2024, 1, 1, 0, 0, tzinfo=SHANGHAI)) == "OLD"
    assert unit_at(datetime(2024, 6, 30, 23, 59, 59, tzinfo=SHANGHAI)) == "OLD"
    assert unit_at(datetime(2024, 7, 1, 0, 0, tzinfo=SHANGHAI)) == "NEW"
    assert unit_at(datetime(2030, 1, 1, tzinfo=SHANGHAI)) == "NEW"


def test_stored_rows_read_back_exactly_as_validated(session: Session, tmp_path: Path) -> None:
    file = write_ndjson(
        tmp_path / "staff.jsonl",
        [staff(certificates=[{"kind": "inspector", "valid_to": "2027-12-31"}], extra="kept")],
    )
    expected = service.index_from_directory(tmp_path, include_shipped=False).rows("staff")

    service.load_directory(session, tmp_path, actor="admin", include_shipped=False)

    assert service.build_index(session).rows("staff") == expected
    assert expected[0]["extra"] == "kept"
    assert file.exists()


def test_the_checksum_ignores_row_order() -> None:
    rows = service.validate_rows("staff", [(1, staff("A")), (2, staff("B"))])
    assert service.checksum(rows) == service.checksum(list(reversed(rows)))
    assert service.checksum(rows) != service.checksum(rows[:1])


# --- directories --------------------------------------------------------------------------------


def test_a_directory_loads_its_files_and_the_shipped_policy_tables(
    session: Session, tmp_path: Path
) -> None:
    write_ndjson(tmp_path / "staff.jsonl", [staff("A")])
    (tmp_path / "relations.csv").write_text(
        "staff_id,related_id_no,relation\nA,520102199202021234,spouse\n", encoding="utf-8"
    )

    loads = service.load_directory(session, tmp_path, actor="admin")

    assert [load.dataset for load in loads] == [
        "staff", "relations", "business_types", "violation_codes", "calendar",
        "premium_plate_patterns",
    ]  # fmt: skip
    by_name = {load.dataset: load for load in loads}
    assert by_name["relations"].source == str(tmp_path / "relations.csv")
    assert by_name["violation_codes"].source == str(service.shipped_dir() / "violation_codes.jsonl")
    index = service.build_index(session)
    assert index.get("violation_codes", "16250")["points"] == 6
    assert index.loaded("calendar") and index.rows("calendar") == []
    assert not index.loaded("units")  # no file: no data of that kind


def test_a_directory_file_replaces_the_shipped_table_of_the_same_name(
    session: Session, tmp_path: Path
) -> None:
    (tmp_path / "violation_codes.csv").write_text(
        "violation_code,description,points,fine_min,fine_max,local_standard_fine,effective_from\n"
        "16250,驾驶机动车违反道路交通信号灯通行的,6,20,200,150,2022-04-01\n",
        encoding="utf-8",
    )

    service.load_directory(session, tmp_path, actor="admin")

    index = service.build_index(session)
    [row] = index.rows("violation_codes")
    assert row["local_standard_fine"] == 150
    assert len(index.rows("business_types")) > 0  # the other shipped tables still load


def test_unknown_file_names_are_refused_by_name(session: Session, tmp_path: Path) -> None:
    write_ndjson(tmp_path / "staff.jsonl", [staff()])
    (tmp_path / "stafff.csv").write_text("staff_id\nA\n", encoding="utf-8")
    (tmp_path / "units.xlsx").write_bytes(b"")
    (tmp_path / "README.md").write_text("notes about this export", encoding="utf-8")

    with pytest.raises(InvalidInput) as refused:
        service.load_directory(session, tmp_path, actor="admin")

    assert "unknown files stafff.csv, units.xlsx" in str(refused.value)
    assert loads_of(session, "staff") == 0
    with pytest.raises(InvalidInput):
        service.index_from_directory(tmp_path)


def test_one_dataset_in_two_files_is_refused(session: Session, tmp_path: Path) -> None:
    write_ndjson(tmp_path / "staff.jsonl", [staff()])
    (tmp_path / "staff.csv").write_text("staff_id\nA\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as refused:
        service.load_directory(session, tmp_path, actor="admin")
    assert "one dataset in two files: staff.csv and staff.jsonl" in str(refused.value)


def test_one_invalid_file_refuses_the_whole_directory(session: Session, tmp_path: Path) -> None:
    write_ndjson(tmp_path / "staff.jsonl", [staff()])
    write_ndjson(tmp_path / "relations.jsonl", [{"staff_id": "A", "relation": "friend"}])
    write_ndjson(tmp_path / "watchlist.jsonl", [{"kind": "broker_phone"}])

    with pytest.raises(ReferenceDataError) as refused:
        service.load_directory(session, tmp_path, actor="admin")

    assert refused.value.dataset == "relations, watchlist"
    assert refused.value.problems == [
        "relations line 1, related_id_no: required",
        "relations line 1, relation: must be one of: spouse, parent, child, sibling, "
        "parent_in_law, child_in_law, household, declared_other",
        "watchlist line 1, value: required",
    ]
    assert loads_of(session, "staff") == 0
    assert loads_of(session, "business_types") == 0


def test_a_missing_directory_is_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        service.index_from_directory(tmp_path / "nowhere")


def test_the_file_view_and_the_database_view_agree(session: Session, tmp_path: Path) -> None:
    write_ndjson(
        tmp_path / "staff.jsonl",
        [
            staff("A", effective_from="2024-01-01", effective_to="2025-01-01"),
            staff("A", unit_code="U2", effective_from="2025-01-01"),
        ],
    )
    from_files = service.index_from_directory(tmp_path)
    service.load_directory(session, tmp_path, actor="admin")
    from_db = service.build_index(session)

    for name in ("staff", "business_types", "violation_codes", "premium_plate_patterns"):
        assert from_db.rows(name) == from_files.rows(name), name
    at = datetime(2025, 3, 1, tzinfo=SHANGHAI)
    assert from_db.get("staff", "A", at=at) == from_files.get("staff", "A", at=at)


def test_load_shipped_loads_just_the_policy_tables(session: Session) -> None:
    loads = service.load_shipped(session, actor="first-start")

    assert sorted(load.dataset for load in loads) == [
        "business_types", "calendar", "premium_plate_patterns", "violation_codes",
    ]  # fmt: skip
    assert {load.actor for load in loads} == {"first-start"}
    index = service.build_index(session)
    assert index.get("business_types", "VIO_PROCESS")["police_only_actions"]


def test_reloading_the_shipped_tables_adds_a_load_that_replaces_the_first(
    session: Session,
) -> None:
    [first] = [
        load
        for load in service.load_shipped(session, actor="a")
        if load.dataset == "violation_codes"
    ]
    [second] = [
        load
        for load in service.load_shipped(session, actor="b")
        if load.dataset == "violation_codes"
    ]
    assert second.replaced_load_id == first.id
    assert second.checksum == first.checksum
    assert len(service.build_index(session).rows("violation_codes")) == first.rows
