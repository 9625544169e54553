"""Statistics for the by-level feedback of §4.3 (逐级回告): the weekly report's figures, and the
rates the console's unit scoreboard (逆向考评) shares with it.

Counts by rule family and unit, acknowledgement and feedback timeliness, the confirmed rate
(属实率) and the operators with most alerts — over the alerts routed in a period, for one unit's
subtree. pandas does the grouping; the caller renders the figures. Each rate is defined once
here (`on_time_share`, `confirmed_share`) and applied to a whole period or to one unit's rows.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from auditcage.alerts.models import Alert, AlertStatus
from notifications.lifecycle_models import AlertDeadline, FeedbackReport, ReviewDecision, Step
from notifications.routing_models import AlertRouting

FEEDBACK_STEPS = (Step.INITIAL_FEEDBACK.value, Step.FINAL_REPORT.value)  # 回告: initial + final
CONFIRMED = ("confirmed", "partly")  # 属实, 部分属实
DEADLINE_COLUMNS = ["alert_id", "step", "started_at", "due_at", "met_at", "active"]


@dataclass(frozen=True)
class WeeklyFigures:
    alerts: int
    by_severity: dict[str, int] = field(default_factory=dict)
    by_family: dict[str, int] = field(default_factory=dict)
    by_unit: dict[str, int] = field(default_factory=dict)
    acknowledged_on_time: float | None = None  # share of acknowledge deadlines met in time
    reported_on_time: float | None = None  # share of final-report deadlines met in time
    confirmed_rate: float | None = None  # 属实 + 部分属实 among accepted final reports
    top_operators: list[tuple[str, int]] = field(default_factory=list)


def family(rule_id: str) -> str:
    """VEH, LIC, ACC, VIO, STF or CP: the prefix of the rule id."""
    return rule_id.split("-")[0]


def deadlines_of(session: Session, alert_ids: Sequence[int]) -> pd.DataFrame:
    """Every deadline row of the alerts (returned reports add rows), times as UTC timestamps."""
    rows = session.execute(
        select(
            AlertDeadline.alert_id,
            AlertDeadline.step,
            AlertDeadline.started_at,
            AlertDeadline.due_at,
            AlertDeadline.met_at,
            AlertDeadline.active,
        ).where(AlertDeadline.alert_id.in_(alert_ids))
    ).all()
    frame = pd.DataFrame(rows, columns=DEADLINE_COLUMNS)
    for column in ("started_at", "due_at", "met_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def accepted_findings(session: Session, alert_ids: Sequence[int]) -> pd.DataFrame:
    """The finding of each final report that discipline inspection accepted (审核通过)."""
    rows = session.execute(
        select(FeedbackReport.alert_id, FeedbackReport.finding)
        .join(ReviewDecision, ReviewDecision.report_id == FeedbackReport.id)
        .where(
            FeedbackReport.alert_id.in_(alert_ids),
            FeedbackReport.kind == "final",
            ReviewDecision.outcome == "accept",
        )
    ).all()
    return pd.DataFrame(rows, columns=["alert_id", "finding"])


def on_time_share(
    deadlines: pd.DataFrame, steps: Collection[str], *, now: datetime
) -> float | None:
    """Share of the deadlines of `steps` met by their due time, among those settled by `now`.

    A deadline still open past its due time counts as missed; one still running, or stopped
    without being met (a dismissal), does not count. None when nothing is settled.
    """
    rows = deadlines[deadlines["step"].isin(list(steps))]
    met = rows["met_at"].notna()
    missed = ~met & rows["active"].astype(bool) & (rows["due_at"] < pd.Timestamp(now))
    settled = met | missed
    if not settled.any():
        return None
    return float((met & (rows["met_at"] <= rows["due_at"]))[settled].mean())


def confirmed_share(findings: pd.Series) -> float | None:
    """属实率: confirmed and partly confirmed among the findings given (accepted final reports)."""
    if findings.empty:
        return None
    return float(findings.isin(CONFIRMED).mean())


def overdue_deadlines(deadlines: pd.DataFrame, *, now: datetime) -> pd.DataFrame:
    """The deadlines still open past their due time at `now`."""
    late = deadlines["active"].astype(bool) & deadlines["met_at"].isna()
    return deadlines[late & (deadlines["due_at"] < pd.Timestamp(now))]


def unit_scores(session: Session, handled: pd.DataFrame, *, now: datetime) -> list[dict[str, Any]]:
    """The unit scoreboard's figures (逆向考评), one row per unit of `handled` (alert_id,
    unit_code, status: the alerts pushed to each unit):

    - pushed; acknowledged_on_time and feedback_on_time (initial + final reports, a returned
      report's new deadline too), as on_time_share at `now`;
    - overdue: alerts with a deadline open past due now; returned: reports returned in review;
    - confirmed_rate (属实率): confirmed_share of the accepted final reports;
    - dismissed_share: alerts dismissed as false positives; median_ack_minutes: push → 签收.
    """
    if handled.empty:
        return []
    ids = [int(i) for i in handled["alert_id"]]
    unit_of = handled.set_index("alert_id")["unit_code"]
    deadlines = deadlines_of(session, ids)
    deadlines["unit_code"] = deadlines["alert_id"].map(unit_of)
    findings = accepted_findings(session, ids)
    findings["unit_code"] = findings["alert_id"].map(unit_of)
    returned = pd.Series(
        session.scalars(
            select(ReviewDecision.alert_id).where(
                ReviewDecision.alert_id.in_(ids), ReviewDecision.outcome == "return"
            )
        ).all(),
        dtype="int64",
    ).map(unit_of)
    overdue = overdue_deadlines(deadlines, now=now).drop_duplicates("alert_id")
    overdue = overdue["unit_code"].value_counts()
    ack = deadlines[(deadlines["step"] == Step.ACKNOWLEDGE.value) & deadlines["met_at"].notna()]
    ack_minutes = (ack["met_at"] - ack["started_at"]).dt.total_seconds() / 60
    board = []
    for code, mine in handled.groupby("unit_code"):
        own = deadlines[deadlines["unit_code"] == code]
        minutes = ack_minutes[ack["unit_code"] == code]
        board.append(
            {
                "unit_code": code,
                "pushed": len(mine),
                "acknowledged_on_time": on_time_share(own, [Step.ACKNOWLEDGE.value], now=now),
                "feedback_on_time": on_time_share(own, FEEDBACK_STEPS, now=now),
                "overdue": int(overdue.get(code, 0)),
                "returned": int((returned == code).sum()),
                "confirmed_rate": confirmed_share(
                    findings.loc[findings["unit_code"] == code, "finding"]
                ),
                "dismissed_share": float((mine["status"] == AlertStatus.DISMISSED).mean()),
                "median_ack_minutes": float(minutes.median()) if len(minutes) else None,
            }
        )
    return board


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
    deadlines = deadlines_of(session, ids)
    findings = accepted_findings(session, ids)["finding"]
    operators = alerts["operator_id"].dropna().value_counts().head(5)
    return WeeklyFigures(
        alerts=len(alerts),
        by_severity=alerts["severity"].value_counts().to_dict(),
        by_family=families.value_counts().to_dict(),
        by_unit=alerts["unit_code"].value_counts().head(10).to_dict(),
        acknowledged_on_time=on_time_share(deadlines, [Step.ACKNOWLEDGE.value], now=until),
        reported_on_time=on_time_share(deadlines, [Step.FINAL_REPORT.value], now=until),
        confirmed_rate=confirmed_share(findings),
        top_operators=[(str(k), int(v)) for k, v in operators.items()],
    )
