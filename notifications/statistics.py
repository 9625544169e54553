"""The console's dashboards: hits and alerts by severity, unit, rule family and time, the unit ×
family heat map, the unit scoreboard (逆向考评) and the daily red briefing (§4.3).

Queries in SQL, aggregation in pandas. Every figure counts only what the viewer may see
(notifications.access.visible: the unit subtree, alerts naming the viewer, recusal of actors),
narrowed to a unit's subtree when one is chosen. Units are counted at brigade level (大队 /
车管所 / 考试中心); an alert of a detachment or of the province counts for that unit itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from auditcage import clock
from auditcage.alerts.models import Alert, Hit
from auditcage.records.masking import mask_text
from auditcage.reference.index import ReferenceIndex
from notifications import digests, reports
from notifications.access import Viewer, in_subtree, visible
from notifications.lifecycle_models import AlertAssignment
from notifications.routing_models import AlertRouting

SEVERITIES = ("red", "orange", "yellow", "blue")
FAMILIES = ("VEH", "LIC", "ACC", "VIO", "STF", "CP")  # catalogue §2 and §3, by rule-id prefix
BUCKETS = {"day": "D", "week": "W-SUN", "month": "M"}  # weeks run Monday to Sunday
DEFAULT_CLOSED_MONTHS = 3  # the last 3 closed months and the current one
BRIEFING_HOUR = time(8, 0)  # the 08:00 red briefing (§4.3)
FILTER_LEVELS = ("province", "detachment", "brigade")
MAX_BUCKETS = 400  # bars on one time axis; a longer period is drawn on a coarser scale


@dataclass(frozen=True)
class Period:
    """Calendar days, both ends included, in Asia/Shanghai."""

    start: date
    end: date

    @classmethod
    def default(cls, today: date | None = None) -> Period:
        today = today or clock.today()
        year, month = today.year, today.month - DEFAULT_CLOSED_MONTHS
        while month < 1:
            month, year = month + 12, year - 1
        return cls(date(year, month, 1), today)

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time(), clock.SHANGHAI)

    @property
    def until(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time(), clock.SHANGHAI)

    def bucket(self, wanted: str | None = None) -> str:
        """The time scale asked for, coarser if it would draw more than MAX_BUCKETS bars;
        without a wish, days up to a month, weeks up to a quarter, then months."""
        days = (self.end - self.start).days + 1
        scale = (
            wanted
            if wanted in BUCKETS
            else "month"
            if days > 92
            else "week"
            if days > 31
            else "day"
        )
        if scale == "day" and days > MAX_BUCKETS:
            scale = "week"
        if scale == "week" and days > 7 * MAX_BUCKETS:
            scale = "month"
        return scale


@dataclass(frozen=True)
class Overview:
    period: Period
    bucket: str
    alerts: int
    hits: int
    severity: list[dict[str, Any]]  # severity, alerts, hits
    units: list[dict[str, Any]]  # unit_code, unit_name, alerts, one column per severity, hits
    families: list[dict[str, Any]]  # family, alerts, hits
    series: list[dict[str, Any]]  # bucket, one column per severity, alerts, hits
    heatmap: list[dict[str, Any]]  # unit_code, unit_name, one column per family
    red_share: float | None = None


# --- units ----------------------------------------------------------------------------------


def ancestor_at(ref: ReferenceIndex, unit_code: str | None, level: str) -> str | None:
    """The unit of `level` above (or at) unit_code; the unit itself when there is none."""
    seen: set[str] = set()
    row = ref.get("units", unit_code) if unit_code else None
    while row is not None and row["unit_code"] not in seen:
        seen.add(row["unit_code"])
        if row.get("level") == level:
            return str(row["unit_code"])
        parent = row.get("parent_code")
        row = ref.get("units", parent) if parent else None
    return unit_code


def unit_name(ref: ReferenceIndex, unit_code: str | None) -> str:
    row = ref.get("units", unit_code) if unit_code else None
    return str(row.get("name") or unit_code) if row else str(unit_code or "")


def filter_units(ref: ReferenceIndex, viewer: Viewer) -> list[dict[str, Any]]:
    """The units a viewer may narrow the dashboards to: province, detachments and brigades of
    the jurisdiction, each detachment followed by its brigades."""
    mine = [
        row
        for row in ref.rows("units")
        if row.get("level") in FILTER_LEVELS and in_subtree(ref, row["unit_code"], viewer.unit_code)
    ]
    order = {level: i for i, level in enumerate(FILTER_LEVELS)}

    def key(row: dict[str, Any]) -> tuple[str, int, str]:
        detachment = ancestor_at(ref, row["unit_code"], "detachment") or ""
        return (
            detachment if row.get("level") != "province" else "",
            order[row["level"]],
            row["unit_code"],
        )

    return [
        {"unit_code": r["unit_code"], "name": r.get("name") or r["unit_code"], "level": r["level"]}
        for r in sorted(mine, key=key)
    ]


# --- what the viewer sees -----------------------------------------------------------------------


def _seen(
    session: Session,
    ref: ReferenceIndex,
    viewer: Viewer,
    alerts: Sequence[Alert],
    unit: str | None,
) -> list[Alert]:
    shown = visible(session, ref, viewer, alerts)
    if unit:
        shown = [a for a in shown if in_subtree(ref, a.unit_code, unit)]
    return shown


def _local(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, utc=True).dt.tz_convert(clock.SHANGHAI)


def _frames(
    session: Session, ref: ReferenceIndex, viewer: Viewer, period: Period, unit: str | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(alerts that began in the period, hits of the period), of visible alerts only."""
    since, until = period.since, period.until
    live_hit = and_(Hit.superseded.is_(False), Hit.shadow.is_(False))
    hit_in_period = and_(Hit.at >= since, Hit.at < until, live_hit)
    candidates = session.scalars(
        select(Alert).where(
            Alert.shadow.is_(False),
            or_(
                and_(Alert.first_at >= since, Alert.first_at < until),
                Alert.id.in_(select(Hit.alert_id).where(hit_in_period)),
            ),
        )
    ).all()
    seen = _seen(session, ref, viewer, candidates, unit)
    brigade = _brigades(ref)
    alerts = pd.DataFrame(
        [
            {
                "id": a.id,
                "severity": a.severity,
                "families": sorted({reports.family(r) for r in a.rule_ids}),
                "unit_code": brigade(a.unit_code),
                "at": a.first_at,
            }
            for a in seen
        ],
        columns=["id", "severity", "families", "unit_code", "at"],
    )
    alerts["at"] = _local(alerts["at"])
    alerts = alerts[(alerts["at"] >= since) & (alerts["at"] < until)]
    hits = pd.DataFrame(
        session.execute(
            select(Hit.alert_id, Hit.rule_id, Hit.severity, Hit.unit_code, Hit.at).where(
                hit_in_period
            )
        ).all(),
        columns=["alert_id", "rule_id", "severity", "unit_code", "at"],
    )
    hits = hits[hits["alert_id"].isin([a.id for a in seen])].copy()
    hits["family"] = hits["rule_id"].map(reports.family)
    hits["unit_code"] = hits["unit_code"].map(brigade)
    hits["at"] = _local(hits["at"])
    return alerts, hits


