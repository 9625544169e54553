"""Back-tests: a ruleset (or two) over stored history or files, summarised with pandas.

Hits per rule, per unit and per month, and — given a second ruleset — the hits gained and lost
per rule. Nothing is stored and nothing is sent: it is `replay` with a report.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from auditcage import clock
from auditcage.engine.hits import HitDraft
from auditcage.engine.replay import ReplaySummary, evaluate, valid_records
from auditcage.engine.session import build_engine, load_rules
from auditcage.records.models import Record
from auditcage.records.validation import revive
from auditcage.reference.index import ReferenceIndex

COLUMNS = ["id", "rule_id", "sub", "severity", "unit_code", "month", "at"]


@dataclass
class Backtest:
    hits: pd.DataFrame  # one row per hit: id, rule_id, sub, severity, unit_code, month, at
    records: int

    def per_rule(self) -> pd.DataFrame:
        if self.hits.empty:
            return pd.DataFrame(columns=["rule", "hits"])
        frame = self.hits.assign(rule=_labels(self.hits))
        return frame.groupby("rule").size().rename("hits").reset_index()

    def per_unit(self) -> pd.DataFrame:
        return self.hits.groupby(["unit_code", "rule_id"]).size().rename("hits").reset_index()

    def per_month(self) -> pd.DataFrame:
        if self.hits.empty:
            return pd.DataFrame()
        frame = self.hits.assign(rule=_labels(self.hits))
        return frame.pivot_table(
            index="rule", columns="month", values="id", aggfunc="count", fill_value=0
        )


def _labels(frame: pd.DataFrame) -> pd.Series:
    sub = frame["sub"].fillna("")
    return frame["rule_id"] + sub.map(lambda s: f"({s})" if s else "")


def _frame(hits: Iterable[HitDraft]) -> pd.DataFrame:
    rows = [
        {
            "id": h.id,
            "rule_id": h.rule_id,
            "sub": h.sub,
            "severity": h.severity,
            "unit_code": h.unit_code,
            "month": clock.to_shanghai(h.at).strftime("%Y-%m"),
            "at": h.at,
        }
        for h in hits
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


def stored_records(
    session: Session, *, since: datetime | None, until: datetime | None
) -> Iterator[dict[str, Any]]:
    """Stored records in event-time order, in their validated shape."""
    query = select(Record.payload).order_by(Record.action_time, Record.seq)
    if since is not None:
        query = query.where(Record.action_time >= since)
    if until is not None:
        query = query.where(Record.action_time < until)
    for payload in session.scalars(query.execution_options(yield_per=2000)):
        record = revive(payload)
        if record is not None:
            yield record


def run(
    rules_dir: Path,
    records: Iterable[dict[str, Any]],
    ref: ReferenceIndex,
    *,
    as_of: datetime | None = None,
) -> Backtest:
    ruleset, compiled = load_rules(rules_dir)
    engine = build_engine(ruleset, compiled, ref)
    counted = _Counting(records)
    return Backtest(_frame(evaluate(engine, counted, as_of=as_of)), counted.count)


def from_files(inputs: list[Path]) -> list[dict[str, Any]]:
    summary = ReplaySummary()
    return [r for _, _, r in valid_records(inputs, summary, now=clock.now())]


class _Counting:
    def __init__(self, records: Iterable[dict[str, Any]]) -> None:
        self._records = records
        self.count = 0

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for record in self._records:
            self.count += 1
            yield record


def compare(old: Backtest, new: Backtest) -> pd.DataFrame:
    """Per rule: hits before, after, gained (only in new) and lost (only in old)."""
    labels_old = old.hits.assign(rule=_labels(old.hits)) if not old.hits.empty else old.hits
    labels_new = new.hits.assign(rule=_labels(new.hits)) if not new.hits.empty else new.hits
    rules = sorted(set(labels_old.get("rule", [])) | set(labels_new.get("rule", [])))
    rows = []
    for rule in rules:
        a = set(labels_old[labels_old["rule"] == rule]["id"]) if len(labels_old) else set()
        b = set(labels_new[labels_new["rule"] == rule]["id"]) if len(labels_new) else set()
        rows.append(
            {
                "rule": rule,
                "before": len(a),
                "after": len(b),
                "gained": len(b - a),
                "lost": len(a - b),
            }
        )
    return pd.DataFrame(rows, columns=["rule", "before", "after", "gained", "lost"])
