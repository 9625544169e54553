"""`auditcage export parquet`: stored records as Parquet partitioned by month, read back in the
order a back-test of stored history evaluates them."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from auditcage.engine import backtest
from auditcage.errors import AuditcageError
from auditcage.records.intake import accept_batch
from tests.builders import make_record

pytestmark = [
    pytest.mark.db,
    pytest.mark.skipif(
        importlib.util.find_spec("pyarrow") is None,
        reason="pyarrow is not installed (pip install -e '.[test,spark]')",
    ),
]


def _store(session: Session) -> None:
    # Intake order differs from event order on purpose, and two records share one instant.
    times = [
        ("r-oct-late", "2026-10-31T23:59:59+08:00"),
        ("r-nov", "2026-11-01T00:00:00+08:00"),
        ("r-sep", "2026-09-15T10:00:00+08:00"),
        ("r-oct-a", "2026-10-02T09:00:00+08:00"),
        ("r-oct-b", "2026-10-02T09:00:00+08:00"),
    ]
    records = [
        make_record("violation", record_id=record_id, action_time=at) for record_id, at in times
    ]
    report = accept_batch(session, list(enumerate(records)), source="test")
    assert report.accepted == len(records)


def test_export_partitions_by_shanghai_month_and_reads_back_in_backtest_order(
    session: Session, tmp_path: Path
) -> None:
    from auditcage.cluster.export import export_parquet, read_parquet_records

    _store(session)
    out = tmp_path / "history"
    summary = export_parquet(session, out)

    assert summary.records == 5
    # 23:59:59 on 31 October is October in Asia/Shanghai, though it is 15:59:59 UTC.
    assert dict(summary.by_month) == {"2026-09": 1, "2026-10": 3, "2026-11": 1}
    assert sorted(p.name for p in out.iterdir()) == [
        "month=2026-09",
        "month=2026-10",
        "month=2026-11",
    ]
    stored = list(backtest.stored_records(session, since=None, until=None))
    assert read_parquet_records(out) == stored
    assert [r["record_id"] for r in stored] == [
        "r-sep",
        "r-oct-a",
        "r-oct-b",
        "r-oct-late",
        "r-nov",
    ]


def test_export_refuses_a_directory_that_holds_files(session: Session, tmp_path: Path) -> None:
    from auditcage.cluster.export import export_parquet

    _store(session)
    (tmp_path / "old.parquet").write_bytes(b"")
    with pytest.raises(AuditcageError, match="not empty"):
        export_parquet(session, tmp_path)
