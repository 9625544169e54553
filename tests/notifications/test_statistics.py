"""The dashboards' figures (notifications.statistics) on the hand-counted scenario of
statistics_scenario.py: counts by severity, unit, family and time, the scoreboard's rates, the red
briefing, and what each viewer's jurisdiction (and recusal) lets into them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy.orm import Session

from auditcage import clock
from notifications import statistics as stats
from notifications.access import Viewer
from tests.notifications import province as p
from tests.notifications.statistics_scenario import NOW, build

pytestmark = pytest.mark.db

NOVEMBER = stats.Period(date(2026, 11, 1), date(2026, 11, 20))
# Named viewers (STYLE §11).
INSPECTOR = Viewer(p.PROVINCE_INSPECTOR, "inspector", p.PROVINCE)  # the whole province
EAST_CHIEF = Viewer(p.EAST_CHIEF, "chief", p.EAST)  # 城东大队 only; an actor of `recused`
DETACHMENT_CHIEF = Viewer(p.DETACHMENT_CHIEF, "chief", p.NANJING)  # 南京支队: 城东 and 城西


@pytest.fixture
def ids(session: Session) -> Iterator[dict[str, int]]:
    scenario = build(session)
    clock.freeze(NOW)
    yield scenario
    clock.freeze(None)


@pytest.fixture
def ref():  # type: ignore[no-untyped-def]
    return p.province()


def by(rows: list[dict], key: str) -> dict:
    return {row[key]: row for row in rows}


# --- the overview ------------------------------------------------------------------------------


def test_the_inspector_counts_every_alert_and_hit_of_the_period_by_severity(
    session: Session, ids: dict[str, int], ref
) -> None:
    figures = stats.overview(session, ref, INSPECTOR, period=NOVEMBER)
    # October's alert is outside the period; the blue one counts though it was never pushed.
    assert figures.alerts == 7 and figures.hits == 8
    assert by(figures.severity, "severity") == {
        "red": {"severity": "red", "alerts": 4, "hits": 5},
        "orange": {"severity": "orange", "alerts": 1, "hits": 1},
        "yellow": {"severity": "yellow", "alerts": 1, "hits": 1},
        "blue": {"severity": "blue", "alerts": 1, "hits": 1},
    }
    assert figures.red_share == pytest.approx(4 / 7)


def test_alerts_are_counted_at_brigade_level_with_the_names_of_r1(
    session: Session, ids: dict[str, int], ref
) -> None:
    units = stats.overview(session, ref, INSPECTOR, period=NOVEMBER).units
    # The window's alert counts for 城东大队; 无锡支队 has no brigade and counts for itself.
    assert [(u["unit_name"], u["alerts"], u["red"], u["hits"]) for u in units] == [
        ("城东大队", 4, 2, 5),
        ("城西大队", 2, 1, 2),
        ("无锡支队", 1, 1, 1),
    ]


def test_families_are_the_rule_id_prefixes_and_a_merged_alert_counts_in_each(
    session: Session, ids: dict[str, int], ref
) -> None:
    families = by(stats.overview(session, ref, INSPECTOR, period=NOVEMBER).families, "family")
    assert {f: (row["alerts"], row["hits"]) for f, row in families.items()} == {
        "VEH": (1, 1),
        "LIC": (1, 1),
        "ACC": (1, 1),
        "VIO": (2, 2),  # on_time (VIO-03 + CP-17) and wuxi
        "STF": (1, 1),
        "CP": (2, 2),  # on_time and unanswered
    }


def test_the_heat_map_crosses_units_and_families(
    session: Session, ids: dict[str, int], ref
) -> None:
    heat = by(stats.overview(session, ref, INSPECTOR, period=NOVEMBER).heatmap, "unit_code")
    assert {f: heat[p.EAST][f] for f in stats.FAMILIES} == {
        "VEH": 0,
        "LIC": 1,
        "ACC": 1,
        "VIO": 1,
        "STF": 1,
        "CP": 1,
    }
    assert (heat[p.WEST]["VEH"], heat[p.WEST]["CP"], heat[p.WEST]["VIO"]) == (1, 1, 0)
    assert heat[p.WUXI]["VIO"] == 1


def test_the_time_series_has_one_row_per_week_including_empty_ones(
    session: Session, ids: dict[str, int], ref
) -> None:
    series = stats.overview(session, ref, INSPECTOR, period=NOVEMBER, bucket="week").series
    # Weeks run Monday to Sunday: 11-01 (a Sunday) falls in the week of 10-26.
    assert [(s["bucket"], s["alerts"], s["red"], s["hits"]) for s in series] == [
        ("2026-10-26", 0, 0, 0),
        ("2026-11-02", 1, 1, 2),
        ("2026-11-09", 2, 0, 2),
        ("2026-11-16", 4, 3, 4),
    ]
    by_month = stats.overview(
        session, ref, INSPECTOR, period=stats.Period(date(2026, 10, 1), NOW.date()), bucket="month"
    ).series
    assert [(s["bucket"], s["alerts"]) for s in by_month] == [("2026-10", 1), ("2026-11", 7)]


def test_a_brigade_chief_counts_only_his_brigade_and_never_an_alert_he_is_an_actor_of(
    session: Session, ids: dict[str, int], ref
) -> None:
    figures = stats.overview(session, ref, EAST_CHIEF, period=NOVEMBER)
    # on_time, late and blue: not 城西's, not 无锡's, and not `recused` (he did the business).
    assert figures.alerts == 3 and figures.hits == 4
    assert [u["unit_code"] for u in figures.units] == [p.EAST]
    assert by(figures.severity, "severity")["red"]["alerts"] == 1


def test_the_unit_filter_narrows_to_a_subtree_of_the_jurisdiction(
    session: Session, ids: dict[str, int], ref
) -> None:
    figures = stats.overview(session, ref, INSPECTOR, period=NOVEMBER, unit=p.WEST)
    assert figures.alerts == 2 and [u["unit_code"] for u in figures.units] == [p.WEST]
    # A chief who picks a unit outside his brigade learns nothing.
    assert stats.overview(session, ref, EAST_CHIEF, period=NOVEMBER, unit=p.WEST).alerts == 0


def test_the_filter_lists_only_units_of_the_jurisdiction(ref) -> None:
    assert [u["unit_code"] for u in stats.filter_units(ref, EAST_CHIEF)] == [p.EAST]
    assert [u["unit_code"] for u in stats.filter_units(ref, DETACHMENT_CHIEF)] == [
        p.NANJING,
        p.EAST,
        p.WEST,
    ]
    assert len(stats.filter_units(ref, INSPECTOR)) == 5  # province, 2 detachments, 2 brigades


def test_the_default_period_is_the_last_three_closed_months_and_the_current_one() -> None:
    assert stats.Period.default(date(2026, 2, 14)) == stats.Period(
        date(2025, 11, 1), date(2026, 2, 14)
    )


# --- the scoreboard ----------------------------------------------------------------------------


def test_the_scoreboard_computes_each_units_rates_and_ranks_them(
    session: Session, ids: dict[str, int], ref
) -> None:
    board = stats.scoreboard(session, ref, INSPECTOR, period=NOVEMBER, now=NOW)
    assert [(r["rank"], r["unit_code"]) for r in board] == [(1, p.EAST), (2, p.WEST), (3, p.WUXI)]
    east, west, wuxi = board
    assert east["pushed"] == 3  # on_time, late, recused (blue was never pushed)
    # 签收: on_time in time, late too late, recused still open past its 30 minutes.
    assert east["acknowledged_on_time"] == pytest.approx(1 / 3)
    # 回告: on_time 2/2; late's initial was late, both its final reports in time; recused's
    # initial feedback is overdue, its final report not due yet.
    assert east["feedback_on_time"] == pytest.approx(4 / 6)
    assert east["overdue"] == 1 and east["returned"] == 1
    # 属实率 over accepted reports: on_time 属实, late 不属实 (its returned 部分属实 not counted).
    assert east["confirmed_rate"] == pytest.approx(0.5)
    assert east["dismissed_share"] == 0
    assert east["median_ack_minutes"] == pytest.approx((20 + 3 * 24 * 60) / 2)
    # 城西: the yellow one is unacknowledged (missed), the dismissed red's deadlines stopped.
    assert west["pushed"] == 2 and west["acknowledged_on_time"] == 0.0
    assert west["feedback_on_time"] is None and west["overdue"] == 1
    assert west["dismissed_share"] == 0.5 and west["confirmed_rate"] is None
    assert west["median_ack_minutes"] is None
    assert (wuxi["pushed"], wuxi["acknowledged_on_time"], wuxi["overdue"]) == (1, 0.0, 1)


def test_an_open_deadline_not_yet_due_counts_neither_way(
    session: Session, ids: dict[str, int], ref
) -> None:
    before = stats.scoreboard(
        session, ref, INSPECTOR, period=NOVEMBER, now=NOW.replace(hour=9, minute=10)
    )
    wuxi = by(before, "unit_code")[p.WUXI]  # pushed at 09:00, 签收 due 09:30
    assert wuxi["acknowledged_on_time"] is None and wuxi["overdue"] == 0


def test_the_east_chiefs_scoreboard_leaves_out_the_alert_he_is_recused_from(
    session: Session, ids: dict[str, int], ref
) -> None:
    (east,) = stats.scoreboard(session, ref, EAST_CHIEF, period=NOVEMBER, now=NOW)
    assert east["unit_code"] == p.EAST and east["pushed"] == 2
    assert east["acknowledged_on_time"] == 0.5
    assert east["feedback_on_time"] == pytest.approx(4 / 5)
    assert east["overdue"] == 0


def test_the_scoreboard_period_is_the_push_time(session: Session, ids: dict[str, int], ref) -> None:
    october = stats.Period(date(2026, 10, 1), date(2026, 10, 31))
    board = stats.scoreboard(session, ref, INSPECTOR, period=october, now=NOW)
    assert [(r["unit_code"], r["pushed"], r["acknowledged_on_time"]) for r in board] == [
        (p.WEST, 1, 1.0)
    ]


# --- the red briefing --------------------------------------------------------------------------


def test_the_red_briefing_lists_new_and_overdue_reds_per_detachment(
    session: Session, ids: dict[str, int], ref
) -> None:
    groups = stats.red_briefing(session, ref, INSPECTOR, now=NOW)
    assert [(g["unit_code"], g["new"], g["overdue"]) for g in groups] == [
        (p.NANJING, 0, 1),
        (p.WUXI, 1, 1),
    ]
    (recused,) = groups[0]["alerts"]
    assert recused["id"] == ids["recused"] and not recused["new"]
    assert [d["step"] for d in recused["overdue"]] == ["acknowledge", "initial_feedback"]
    (wuxi,) = groups[1]["alerts"]
    assert wuxi["id"] == ids["wuxi"] and wuxi["new"] and wuxi["owners"] == [p.WUXI_CHIEF]
    # Closed and dismissed reds are not listed; the message is masked.
    assert p.CITIZEN not in wuxi["message"] and "VIO-11" in wuxi["message"]


def test_each_chief_sees_his_own_part_of_the_red_briefing(
    session: Session, ids: dict[str, int], ref
) -> None:
    assert stats.red_briefing(session, ref, EAST_CHIEF, now=NOW) == []  # recused from the one
    groups = stats.red_briefing(session, ref, DETACHMENT_CHIEF, now=NOW)
    assert [g["unit_code"] for g in groups] == [p.NANJING]


def test_an_empty_jurisdiction_gives_empty_figures(session: Session, ref) -> None:
    figures = stats.overview(session, ref, EAST_CHIEF, period=NOVEMBER)
    assert figures.alerts == 0 and figures.units == [] and figures.red_share is None
    assert all(row["alerts"] == 0 for row in figures.families)
    assert stats.scoreboard(session, ref, EAST_CHIEF, period=NOVEMBER, now=NOW) == []


def test_the_weekly_report_counts_its_rates_as_the_scoreboard_does(
    session: Session, ids: dict[str, int]
) -> None:
    from notifications import reports

    figures = reports.weekly_figures(session, NOVEMBER.since, NOW, lambda _code: True)
    assert figures.alerts == 6  # routed in November: all but blue (never routed) and october
    # 签收: on_time met in time; late met too late; unanswered, recused, wuxi missed; the
    # dismissed one's deadline stopped and does not count.
    assert figures.acknowledged_on_time == pytest.approx(1 / 5)
    assert figures.reported_on_time == 1.0  # on_time's and late's two; the rest not due yet
    assert figures.confirmed_rate == 0.5  # accepted reports only, as on the scoreboard


def test_the_time_scale_follows_the_period_and_never_draws_too_many_bars() -> None:
    assert stats.Period(date(2026, 11, 1), date(2026, 11, 20)).bucket() == "day"
    assert stats.Period(date(2026, 9, 1), date(2026, 11, 20)).bucket() == "week"
    assert stats.Period.default(date(2026, 11, 20)).bucket() == "month"
    assert stats.Period(date(2026, 9, 1), date(2026, 11, 20)).bucket("day") == "day"
    assert stats.Period(date(2020, 1, 1), date(2026, 11, 20)).bucket("day") == "week"
    assert stats.Period(date(1990, 1, 1), date(2026, 11, 20)).bucket("day") == "month"
