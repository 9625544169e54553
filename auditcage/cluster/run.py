"""One partitioned run, whatever executes the groups: the records as a frame, the family
hits from an executor (Spark, or pandas in this process), then the batch rules on the driver.

`run_local` is the same plan without Spark (a pandas groupby in this process): it is what
`replay_group` promises — a pure function of one group — made checkable without a cluster.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
import pandas as pd

from auditcage.cluster.batch import evaluate_batch, noted_hits
from auditcage.cluster.partition import (
    HIT_COLUMNS,
    RECORD_COLUMNS,
    GroupContext,
    epoch_us,
    explode,
    hits_frame,
    replay_group,
)
from auditcage.records.intake import canonical

# Runs the families over the records frame and returns their hits (HIT_COLUMNS).
FamilyRunner = Callable[[GroupContext, pd.DataFrame], pd.DataFrame]


@dataclass
class PartitionedResult:
    hits: pd.DataFrame  # HIT_COLUMNS, families and batch rules together, in file order
    records: int
    # seconds of the two steps: the families (on the runner) and the batch rules (here)
    timings: dict[str, float] = field(default_factory=dict)


def records_frame(records: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Validated records in replay order as RECORD_COLUMNS (seq = their place in it)."""
    rows = [
        (
            epoch_us(record["action_time"]),
            seq,
            orjson.dumps(canonical(record)).decode(),
        )
        for seq, record in enumerate(records)
    ]
    return pd.DataFrame(rows, columns=RECORD_COLUMNS)


def run_partitioned(
    ctx: GroupContext,
    records: Sequence[dict[str, Any]],
    run_families: FamilyRunner,
    frame: pd.DataFrame | None = None,
) -> PartitionedResult:
    """Families through `run_families`, then the batch rules over `records` (replay order)."""
    started = time.perf_counter()
    frame = records_frame(records) if frame is None else frame
    family = run_families(ctx, frame)
    families_done = time.perf_counter()
    batch = hits_frame(evaluate_batch(ctx, records, noted_hits(family)))
    hits = pd.concat([family, batch], ignore_index=True) if len(batch) else family
    timings = {
        "families_s": families_done - started,
        "batch_s": time.perf_counter() - families_done,
    }
    return PartitionedResult(sort_hits(hits), len(records), timings)


def run_local(ctx: GroupContext, frame: pd.DataFrame) -> pd.DataFrame:
    """The family hits with a pandas groupby in this process (no Spark)."""
    exploded = explode(ctx, frame)
    groups = exploded.groupby(["family", "bucket"], sort=False)
    parts = [replay_group(ctx, group) for _, group in groups]
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=HIT_COLUMNS)


def sort_hits(hits: pd.DataFrame) -> pd.DataFrame:
    """A stable file order independent of how the groups were cut: by time, rule, id, line."""
    if hits.empty:
        return pd.DataFrame(columns=HIT_COLUMNS)
    instants = pd.to_datetime(hits["at"], utc=True, format="ISO8601")
    ordered = hits.assign(_t=instants).sort_values(["_t", "rule_id", "id", "line"])
    return ordered.drop(columns="_t").reset_index(drop=True)


def write_lines(hits: pd.DataFrame, out: Any) -> None:
    for line in hits["line"]:
        out.write(line.encode() + b"\n")


def as_of_of(records: Iterable[dict[str, Any]], as_of: datetime | None) -> datetime | None:
    """`replay`'s sweep instant: --as-of, else the latest action_time of the run."""
    if as_of is not None:
        return as_of
    return max((r["action_time"] for r in records), default=None)
