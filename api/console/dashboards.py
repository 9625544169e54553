"""Dashboards: the overview charts, the unit scoreboard (逆向考评) and the daily red briefing.

Each view parses the filters, makes one call to notifications.statistics for the signed-in
viewer's jurisdiction, and renders the figures (charts drawn by ECharts from JSON in the page) or
exports the page's table to Excel (?format=xlsx).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, abort, g, render_template, request, url_for
from flask.typing import ResponseReturnValue
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from api import db
from api.console.auth import requires, user
from api.console.export import excel_response, wants_excel
from api.console.i18n import t
from auditcage import clock
from auditcage.accounts.roles import Capability
from notifications import statistics as stats

bp = Blueprint("console_dashboards", __name__, url_prefix="/console/dashboards")

SEVERITY_COLUMNS = (
    ("severity_label", "dash.col.severity"),
    ("alerts", "dash.col.alerts"),
    ("hits", "dash.col.hits"),
)
UNIT_COLUMNS = (
    ("unit_name", "common.unit"),
    ("unit_code", "dash.col.unit_code"),
    ("alerts", "dash.col.alerts"),
    ("red", "severity.red"),
    ("orange", "severity.orange"),
    ("yellow", "severity.yellow"),
    ("blue", "severity.blue"),
    ("hits", "dash.col.hits"),
)
FAMILY_COLUMNS = (
    ("family", "dash.col.family_id"),
    ("family_label", "dash.col.family"),
    ("alerts", "dash.col.alerts"),
    ("hits", "dash.col.hits"),
)
SERIES_COLUMNS = (
    ("bucket", "dash.col.bucket"),
    ("alerts", "dash.col.alerts"),
    ("red", "severity.red"),
    ("orange", "severity.orange"),
    ("yellow", "severity.yellow"),
    ("blue", "severity.blue"),
    ("hits", "dash.col.hits"),
)
HEATMAP_COLUMNS = (
    ("unit_name", "common.unit"),
    ("unit_code", "dash.col.unit_code"),
    *((family, f"dash.family.{family.lower()}") for family in stats.FAMILIES),
)
OVERVIEW_TABLES = {
    "severity": SEVERITY_COLUMNS,
    "units": UNIT_COLUMNS,
    "families": FAMILY_COLUMNS,
    "series": SERIES_COLUMNS,
    "heatmap": HEATMAP_COLUMNS,
}
SCORE_COLUMNS = (
    ("rank", "dash.score.rank"),
    ("unit_name", "common.unit"),
    ("unit_code", "dash.col.unit_code"),
    ("pushed", "dash.score.pushed"),
    ("acknowledged_on_time", "dash.score.ack_on_time"),
    ("feedback_on_time", "dash.score.feedback_on_time"),
    ("overdue", "dash.score.overdue"),
    ("returned", "dash.score.returned"),
    ("confirmed_rate", "dash.score.confirmed_rate"),
    ("dismissed_share", "dash.score.dismissed"),
    ("median_ack_minutes", "dash.score.median_ack"),
)
RATES = ("acknowledged_on_time", "feedback_on_time", "confirmed_rate", "dismissed_share")
BRIEFING_COLUMNS = (
    ("detachment", "dash.brief.detachment"),
    ("id", "dash.brief.alert"),
    ("first_at", "dash.brief.first_at"),
    ("routed_at", "dash.brief.routed_at"),
    ("rules", "dash.brief.rules"),
    ("unit_name", "common.unit"),
    ("status_label", "dash.brief.status"),
    ("why", "dash.brief.why"),
    ("owners", "dash.brief.owners"),
    ("message", "dash.brief.message"),
)


class FiltersIn(Schema):
    """The query string of a dashboard page; every field may be left out."""

    class Meta:
        unknown = EXCLUDE  # format, table, sort … are read by the views

    start = fields.Date(data_key="from", load_default=None)
    end = fields.Date(data_key="to", load_default=None)
    unit = fields.String(load_default=None, validate=validate.Length(max=32))
    by = fields.String(load_default=None, validate=validate.OneOf(list(stats.BUCKETS)))


def _filters() -> dict[str, Any]:
    """Parsed filters, with the default period filled in and the unit checked against the
    viewer's jurisdiction (a unit outside it is refused, not silently widened)."""
    data = FiltersIn().load({k: v for k, v in request.args.items() if v != ""})
    default = stats.Period.default(clock.today())
    period = stats.Period(data["start"] or default.start, data["end"] or default.end)
    if period.start > period.end:  # checked once the defaults are in: ?to= alone may be early
        raise ValidationError({"from": [t("dash.filter.bad_order")]})
    units = stats.filter_units(g.reference, user().viewer)
    if data["unit"] and data["unit"] not in {u["unit_code"] for u in units}:
        abort(403)
    return {"period": period, "unit": data["unit"], "by": data["by"], "units": units}


