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
from datetime import datetime
from typing import Any

import orjson
import pandas as pd

from auditcage.cluster.partition import GroupContext
from auditcage.engine.evaluator import Evaluator
from auditcage.engine.hits import HitDraft, rule_uid


@dataclass(frozen=True)
class NotedHit:
    """What the books read of a family's hit: LedgerBook.note_hits the records it is about,
    RateBook.note_hits (rate rules with `with_hits`) its rule, key and time."""

    record_ids: tuple[str, ...]
    rule_id: str = ""
    sub: str | None = None
    key: str = ""
    at: datetime | None = None
    shadow: bool = False

    @property
    def uid(self) -> str:
        return rule_uid(self.rule_id, self.sub)


def noted_hits(family: pd.DataFrame) -> list[NotedHit]:
    """The family hits (HIT_COLUMNS) as the books read them."""
    columns = ["record_ids", "rule_id", "sub", "key", "at", "line"]
    return [
        NotedHit(
            tuple(ids),
            rule_id,
            sub if isinstance(sub, str) and sub else None,
            key,
            datetime.fromisoformat(at),
            bool(orjson.loads(line).get("shadow")),
        )
        for ids, rule_id, sub, key, at, line in family[columns].itertuples(index=False, name=None)
    ]


def evaluate_batch(
    ctx: GroupContext,
    records: Iterable[dict[str, Any]],
    family_hits: Sequence[NotedHit],
) -> Iterator[HitDraft]:
    """Hits of the rate and ledger rules; `records` in replay order, `family_hits` every hit
    the families produced. The rate book takes them first: a `with_hits` close counts the hits
    by their time, so it sees what the single-machine replay has emitted by then."""
    if not ctx.plan.batch_rules:
        return
    engine = ctx.engine
    evaluator = Evaluator(ctx.plan.batch_rules, engine.ctx)
    evaluator.rates.note_hits(family_hits)  # type: ignore[arg-type]  # reads rule, key, at
    for record in records:
        yield from evaluator.process(record, engine.enricher.enrich(record).derived)
    if ctx.as_of is None:
        return
    evaluator.ledgers.note_hits(family_hits)  # type: ignore[arg-type]  # reads record_ids
    yield from evaluator.sweep(ctx.as_of)
