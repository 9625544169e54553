"""The dashboards in a real browser on the demo province (read-only): ECharts draws every chart,
the charts follow the window, the scoreboard sorts, a brigade chief sees only his brigade."""

from __future__ import annotations

from typing import Any

import pytest

from auditcage.demo_run import DemoDatabase
from tests.console.conftest import SCREENSHOTS, account, assert_fits, shot, sign_in

pytestmark = pytest.mark.browser

OVERVIEW_CHARTS = ("severity", "series", "units", "families", "heatmap")


def wait_drawn(page: Any) -> None:
    """Until ECharts has finished every chart of the page (animations included)."""
    # A function, not an expression: Playwright evals an expression in the page, which the
    # Content-Security-Policy (no 'unsafe-eval') refuses.
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-chart]')].every(e => e.dataset.rendered)"
    )


def drawn(page: Any, chart: str) -> bool:
    return bool(page.locator(f'[data-chart="{chart}"] canvas').count())


def canvas_width(page: Any, chart: str) -> float:
    return float(page.locator(f'[data-chart="{chart}"] canvas').first.bounding_box()["width"])


def unit_names(page: Any) -> list[str]:
    return page.locator("#table-units tbody td:first-child").all_inner_texts()


def test_the_inspector_sees_every_overview_chart_drawn_and_resized_with_the_window(
    page: Any, console_url: str
) -> None:
    sign_in(page, console_url, "inspector")
    page.goto(f"{console_url}/console/dashboards/")
    wait_drawn(page)
    assert all(drawn(page, chart) for chart in OVERVIEW_CHARTS)
    assert int(page.inner_text('[data-kpi="alerts"]')) > 0
    assert len(unit_names(page)) > 3  # the whole province
    shot(page, "dashboards-overview")
    wide = canvas_width(page, "heatmap")  # the full width at any size
    page.set_viewport_size({"width": 1000, "height": 900})
    page.wait_for_function(
        "() => document.querySelector('[data-chart=\"heatmap\"] canvas')"
        f".getBoundingClientRect().width < {wide - 50}"
    )
    assert canvas_width(page, "heatmap") < wide


def test_the_inspector_filters_the_overview_by_unit_and_by_week(
    page: Any, console_url: str, console_demo: DemoDatabase
) -> None:
    chief = account(console_demo, "chief")
    sign_in(page, console_url, "inspector")
    page.goto(f"{console_url}/console/dashboards/")
    page.select_option("select[name=unit]", chief.unit_code)
    page.select_option("select[name=by]", "week")
    page.click(".dash-filters button[type=submit]")
    wait_drawn(page)
    assert f"unit={chief.unit_code}" in page.url and "by=week" in page.url
    assert len(unit_names(page)) == 1
    assert page.locator("#table-series tbody tr").count() >= 12  # 3 months and more, by week
    shot(page, "dashboards-overview-unit-week")


def test_the_scoreboard_draws_its_chart_and_sorts_by_a_column(page: Any, console_url: str) -> None:
    sign_in(page, console_url, "inspector")
    page.goto(f"{console_url}/console/dashboards/scoreboard")
    wait_drawn(page)
    rows = page.locator("#table-scoreboard tbody tr")
    assert rows.count() > 3
    assert page.locator("#table-scoreboard tbody td.rank").first.inner_text() == "1"
    shot(page, "dashboards-scoreboard")
    page.click("#table-scoreboard th >> text=推送预警")
    page.wait_for_load_state("networkidle")
    assert "sort=pushed" in page.url
    pushed = [
        int(x) for x in page.locator("#table-scoreboard tbody td:nth-child(3)").all_inner_texts()
    ]
    assert pushed == sorted(pushed, reverse=True)


def test_the_red_briefing_lists_red_alerts_per_detachment(page: Any, console_url: str) -> None:
    sign_in(page, console_url, "inspector")
    page.goto(f"{console_url}/console/dashboards/briefing")
    wait_drawn(page)
    groups = page.locator(".briefing-group")
    assert groups.count() >= 1
    assert page.locator(".briefing-group tbody tr").count() >= groups.count()
    assert drawn(page, "briefing")
    shot(page, "dashboards-briefing")
    page.screenshot(path=str(SCREENSHOTS / "dashboards-briefing-top.png"))  # the first screen


def test_a_brigade_chief_sees_only_his_brigade(
    page: Any, console_url: str, console_demo: DemoDatabase
) -> None:
    chief = account(console_demo, "chief")
    sign_in(page, console_url, "chief")
    page.goto(f"{console_url}/console/dashboards/")
    wait_drawn(page)
    assert all(drawn(page, chart) for chart in OVERVIEW_CHARTS)
    names = unit_names(page)
    assert len(names) == 1
    assert page.locator("select[name=unit]").count() == 0  # nothing to narrow to
    shot(page, "dashboards-overview-chief")
    page.goto(f"{console_url}/console/dashboards/scoreboard")
    wait_drawn(page)
    assert page.locator("#table-scoreboard tbody td:nth-child(2)").all_inner_texts() == names
    shot(page, "dashboards-scoreboard-chief")
    page.goto(f"{console_url}/console/dashboards/briefing")
    page.wait_for_load_state("networkidle")
    units = set(page.locator(".briefing-group tbody td:nth-child(4)").all_inner_texts())
    assert all(u.startswith(names[0]) for u in units), f"{chief.username} sees {units}"
    shot(page, "dashboards-briefing-chief")


def test_the_overview_fits_a_chiefs_phone(phone: Any, console_url: str) -> None:
    sign_in(phone, console_url, "chief")
    phone.goto(f"{console_url}/console/dashboards/")
    wait_drawn(phone)
    assert_fits(phone)
    shot(phone, "dashboards-overview-phone")
