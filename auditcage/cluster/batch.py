"""The rules that need the whole data, run once: rate rules (kind R) and ledger rules.

A rate rule compares groups with their peers, so it sees every record of its population; a
ledger rule judges reference rows with the records that cite them and counts those that are
already in a hit of any rule (`alerted_n`). Both run here with the unchanged `Evaluator`
holding only these rules, fed every record in replay order. The hits of the partitioned
families are noted before the sweep, which is when the single-machine replay has noted them
too (each at the record that produced it, every one before the final sweep judges a row).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from auditcage.cluster.partition import GroupContext
from auditcage.engine.evaluator import Evaluator
from auditcage.engine.hits import HitDraft


@dataclass(frozen=True)
class NotedHit:
    """What LedgerBook.note_hits reads of a hit: the records it is about."""

    record_ids: tuple[str, ...]


def evaluate_batch(
    ctx: GroupContext,
    records: Iterable[dict[str, Any]],
    family_hits: Sequence[Sequence[str]],
) -> Iterator[HitDraft]:
    """Hits of the rate and ledger rules; `records` in replay order, `family_hits` the
    record_ids of every hit the families produced."""
    if not ctx.plan.batch_rules:
        return
    engine = ctx.engine
    evaluator = Evaluator(ctx.plan.batch_rules, engine.ctx)
    for record in records:
        yield from evaluator.process(record, engine.enricher.enrich(record).derived)
    if ctx.as_of is None:
        return
    noted = [NotedHit(tuple(ids)) for ids in family_hits]
    evaluator.ledgers.note_hits(noted)  # type: ignore[arg-type]  # reads record_ids only
    yield from evaluator.sweep(ctx.as_of)