def _page(template: str, filters: dict[str, Any], **values: Any) -> str:
    query = {k: v for k, v in request.args.items() if k not in ("format", "table")}
    return render_template(
        template,
        export_url=lambda **extra: url_for(
            str(request.endpoint), **{**query, "format": "xlsx", **extra}
        ),
        page_url=lambda **extra: url_for(str(request.endpoint), **{**query, **extra}),
        # The other tabs keep the period and the unit.
        tab_query={k: v for k, v in query.items() if k in ("from", "to", "unit") and v},
        unit_codes={u["unit_code"] for u in filters["units"]},
        period=filters["period"],
        unit=filters["unit"],
        units=filters["units"],
        by=filters["by"],
        today=clock.today(),
        **values,
    )


@bp.get("/")
@requires(Capability.DASHBOARDS)
def index() -> ResponseReturnValue:
    filters = _filters()
    figures = stats.overview(
        db.session(),
        g.reference,
        user().viewer,
        period=filters["period"],
        unit=filters["unit"],
        bucket=filters["by"],
    )
    tables = {
        "severity": [
            {**row, "severity_label": t(f"severity.{row['severity']}")} for row in figures.severity
        ],
        "units": figures.units,
        "families": [
            {**row, "family_label": t(f"dash.family.{row['family'].lower()}")}
            for row in figures.families
        ],
        "series": figures.series,
        "heatmap": figures.heatmap,
    }
    if wants_excel():
        table = request.args.get("table", "units")
        if table not in OVERVIEW_TABLES:
            abort(404)
        return excel_response(f"dashboard-{table}", tables[table], OVERVIEW_TABLES[table])
    return _page(
        "console/dashboards/index.html",
        filters,
        figures=figures,
        tables=tables,
        chart=_overview_chart(figures, tables),
    )


def _overview_chart(figures: stats.Overview, tables: dict[str, list[dict]]) -> dict[str, Any]:
    """What the page's script draws: figures plus the labels in the page's language."""
    return {
        "severities": [{"key": s, "label": t(f"severity.{s}")} for s in stats.SEVERITIES],
        "families": [
            {"key": f, "label": f"{f} {t(f'dash.family.{f.lower()}')}"} for f in stats.FAMILIES
        ],
        "labels": {"alerts": t("dash.col.alerts"), "hits": t("dash.col.hits")},
        "severity": figures.severity,
        "series": figures.series,
        "units": figures.units,
        "family_counts": tables["families"],
        "heatmap": figures.heatmap,
    }


