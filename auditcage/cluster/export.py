"""`auditcage export parquet`: stored records as Parquet, partitioned by month (Hive style,
`month=2026-10/…`), for back-tests over years on Spark.

One row per stored record: the columns back-tests select and partition on, and `payload`, the
canonical JSON a group revives (`records.validation.revive`). `at_us` (action_time in µs since
the epoch) and `seq` (intake order) are the order `rules backtest` evaluates stored history in.
Months are Asia/Shanghai months. Rows are written in chunks, so memory stays flat.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from auditcage import clock
from auditcage.cluster.partition import epoch_us
from auditcage.errors import AuditcageError
from auditcage.records.models import Record

CHUNK = 20_000
COLUMNS = [
    "seq",
    "record_id",
    "action_time",
    "at_us",
    "service",
    "business_type",
    "unit_code",
    "payload",
    "month",
]


@dataclass
class ExportSummary:
    records: int = 0
    by_month: Counter[str] = field(default_factory=Counter)


def export_parquet(
    session: Session,
    out_dir: Path,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> ExportSummary:
    """Write the stored records (action_time in [since, until)) under `out_dir`."""
    try:
        import pandas as pd
        import pyarrow  # noqa: F401  # pandas writes Parquet through it
    except ImportError:
        raise AuditcageError(
            "export parquet needs pyarrow: pip install 'auditcage[spark]'"
        ) from None
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise AuditcageError(f"{out_dir} is not empty: export into a new directory")
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = ExportSummary()
    for number, rows in enumerate(_chunks(session, since, until)):
        frame = pd.DataFrame(rows, columns=COLUMNS)
        frame["action_time"] = pd.to_datetime(frame["action_time"], utc=True)
        frame.to_parquet(
            out_dir,
            engine="pyarrow",
            index=False,
            partition_cols=["month"],
            # a name per chunk: a later chunk of the same month never overwrites an earlier one
            basename_template=f"part-{number:05d}-{{i}}.parquet",
            existing_data_behavior="overwrite_or_ignore",
        )
        summary.records += len(frame)
        summary.by_month.update(frame["month"])
    return summary


def _chunks(
    session: Session, since: datetime | None, until: datetime | None
) -> Iterator[list[tuple[Any, ...]]]:
    query = select(
        Record.seq,
        Record.record_id,
        Record.action_time,
        Record.service,
        Record.business_type,
        Record.unit_code,
        Record.payload,
    ).order_by(Record.action_time, Record.seq)
    if since is not None:
        query = query.where(Record.action_time >= since)
    if until is not None:
        query = query.where(Record.action_time < until)
    rows: list[tuple[Any, ...]] = []
    for seq, record_id, at, service, business_type, unit_code, payload in session.execute(
        query.execution_options(yield_per=2000)
    ):
        local = clock.to_shanghai(at)
        rows.append(
            (
                seq,
                record_id,
                local,
                epoch_us(local),
                service,
                business_type,
                unit_code,
                orjson.dumps(payload).decode(),
                local.strftime("%Y-%m"),
            )
        )
        if len(rows) >= CHUNK:
            yield rows
            rows = []
    if rows:
        yield rows


def read_parquet_records(directory: Path) -> list[dict[str, Any]]:
    """The records of an export in the order `rules backtest` evaluates stored history."""
    import pandas as pd

    from auditcage.records.validation import revive

    frame = pd.read_parquet(directory, columns=["at_us", "seq", "payload"])
    frame = frame.sort_values(["at_us", "seq"], kind="stable")
    records = []
    for payload in frame["payload"]:
        record = revive(orjson.loads(payload))
        if record is not None:
            records.append(record)
    return records
