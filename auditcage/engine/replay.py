"""`auditcage replay` (catalogue §7.4): batch evaluation of record files into a hits file.

Reads the record files, validates every record, evaluates the valid ones in `action_time` order
through every active rule, runs the deadline sweeper as of `--as-of` (default: the latest
`action_time` seen), and writes every hit as one NDJSON line (§7.3). Sends nothing, stores nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from auditcage import clock
from auditcage.engine.hits import HitDraft
from auditcage.engine.session import Engine, build_engine, load_rules
from auditcage.records.readers import UnreadableLine, read_records
from auditcage.records.validation import validate_record
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


def valid_records(
    inputs: Iterable[Path], summary: ReplaySummary, *, now: datetime | None = None
) -> list[tuple[datetime, int, dict[str, Any]]]:
    """(action_time, input order, record) of every valid record; rejections only counted."""
    kept = []
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
            kept.append((result.record["action_time"], order, result.record))
            order += 1
    kept.sort(key=lambda item: (item[0], item[1]))
    return kept


def evaluate(
    engine: Engine, records: Iterable[dict[str, Any]], *, as_of: datetime | None
) -> Iterator[HitDraft]:
    """Hits of records already in event-time order, then of the deadlines passed by `as_of`."""
    evaluator = engine.evaluator()
    latest: datetime | None = None
    for record in records:
        derived = engine.enricher.enrich(record).derived
        yield from evaluator.process(record, derived)
        latest = record["action_time"] if latest is None else max(latest, record["action_time"])
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
) -> ReplaySummary:
    """`filters`: "python" (the default, faster by bench/engine.py) or "durable" (durable_rules)."""
    ruleset, rules = load_rules(rules_dir)
    engine = build_engine(ruleset, rules, index_from_directory(reference_dir))
    engine.filters = filters
    summary = ReplaySummary()
    records = valid_records(inputs, summary, now=clock.now())
    summary.as_of = as_of or (records[-1][0] if records else None)
    for hit in evaluate(engine, (r for _, _, r in records), as_of=summary.as_of):
        summary.hits_by_severity[hit.severity] += 1
        summary.hits_by_rule[hit.rule_id] += 1
        hits_out.write(orjson.dumps(hit.as_json()) + b"\n")
    return summary