@bp.get("/scoreboard")
@requires(Capability.DASHBOARDS)
def scoreboard() -> ResponseReturnValue:
    filters = _filters()
    board = stats.scoreboard(
        db.session(),
        g.reference,
        user().viewer,
        period=filters["period"],
        unit=filters["unit"],
        now=clock.now(),
    )
    sort = request.args.get("sort", "rank")
    if sort not in {key for key, _ in SCORE_COLUMNS}:
        sort = "rank"
    descending = request.args.get("dir") == "desc"
    board = _sorted(board, sort, descending=descending)
    if wants_excel():
        rows = [
            {**row, **{k: _percent(row[k]) for k in RATES}, "median_ack_minutes": _round(row)}
            for row in board
        ]
        return excel_response("scoreboard", rows, SCORE_COLUMNS)
    chart = {
        "units": [row["unit_name"] for row in board],
        "series": [
            {"label": t(label), "values": [_percent(row[key]) for row in board]}
            for key, label in SCORE_COLUMNS
            if key in ("acknowledged_on_time", "feedback_on_time", "confirmed_rate")
        ],
        "no_rates": t("dash.score.no_rates"),
        "pushed": {"label": t("dash.score.pushed"), "values": [r["pushed"] for r in board]},
        "overdue": {"label": t("dash.score.overdue"), "values": [r["overdue"] for r in board]},
    }
    return _page(
        "console/dashboards/scoreboard.html",
        filters,
        board=board,
        columns=SCORE_COLUMNS,
        rates=RATES,
        sort=sort,
        descending=descending,
        chart=chart,
    )


def _sorted(board: list[dict[str, Any]], key: str, *, descending: bool) -> list[dict[str, Any]]:
    """Sorted by one column; rows without a figure go last either way."""
    known = [row for row in board if row[key] is not None]
    unknown = [row for row in board if row[key] is None]
    return sorted(known, key=lambda row: row[key], reverse=descending) + unknown


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def _round(row: dict[str, Any]) -> float | None:
    value = row["median_ack_minutes"]
    return None if value is None else round(value, 1)


@bp.get("/briefing")
@requires(Capability.DASHBOARDS)
def briefing() -> ResponseReturnValue:
    filters = _filters()
    now = clock.now()
    groups = stats.red_briefing(
        db.session(), g.reference, user().viewer, unit=filters["unit"], now=now
    )
    if wants_excel():
        rows = [_briefing_row(group, alert) for group in groups for alert in group["alerts"]]
        return excel_response("red-briefing", rows, BRIEFING_COLUMNS)
    chart = {
        "units": [group["unit_name"] for group in groups],
        "new": {"label": t("dash.brief.new"), "values": [g_["new"] for g_ in groups]},
        "overdue": {"label": t("dash.brief.overdue"), "values": [g_["overdue"] for g_ in groups]},
    }
    return _page(
        "console/dashboards/briefing.html",
        filters,
        groups=groups,
        since=stats.briefing_since(now),
        now=now,
        chart=chart,
    )


def _briefing_row(group: dict[str, Any], alert: dict[str, Any]) -> dict[str, Any]:
    why = [t("dash.brief.new")] if alert["new"] else []
    why += [
        t("dash.brief.overdue_step", step=t(f"dash.step.{d['step']}"), due=_hm(d["due_at"]))
        for d in alert["overdue"]
    ]
    return {
        **alert,
        "detachment": group["unit_name"],
        "rules": "、".join(alert["rule_ids"]),
        "status_label": t(f"dash.status.{alert['status']}"),
        "why": "；".join(why),
        "owners": "、".join(alert["owners"]),
    }


def _hm(value: datetime) -> str:
    return value.strftime("%m-%d %H:%M")


@bp.app_template_filter("dash_pct")
def percent_filter(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


@bp.app_template_filter("dash_duration")
def duration_filter(minutes: float | None) -> str:
    """Minutes as the largest sensible unit: 25 分钟, 3.5 小时, 2.0 天."""
    if minutes is None:
        return "—"
    if minutes < 120:
        return t("dash.minutes", n=f"{minutes:.0f}")
    if minutes < 48 * 60:
        return t("dash.hours", n=f"{minutes / 60:.1f}")
    return t("dash.days", n=f"{minutes / 1440:.1f}")