def _brigades(ref: ReferenceIndex) -> Callable[[str | None], str | None]:
    """unit code → its brigade-level unit, each unit's walk up the tree done once."""
    cache: dict[str | None, str | None] = {}

    def brigade(code: str | None) -> str | None:
        if code not in cache:
            cache[code] = ancestor_at(ref, code, "brigade")
        return cache[code]

    return brigade


# --- the overview -------------------------------------------------------------------------------


def overview(
    session: Session,
    ref: ReferenceIndex,
    viewer: Viewer,
    *,
    period: Period,
    unit: str | None = None,
    bucket: str | None = None,
) -> Overview:
    """Hits and alerts of the period by severity, unit, family and time; the heat map."""
    bucket = period.bucket(bucket)
    alerts, hits = _frames(session, ref, viewer, period, unit)
    by_family = alerts.explode("families")
    units = _by_unit(ref, alerts, hits)
    return Overview(
        period=period,
        bucket=bucket,
        alerts=len(alerts),
        hits=len(hits),
        severity=[
            {
                "severity": s,
                "alerts": int((alerts["severity"] == s).sum()),
                "hits": int((hits["severity"] == s).sum()),
            }
            for s in SEVERITIES
        ],
        units=units,
        families=[
            {
                "family": f,
                "alerts": int((by_family["families"] == f).sum()),
                "hits": int((hits["family"] == f).sum()),
            }
            for f in FAMILIES
        ],
        series=_series(alerts, hits, period, bucket),
        heatmap=_heatmap(ref, by_family, [u["unit_code"] for u in units]),
        red_share=float((alerts["severity"] == "red").mean()) if len(alerts) else None,
    )


