"""Statistics for the by-level feedback of §4.3 (逐级回告): the weekly report's figures.

Counts by rule family and unit, acknowledgement and feedback timeliness, the confirmed rate
(属实率) and the operators with most alerts — over the alerts routed in a period, for one unit's
subtree. pandas does the grouping; the caller renders the figures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from auditcage.alerts.models import Alert
from notifications.lifecycle_models import AlertDeadline, FeedbackReport
from notifications.routing_models import AlertRouting


@dataclass(frozen=True)
class WeeklyFigures:
    alerts: int
    by_severity: dict[str, int] = field(default_factory=dict)
    by_family: dict[str, int] = field(default_factory=dict)
    by_unit: dict[str, int] = field(default_factory=dict)
    acknowledged_on_time: float | None = None  # share of acknowledge deadlines met in time
    reported_on_time: float | None = None  # share of final-report deadlines met in time
    confirmed_rate: float | None = None  # 属实 + 部分属实 among final reports
    top_operators: list[tuple[str, int]] = field(default_factory=list)


def family(rule_id: str) -> str:
    return rule_id.split("-")[0]


def weekly_figures(
    session: Session, since: datetime, until: datetime, in_scope: Callable[[str | None], bool]
) -> WeeklyFigures:
    rows = session.execute(
        select(Alert.id, Alert.severity, Alert.rule_ids, Alert.unit_code, AlertRouting.operator_id)
        .join(AlertRouting, AlertRouting.alert_id == Alert.id)
        .where(AlertRouting.routed_at >= since, AlertRouting.routed_at < until)
        .where(Alert.shadow.is_(False))
    ).all()
    alerts = pd.DataFrame(
        [r for r in rows if in_scope(r.unit_code)],
        columns=["id", "severity", "rule_ids", "unit_code", "operator_id"],
    )
    if alerts.empty:
        return WeeklyFigures(alerts=0)
    ids = [int(i) for i in alerts["id"]]
    families = alerts.explode("rule_ids")["rule_ids"].map(family)
    deadlines = pd.DataFrame(
        session.execute(
            select(AlertDeadline.step, AlertDeadline.due_at, AlertDeadline.met_at).where(
                AlertDeadline.alert_id.in_(ids)
            )
        ).all(),
        columns=["step", "due_at", "met_at"],
    )
    findings = pd.Series(
        session.scalars(
            select(FeedbackReport.finding).where(
                FeedbackReport.alert_id.in_(ids), FeedbackReport.kind == "final"
            )
        ).all(),
        dtype=object,
    )
    operators = alerts["operator_id"].dropna().value_counts().head(5)
    return WeeklyFigures(
        alerts=len(alerts),
        by_severity=alerts["severity"].value_counts().to_dict(),
        by_family=families.value_counts().to_dict(),
        by_unit=alerts["unit_code"].value_counts().head(10).to_dict(),
        acknowledged_on_time=_on_time(deadlines, "acknowledge"),
        reported_on_time=_on_time(deadlines, "final_report"),
        confirmed_rate=(
            float(findings.isin(["confirmed", "partly"]).mean()) if len(findings) else None
        ),
        top_operators=[(str(k), int(v)) for k, v in operators.items()],
    )


def _on_time(deadlines: pd.DataFrame, step: str) -> float | None:
    rows = deadlines[deadlines["step"] == step]
    done = rows.dropna(subset=["met_at"])
    if done.empty:
        return None
    return float((done["met_at"] <= done["due_at"]).mean())
