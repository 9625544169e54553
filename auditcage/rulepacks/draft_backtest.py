"""One rule back-tested on stored history: the draft's text of it against the active version's.

Only that rule is evaluated on each side (a rules directory holding just it, its pack.yaml, the
lists and the example data), so the answer comes in seconds, not the minutes of every rule.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from auditcage.engine import backtest
from auditcage.errors import NotFound
from auditcage.reference.index import ReferenceIndex
from auditcage.rulepacks import drafts
from auditcage.rulepacks.draft_checks import rule_files


@dataclass(frozen=True)
class RuleBacktest:
    """One rule over stored history: the draft against the active version."""

    key: str
    records: int
    months: list[str]
    before: list[int]  # published hits per month
    after: list[int]  # draft hits per month
    rows: list[dict[str, Any]]  # per unit and month: before, after, gained, lost
    totals: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def backtest_rule(
    records: Iterable[dict[str, Any]],
    ref: ReferenceIndex,
    *,
    draft_files: Mapping[str, str],
    base_files: Mapping[str, str],
    key: str,
    as_of: datetime | None = None,
) -> RuleBacktest:
    """Only the edited rule is evaluated, on each side: a rules directory holding just it."""
    started = time.perf_counter()
    history = list(records)
    after = _run_one(draft_files, key, history, ref, as_of)
    before = _run_one(base_files, key, history, ref, as_of)
    table = _per_unit_and_month(before.hits, after.hits)
    months = sorted(set(before.hits["month"]) | set(after.hits["month"]))
    return RuleBacktest(
        key=key,
        records=len(history),
        months=months,
        before=[int((before.hits["month"] == m).sum()) for m in months],
        after=[int((after.hits["month"] == m).sum()) for m in months],
        rows=table,
        totals={
            "before": len(before.hits),
            "after": len(after.hits),
            "gained": sum(r["gained"] for r in table),
            "lost": sum(r["lost"] for r in table),
        },
        seconds=time.perf_counter() - started,
    )


def _run_one(
    files: Mapping[str, str],
    key: str,
    records: list[dict[str, Any]],
    ref: ReferenceIndex,
    as_of: datetime | None,
) -> backtest.Backtest:
    try:
        path = drafts.find_rule(files, key)
    except NotFound:  # a rule new in the draft has no published hits
        return backtest.Backtest(pd.DataFrame(columns=backtest.COLUMNS), len(records))
    with drafts.materialised(rule_files(files, path)) as root:
        return backtest.run(root, records, ref, as_of=as_of)


def _per_unit_and_month(before: pd.DataFrame, after: pd.DataFrame) -> list[dict[str, Any]]:
    cells: dict[tuple[str, str], dict[str, set[str]]] = {}
    for side, frame in (("before", before), ("after", after)):
        for row in frame.itertuples():
            cell = cells.setdefault((row.unit_code, row.month), {"before": set(), "after": set()})
            cell[side].add(row.id)
    return [
        {
            "unit_code": unit,
            "month": month,
            "before": len(c["before"]),
            "after": len(c["after"]),
            "gained": len(c["after"] - c["before"]),
            "lost": len(c["before"] - c["after"]),
        }
        for (unit, month), c in sorted(cells.items())
    ]