def _by_unit(ref: ReferenceIndex, alerts: pd.DataFrame, hits: pd.DataFrame) -> list[dict]:
    codes = sorted(set(alerts["unit_code"].dropna()) | set(hits["unit_code"].dropna()))
    counts = _crosstab(alerts["unit_code"], alerts["severity"], codes, SEVERITIES)
    counts["alerts"] = counts.sum(axis=1)
    counts["hits"] = hits["unit_code"].value_counts().reindex(codes, fill_value=0).astype(int)
    counts = counts.sort_values(["alerts", "hits"], ascending=False, kind="stable")
    return [
        {
            "unit_code": code,
            "unit_name": unit_name(ref, code),
            **{k: int(v) for k, v in row.items()},
        }
        for code, row in counts.iterrows()
    ]


def _crosstab(
    rows: pd.Series, columns: pd.Series, index: Sequence[Any], names: Sequence[str]
) -> pd.DataFrame:
    """Counts of (row, column) pairs on a fixed grid, zeros where nothing happened."""
    if rows.empty:
        return pd.DataFrame(0, index=pd.Index(index), columns=list(names))
    table = pd.crosstab(rows, columns).reindex(index=index, columns=list(names), fill_value=0)
    return table.fillna(0).astype(int)


def _series(
    alerts: pd.DataFrame, hits: pd.DataFrame, period: Period, bucket: str
) -> list[dict[str, Any]]:
    freq = BUCKETS[bucket]
    slots = pd.period_range(period.start, period.end, freq=freq)

    def slot(values: pd.Series) -> pd.Series:
        return values.dt.tz_localize(None).dt.to_period(freq)

    frame = _crosstab(slot(alerts["at"]), alerts["severity"], slots, SEVERITIES)
    frame["alerts"] = frame.sum(axis=1)
    frame["hits"] = slot(hits["at"]).value_counts().reindex(slots, fill_value=0).astype(int)
    return [
        {"bucket": _label(p, bucket), **{k: int(v) for k, v in row.items()}}
        for p, row in frame.iterrows()
    ]


def _label(slot: pd.Period, bucket: str) -> str:
    if bucket == "month":
        return slot.strftime("%Y-%m")
    return slot.start_time.strftime("%Y-%m-%d")  # a week by its Monday


def _heatmap(
    ref: ReferenceIndex, by_family: pd.DataFrame, units: list[str]
) -> list[dict[str, Any]]:
    matrix = _crosstab(by_family["unit_code"], by_family["families"], units, FAMILIES)
    return [
        {"unit_code": code, "unit_name": unit_name(ref, code), **{f: int(row[f]) for f in FAMILIES}}
        for code, row in matrix.iterrows()
    ]


# --- the unit scoreboard (逆向考评) -------------------------------------------------------------


