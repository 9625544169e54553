"""The dashboard pages through the Flask test client, on the hand-counted scenario of
tests/notifications/statistics_scenario.py: who may open them, what they show, what they export."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from auditcage import clock
from tests.console.helpers import make_account, sign_in
from tests.notifications import province as p
from tests.notifications.scenario import load_province
from tests.notifications.statistics_scenario import NOW, build

pytestmark = pytest.mark.db

NOVEMBER = "from=2026-11-01&to=2026-11-20"


@pytest.fixture
def scenario(committing_engine: Engine) -> Iterator[dict[str, int]]:
    load_province(committing_engine)
    with Session(committing_engine) as session, session.begin():
        ids = build(session)
    # Named accounts: the provincial inspector sees everything; the east chief his brigade
    # (and is an actor of `recused`); the rule author has no dashboards at all.
    make_account(
        committing_engine,
        "inspector",
        "inspector",
        staff_id=p.PROVINCE_INSPECTOR,
        unit_code=p.PROVINCE,
    )
    make_account(committing_engine, "east", "brigade_head", staff_id=p.EAST_CHIEF, unit_code=p.EAST)
    make_account(
        committing_engine,
        "detachment",
        "detachment_head",
        staff_id=p.DETACHMENT_CHIEF,
        unit_code=p.NANJING,
    )
    make_account(committing_engine, "author", "rule_author")
    clock.freeze(NOW)
    yield ids
    clock.freeze(None)


def chart_data(page: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="dash-data">(.*?)</script>', page, re.S)
    assert match, "the page embeds no chart data"
    return json.loads(match.group(1))


def sheet(reply: Any) -> pd.DataFrame:
    assert reply.status_code == 200, reply.text[:500]
    assert reply.mimetype.endswith("spreadsheetml.sheet")
    return pd.read_excel(io.BytesIO(reply.data))


def test_the_inspector_sees_the_overview_with_every_chart_and_its_data(client, scenario) -> None:
    sign_in(client, "inspector")
    reply = client.get(f"/console/dashboards/?{NOVEMBER}")
    assert reply.status_code == 200
    for chart in ("severity", "series", "units", "families", "heatmap"):
        assert f'data-chart="{chart}"' in reply.text
    assert "vendor/echarts/echarts.min.js" in reply.text
    data = chart_data(reply.text)
    assert {r["severity"]: r["alerts"] for r in data["severity"]} == {
        "red": 4,
        "orange": 1,
        "yellow": 1,
        "blue": 1,
    }
    assert [u["unit_name"] for u in data["units"]] == ["城东大队", "城西大队", "无锡支队"]
    assert '<span class="kpi-value" data-kpi="alerts">7</span>' in reply.text


def test_a_brigade_chief_sees_only_his_brigade_on_every_page(client, scenario) -> None:
    sign_in(client, "east")
    overview = client.get(f"/console/dashboards/?{NOVEMBER}")
    assert overview.status_code == 200
    assert [u["unit_code"] for u in chart_data(overview.text)["units"]] == [p.EAST]
    assert "城西大队" not in overview.text and "无锡支队" not in overview.text
    board = client.get(f"/console/dashboards/scoreboard?{NOVEMBER}")
    assert board.status_code == 200 and chart_data(board.text)["units"] == ["城东大队"]
    briefing = client.get("/console/dashboards/briefing")
    assert briefing.status_code == 200
    assert f'data-alert="{scenario["recused"]}"' not in briefing.text  # recusal


def test_a_chief_may_not_pick_a_unit_outside_his_jurisdiction(client, scenario) -> None:
    sign_in(client, "east")
    assert client.get(f"/console/dashboards/?unit={p.WEST}").status_code == 403
    assert client.get(f"/console/dashboards/?unit={p.EAST}").status_code == 200


def test_a_rule_author_has_no_dashboards(client, scenario) -> None:
    sign_in(client, "author")
    for path in ("/", "/scoreboard", "/briefing"):
        assert client.get(f"/console/dashboards{path}").status_code == 403


def test_a_period_that_ends_before_it_starts_is_refused(client, scenario) -> None:
    sign_in(client, "inspector")
    reply = client.get("/console/dashboards/?from=2026-11-20&to=2026-11-01")
    assert reply.status_code == 422 and "起始日期不能晚于截止日期" in reply.text


def test_the_scoreboard_ranks_units_and_sorts_by_a_column(client, scenario) -> None:
    sign_in(client, "inspector")
    ranked = client.get(f"/console/dashboards/scoreboard?{NOVEMBER}")
    assert ranked.status_code == 200
    assert chart_data(ranked.text)["units"] == ["城东大队", "城西大队", "无锡支队"]
    assert "33.3%" in ranked.text and "66.7%" in ranked.text  # 城东: 签收 1/3, 回告 4/6
    by_dismissals = client.get(
        f"/console/dashboards/scoreboard?{NOVEMBER}&sort=dismissed_share&dir=desc"
    )
    assert chart_data(by_dismissals.text)["units"][0] == "城西大队"


def test_the_detachment_chief_sees_his_detachment_in_the_red_briefing(client, scenario) -> None:
    sign_in(client, "detachment")
    reply = client.get("/console/dashboards/briefing")
    assert reply.status_code == 200
    assert f'data-alert="{scenario["recused"]}"' in reply.text
    assert f'data-alert="{scenario["wuxi"]}"' not in reply.text  # 无锡支队 is not his
    assert "签收超期" in reply.text and p.CITIZEN not in reply.text  # messages masked


def test_the_pages_switch_to_english(client, scenario) -> None:
    sign_in(client, "inspector")
    client.get("/console/lang/en")
    reply = client.get("/console/dashboards/scoreboard")
    assert "Unit scoreboard" in reply.text and "Acknowledged on time" in reply.text


def test_the_unit_table_exports_to_excel_with_the_rows_on_screen(client, scenario) -> None:
    sign_in(client, "inspector")
    frame = sheet(client.get(f"/console/dashboards/?{NOVEMBER}&format=xlsx&table=units"))
    assert list(frame.columns) == [
        "单位",
        "单位代码",
        "预警数",
        "红色",
        "橙色",
        "黄色",
        "蓝色",
        "命中数",
    ]
    assert frame[["单位", "预警数", "红色"]].values.tolist() == [
        ["城东大队", 4, 2],
        ["城西大队", 2, 1],
        ["无锡支队", 1, 1],
    ]


def test_the_heat_map_and_the_family_table_export_too(client, scenario) -> None:
    sign_in(client, "east")
    heat = sheet(client.get(f"/console/dashboards/?{NOVEMBER}&format=xlsx&table=heatmap"))
    assert heat["单位"].tolist() == ["城东大队"] and heat["执法环节"].tolist() == [1]
    families = sheet(client.get(f"/console/dashboards/?{NOVEMBER}&format=xlsx&table=families"))
    assert families["类别代码"].tolist() == list(("VEH", "LIC", "ACC", "VIO", "STF", "CP"))
    assert client.get("/console/dashboards/?format=xlsx&table=nothing").status_code == 404


def test_the_scoreboard_exports_percentages_in_its_order(client, scenario) -> None:
    sign_in(client, "inspector")
    frame = sheet(client.get(f"/console/dashboards/scoreboard?{NOVEMBER}&format=xlsx"))
    assert frame["单位"].tolist() == ["城东大队", "城西大队", "无锡支队"]
    east = frame.iloc[0]
    assert (east["排名"], east["推送预警"], east["按时签收率"], east["按时回告率"]) == (
        1,
        3,
        33.3,
        66.7,
    )
    assert (east["当前超期"], east["退回报告"], east["属实率"]) == (1, 1, 50.0)


def test_the_red_briefing_exports_one_row_per_alert_with_why_it_is_listed(client, scenario) -> None:
    sign_in(client, "inspector")
    frame = sheet(client.get("/console/dashboards/briefing?format=xlsx"))
    assert frame["预警编号"].tolist() == [scenario["recused"], scenario["wuxi"]]
    assert frame["支队"].tolist() == ["南京支队", "无锡支队"]
    assert frame["通报原因"].iloc[1].startswith("新增")
    assert p.CITIZEN not in " ".join(frame["预警内容"])


def test_the_tabs_keep_the_period_and_the_unit(client, scenario) -> None:
    sign_in(client, "inspector")
    page = client.get(f"/console/dashboards/scoreboard?{NOVEMBER}&unit={p.EAST}&sort=overdue").text
    overview_tab = re.search(r'<a href="(/console/dashboards/\?[^"]*)"', page)
    assert overview_tab, "no overview tab carrying the filters"
    link = overview_tab.group(1).replace("&amp;", "&")
    assert "from=2026-11-01" in link and "to=2026-11-20" in link and f"unit={p.EAST}" in link
    assert "sort=" not in link
