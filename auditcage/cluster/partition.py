"""The frame path of issue 10: `replay_group(frame) -> hits` for the records of one
(key family, key bucket), with the unchanged `Evaluator` holding only that family's rules.

A group's frame has the columns of `RECORD_COLUMNS`; the hits come back as a frame of
`HIT_COLUMNS`, one row per hit, `line` being its §7.3 hits-file line (where the key is masked;
`key` is not). Records are evaluated in
the order `replay` uses — action_time, then input (or intake) order — and the deadlines are
swept as of the run's `as_of`, never the group's own latest record, so every group judges
deadlines at the same instant as the single-machine replay.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import orjson
import pandas as pd

from auditcage.cluster.families import (
    KEY_BUCKETS,
    Family,
    FamilyPlan,
    bucket_of,
    group_keys,
    owner_key,
    plan_families,
)
from auditcage.engine.evaluator import Evaluator
from auditcage.engine.hits import HitDraft, SettledHits
from auditcage.engine.session import Engine
from auditcage.records.validation import revive

# at_us: action_time in microseconds since the epoch (sorts like the datetimes); seq: the
# record's place in the input (files) or in intake (stored history); payload: canonical JSON.
RECORD_COLUMNS = ["at_us", "seq", "payload"]
GROUP_COLUMNS = ["family", "bucket", "key", *RECORD_COLUMNS]
HIT_COLUMNS = ["id", "rule_id", "sub", "severity", "unit_code", "at", "record_ids", "key", "line"]


@dataclass
class GroupContext:
    """What every group of one run shares: the engine (rules, reference, calendar), the
    families, and the instant deadlines are swept at: the run's `--as-of`, else the latest
    action_time of the whole run (None only when there are no records)."""

    engine: Engine
    plan: FamilyPlan
    as_of: datetime | None
    buckets: int = KEY_BUCKETS
    # family name → its compiled filters, built once per run (cluster.step)
    filters: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def of(cls, engine: Engine, as_of: datetime | None, buckets: int = KEY_BUCKETS) -> GroupContext:
        return cls(engine, plan_families(engine.rules), as_of, buckets)


def explode(ctx: GroupContext, frame: pd.DataFrame) -> pd.DataFrame:
    """One row per (family, key) each record belongs to, with the key's bucket
    (columns GROUP_COLUMNS)."""
    rows: list[tuple[Any, ...]] = []
    for at_us, seq, payload in frame[RECORD_COLUMNS].itertuples(index=False, name=None):
        record = _record(payload)
        cache: list[Any] = []

        def derived(record: dict[str, Any] = record, cache: list[Any] = cache) -> Any:
            if not cache:
                cache.append(ctx.engine.enricher.enrich(record).derived)
            return cache[0]

        for family in ctx.plan.families:
            for key in group_keys(family, record, derived):
                bucket = bucket_of(family, key, ctx.buckets)
                rows.append((family.name, bucket, key, at_us, seq, payload))
    return pd.DataFrame(rows, columns=GROUP_COLUMNS)


def replay_group(ctx: GroupContext, frame: pd.DataFrame) -> pd.DataFrame:
    """The hits of one (family, key bucket) group (columns HIT_COLUMNS)."""
    if frame.empty:
        return hits_frame(())
    family = ctx.plan.family(str(frame["family"].iat[0]))
    keys = set(frame["key"])
    # A record with two keys in this bucket has two rows: evaluate it once, in replay order.
    unique = frame.drop_duplicates("seq")
    order = np.lexsort((unique["seq"].to_numpy(), unique["at_us"].to_numpy()))
    records = (_record(payload) for payload in unique["payload"].to_numpy()[order])
    hits = []
    for hit in evaluate_family(ctx, family, records):
        owner = owner_key(family, hit.key)
        if owner is None or owner in keys:
            hits.append(hit)
    return hits_frame(hits)


def evaluate_family(
    ctx: GroupContext, family: Family, records: Iterable[dict[str, Any]]
) -> Iterator[HitDraft]:
    """`replay.evaluate` for one family's rules: records in event-time order, then the sweep."""
    engine = ctx.engine
    evaluator = Evaluator(family.rules, engine.ctx)
    settled = SettledHits(evaluator.superseded)
    for record in records:
        hits = evaluator.process(record, engine.enricher.enrich(record).derived)
        yield from settled.add(record["action_time"], hits)
    yield from settled.release()
    if ctx.as_of is not None:
        yield from evaluator.sweep(ctx.as_of)


def hits_frame(hits: Iterable[HitDraft]) -> pd.DataFrame:
    """HIT_COLUMNS of hits; most groups have none, and share one empty frame (never mutated)."""
    rows = [
        (
            h.id,
            h.rule_id,
            h.sub,
            h.severity,
            h.unit_code,
            h.at.isoformat(),
            list(h.record_ids),
            h.key,  # unmasked, for the rate rules that compare with hits (cluster.batch)
            orjson.dumps(h.as_json()).decode(),
        )
        for h in hits
    ]
    if not rows:
        return _NO_HITS
    return pd.DataFrame(rows, columns=HIT_COLUMNS)


_NO_HITS = pd.DataFrame({c: pd.Series([], dtype=object) for c in HIT_COLUMNS})


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_us(at: datetime) -> int:
    """Microseconds since the epoch, exactly (a float timestamp can round a microsecond)."""
    return (at - _EPOCH) // timedelta(microseconds=1)


def _record(payload: str | bytes) -> dict[str, Any]:
    record = revive(orjson.loads(payload))
    if record is None:  # payloads are validated before they get here
        raise ValueError("a group received a payload that is not a record")
    return record
