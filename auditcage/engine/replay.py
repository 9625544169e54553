"""`auditcage replay` (catalogue §7.4): batch evaluation of record files into a hits file.

Reads the record files, validates every record, evaluates the valid ones in `action_time` order
through every active rule, runs the deadline sweeper as of `--as-of` (default: the latest
`action_time` seen), and writes every hit as one NDJSON line (§7.3). Sends nothing, stores nothing.
"""

from __future__ import annotations

import heapq
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from auditcage import clock
from auditcage.engine.hits import HitDraft, SettledHits
from auditcage.engine.session import Engine, build_engine, load_rules
from auditcage.records.readers import UnreadableLine, read_records
from auditcage.records.validation import revive, validate_record
from auditcage.reference.service import index_from_directory


@dataclass
class ReplaySummary:
    read: int = 0
    accepted: int = 0
    quarantined: int = 0
    quarantined_by_reason: Counter[str] = field(default_factory=Counter)
    hits_by_severity: Counter[str] = field(default_factory=Counter)
    hits_by_rule: Counter[str] = field(default_factory=Counter)
    as_of: datetime | None = None


SPILL_AT = 50_000  # records sorted in memory at a time (~5.6 KB each once validated)

_Item = tuple[datetime, int, dict[str, Any]]


def _validated(
    inputs: Iterable[Path], summary: ReplaySummary, *, now: datetime | None
) -> Iterator[_Item]:
    """(action_time, input order, record) of every valid record; rejections only counted."""
    order = 0
    for path in inputs:
        for _, payload in read_records(path):
            summary.read += 1
            if isinstance(payload, UnreadableLine):
                summary.quarantined += 1
                summary.quarantined_by_reason["invalid_json"] += 1
                continue
            result = validate_record(payload, now=now)
            if result.rejections or result.record is None:
                summary.quarantined += 1
                summary.quarantined_by_reason.update({p.code for p in result.rejections})
                continue
            summary.accepted += 1
            yield result.record["action_time"], order, result.record
            order += 1


def _order(item: _Item) -> tuple[datetime, int]:
    return item[0], item[1]


def valid_records(
    inputs: Iterable[Path], summary: ReplaySummary, *, now: datetime | None = None
) -> list[_Item]:
    """Every valid record in event-time order (ties: input order), held in memory."""
    return sorted(_validated(inputs, summary, now=now), key=_order)


def sorted_valid_records(
    inputs: Iterable[Path],
    summary: ReplaySummary,
    *,
    now: datetime | None = None,
    spill_at: int = SPILL_AT,
) -> Iterator[dict[str, Any]]:
    """The same records in the same order as `valid_records`, in bounded memory: runs of
    `spill_at` records are sorted and spilled to temporary files, then merged. A million
    validated records would take ~5.6 GB held at once; spilled, the merge holds one run."""
    with tempfile.TemporaryDirectory(prefix="auditcage-replay-") as tmp:
        spills: list[Path] = []
        run: list[_Item] = []
        for item in _validated(inputs, summary, now=now):
            run.append(item)
            if len(run) >= spill_at:
                spills.append(_spill(run, Path(tmp) / f"run-{len(spills):04d}.ndjson"))
                run = []
        run.sort(key=_order)
        streams = [_read_spill(path) for path in spills]
        for _, _, record in heapq.merge(*streams, iter(run), key=_order):
            yield record


def _spill(run: list[_Item], path: Path) -> Path:
    run.sort(key=_order)
    with path.open("wb") as fh:
        for _, order, record in run:
            fh.write(orjson.dumps([order, record], option=orjson.OPT_NON_STR_KEYS) + b"\n")
    return path


def _read_spill(path: Path) -> Iterator[_Item]:
    """A spilled run back in its validated shape (`revive`: datetimes and dates parsed)."""
    with path.open("rb") as fh:
        for line in fh:
            order, payload = orjson.loads(line)
            record = revive(payload)
            assert record is not None  # it was validated before it was spilled
            yield record["action_time"], order, record


def evaluate(
    engine: Engine, records: Iterable[dict[str, Any]], *, as_of: datetime | None
) -> Iterator[HitDraft]:
    """Hits of records already in event-time order, then of the deadlines passed by `as_of`."""
    evaluator = engine.evaluator()
    settled = SettledHits(evaluator.superseded)
    latest: datetime | None = None
    for record in records:
        derived = engine.enricher.enrich(record).derived
        yield from settled.add(record["action_time"], evaluator.process(record, derived))
        latest = record["action_time"] if latest is None else max(latest, record["action_time"])
    yield from settled.release()
    cutoff = as_of or latest
    if cutoff is not None:
        yield from evaluator.sweep(cutoff)


def replay(
    inputs: list[Path],
    *,
    reference_dir: Path,
    hits_out: BinaryIO,
    rules_dir: Path,
    as_of: datetime | None = None,
    filters: str = "python",
    spill_at: int = SPILL_AT,
) -> ReplaySummary:
    """`filters`: "python" (the default, faster by bench/engine.py) or "durable" (durable_rules)."""
    ruleset, rules = load_rules(rules_dir)
    engine = build_engine(ruleset, rules, index_from_directory(reference_dir))
    engine.filters = filters
    summary = ReplaySummary()
    latest: list[datetime] = []  # the last action_time, known once every record was read

    def records() -> Iterator[dict[str, Any]]:
        for record in sorted_valid_records(inputs, summary, now=clock.now(), spill_at=spill_at):
            latest[:] = [record["action_time"]]
            yield record

    for hit in evaluate(engine, records(), as_of=as_of):
        summary.hits_by_severity[hit.severity] += 1
        summary.hits_by_rule[hit.rule_id] += 1
        hits_out.write(orjson.dumps(hit.as_json()) + b"\n")
    summary.as_of = as_of or (latest[0] if latest else None)
    return summary