def scoreboard(
    session: Session,
    ref: ReferenceIndex,
    viewer: Viewer,
    *,
    period: Period,
    unit: str | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Per brigade-level unit, how it handled the alerts pushed to it in the period (by push
    time: the alert's, or an inspector's assignment of a blue one), ranked; the figures are
    reports.unit_scores'.

    Ranked by on-time acknowledgement, then on-time feedback, then fewest overdue, then most
    alerts; a unit with nothing settled yet ranks after those with figures.
    """
    now = now or clock.now()
    rows = session.execute(
        select(Alert, AlertAssignment.unit_code)
        .join(AlertAssignment, AlertAssignment.alert_id == Alert.id)
        .where(
            Alert.shadow.is_(False),
            AlertAssignment.routed_at >= period.since,
            AlertAssignment.routed_at < period.until,
        )
    ).all()
    handling = {alert.id: code for alert, code in rows}
    seen = _seen(session, ref, viewer, [alert for alert, _ in rows], unit)
    brigade = _brigades(ref)
    handled = pd.DataFrame(
        [
            {"alert_id": a.id, "unit_code": brigade(handling[a.id]), "status": a.status}
            for a in seen
        ],
        columns=["alert_id", "unit_code", "status"],
    )
    board = reports.unit_scores(session, handled, now=now)
    return _ranked([{**row, "unit_name": unit_name(ref, row["unit_code"])} for row in board])


def _ranked(board: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def key(row: dict[str, Any]) -> tuple[Any, ...]:
        ack, feedback = row["acknowledged_on_time"], row["feedback_on_time"]
        return (
            ack is None and feedback is None,
            -(ack if ack is not None else -1),
            -(feedback if feedback is not None else -1),
            row["overdue"],
            -row["pushed"],
            row["unit_code"],
        )

    ranked = sorted(board, key=key)
    return [{"rank": i, **row} for i, row in enumerate(ranked, start=1)]


# --- the daily red briefing ---------------------------------------------------------------------


def briefing_since(now: datetime) -> datetime:
    """Yesterday's 08:00: the briefing lists every red alert new since then."""
    return datetime.combine(now.date() - timedelta(days=1), BRIEFING_HOUR, clock.SHANGHAI)


def red_briefing(
    session: Session,
    ref: ReferenceIndex,
    viewer: Viewer,
    *,
    unit: str | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """The 08:00 red briefing as of now, per detachment: every red alert routed since yesterday
    08:00 and every red overdue now (digests.red_briefing_alerts), each with why it is listed."""
    now = now or clock.now()
    since = briefing_since(now)
    alerts = digests.red_briefing_alerts(session, since=since, until=now)
    seen = _seen(session, ref, viewer, alerts, unit)
    if not seen:
        return []
    ids = [a.id for a in seen]
    routed = dict(
        session.execute(
            select(AlertRouting.alert_id, AlertRouting.routed_at).where(
                AlertRouting.alert_id.in_(ids)
            )
        ).all()
    )
    owners = dict(
        session.execute(
            select(AlertAssignment.alert_id, AlertAssignment.owner_ids).where(
                AlertAssignment.alert_id.in_(ids)
            )
        ).all()
    )
    deadlines = reports.deadlines_of(session, ids)
    late = reports.overdue_deadlines(deadlines, now=now)
    first_lines = _first_messages(session, ids)
    groups: dict[str, list[dict[str, Any]]] = {}
    for a in seen:
        mine = late[late["alert_id"] == a.id].sort_values("due_at")
        at = routed.get(a.id)
        groups.setdefault(ancestor_at(ref, a.unit_code, "detachment") or "", []).append(
            {
                "id": a.id,
                "first_at": clock.to_shanghai(a.first_at),
                "routed_at": clock.to_shanghai(at) if at else None,
                "rule_ids": list(a.rule_ids),
                "unit_code": a.unit_code,
                "unit_name": unit_name(ref, a.unit_code),
                "status": a.status,
                "new": at is not None and clock.to_shanghai(at) >= since,
                "overdue": [
                    {"step": step, "due_at": due.tz_convert(clock.SHANGHAI).to_pydatetime()}
                    for step, due in zip(mine["step"], mine["due_at"], strict=True)
                ],
                "owners": list(owners.get(a.id) or ()),
                "message": first_lines.get(a.id, ""),
            }
        )
    return [
        {
            "unit_code": code,
            "unit_name": unit_name(ref, code),
            "new": sum(1 for r in rows if r["new"]),
            "overdue": sum(1 for r in rows if r["overdue"]),
            "alerts": sorted(rows, key=lambda r: r["first_at"], reverse=True),
        }
        for code, rows in sorted(groups.items())
    ]


def _first_messages(session: Session, alert_ids: list[int]) -> dict[int, str]:
    """The earliest live hit's message of each alert, masked (a list shows no personal data)."""
    out: dict[int, str] = {}
    for alert_id, message in session.execute(
        select(Hit.alert_id, Hit.message)
        .where(Hit.alert_id.in_(alert_ids), Hit.superseded.is_(False))
        .order_by(Hit.at)
    ):
        out.setdefault(alert_id, mask_text(message))
    return out
