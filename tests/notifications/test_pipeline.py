"""Routing from the database: §4.2 counts taken from earlier decisions; digests once per slot."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from auditcage import clock
from auditcage.alerts.models import Alert
from auditcage.audit.models import AuditEntry
from auditcage.config import Settings
from notifications import digests, pipeline
from notifications.models import OutboxMessage
from notifications.routing_models import AlertRouting
from tests.notifications import province as p
from tests.notifications.scenario import alert, load_province, notifier

pytestmark = pytest.mark.db

SETTINGS = Settings(database_url="sqlite://", secret_key="s")
TUESDAY = datetime(2026, 11, 17, 10, 0, tzinfo=clock.SHANGHAI)


@pytest.fixture
def frozen():  # type: ignore[no-untyped-def]
    clock.freeze(TUESDAY)
    yield
    clock.freeze(None)


def _route(engine: Engine, now: datetime) -> None:
    with Session(engine) as session, session.begin():
        pipeline.route_new_alerts(session, notifier(session, SETTINGS), now=now)


def _orange(engine: Engine, n: int, at: datetime) -> int:
    with Session(engine) as session, session.begin():
        return alert(session, severity="orange", rule_id="VIO-01", hit_id=f"o{n}", at=at).id


def test_the_fourth_orange_of_an_operator_within_30_days_is_routed_red(
    committing_engine: Engine, frozen
) -> None:
    load_province(committing_engine)
    for n in range(3):
        _orange(committing_engine, n, TUESDAY - timedelta(days=20 - n))
        _route(committing_engine, TUESDAY)
    fourth = _orange(committing_engine, 3, TUESDAY)
    _route(committing_engine, TUESDAY)
    with Session(committing_engine) as session:
        assert [
            r.severity
            for r in session.scalars(select(AlertRouting).order_by(AlertRouting.alert_id))
        ] == [
            "orange",
            "orange",
            "orange",
            "red",
        ]
        assert session.get(Alert, fourth).severity == "red"
        modified = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "alert.severity_modified")
        ).all()
        assert [e.detail["modifiers"] for e in modified] == [["repeat_offender"]]


def test_oranges_older_than_30_days_do_not_count(committing_engine: Engine, frozen) -> None:
    load_province(committing_engine)
    for n in range(3):
        _orange(committing_engine, n, TUESDAY - timedelta(days=40 - n))
        _route(committing_engine, TUESDAY)
    fourth = _orange(committing_engine, 3, TUESDAY)
    _route(committing_engine, TUESDAY)
    with Session(committing_engine) as session:
        assert session.get(Alert, fourth).severity == "orange"


def _digests(engine: Engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(
            session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "digest")).all()
        )


def _send(engine: Engine, now: datetime) -> int:
    clock.freeze(now)
    with Session(engine) as session, session.begin():
        return digests.send_digests(session, notifier(session, SETTINGS), now=now)


def test_a_yellow_alert_goes_to_the_next_working_days_digest_once(
    committing_engine: Engine, frozen
) -> None:
    load_province(committing_engine)
    friday = datetime(2026, 11, 20, 15, 0, tzinfo=clock.SHANGHAI)
    clock.freeze(friday)
    with Session(committing_engine) as session, session.begin():
        yellow = alert(session, severity="yellow", rule_id="VIO-17", hit_id="y1", at=friday).id
    _route(committing_engine, friday)
    with Session(committing_engine) as session:  # a digest item: nothing pushed at once
        assert (
            session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "alert")).all() == []
        )
    saturday = datetime(2026, 11, 21, 8, 5, tzinfo=clock.SHANGHAI)
    _send(committing_engine, saturday)
    daily = [m for m in _digests(committing_engine) if "黄色" in m.subject]
    assert daily == [], "no yellow digest on a rest day"
    monday = datetime(2026, 11, 23, 8, 5, tzinfo=clock.SHANGHAI)
    _send(committing_engine, monday)
    daily = [m for m in _digests(committing_engine) if "黄色" in m.subject]
    assert daily and all(str(yellow) in m.body for m in daily)
    assert p.EAST_CHIEF in {m.recipient_id for m in daily} or p.EAST_SUPERVISION in {
        m.recipient_id for m in daily
    }
    before = len(_digests(committing_engine))
    _send(committing_engine, monday + timedelta(minutes=30))
    assert len(_digests(committing_engine)) == before  # the same slot is not sent twice


def test_two_points_trading_rules_on_one_licence_make_a_red_lead_whose_members_close_with_it(
    committing_engine: Engine, frozen
) -> None:
    from notifications import lifecycle

    load_province(committing_engine)
    with Session(committing_engine) as session, session.begin():
        first = alert(session, severity="orange", rule_id="VIO-01", hit_id="c1").id
    _route(committing_engine, TUESDAY)
    with Session(committing_engine) as session, session.begin():
        lead = alert(session, severity="orange", rule_id="VIO-02", hit_id="c2", at=TUESDAY).id
    _route(committing_engine, TUESDAY)
    with Session(committing_engine) as session:
        assert session.get(Alert, lead).severity == "red"
        assert session.get(AlertRouting, first).lead_alert_id == lead
    with Session(committing_engine) as session, session.begin():
        lifecycle.acknowledge(session, lead, p.EAST_CHIEF)
        lifecycle.submit_feedback(
            session,
            lead,
            p.EAST_CHIEF,
            {
                "kind": "final",
                "verification_methods": ["system_logs"],
                "facts": "同一驾驶证为多车销分",
                "persons_responsible": [p.OPERATOR],
                "finding": "confirmed",
                "disposal": ["admonishment"],
            },
        )
        lifecycle.review(session, lead, p.DETACHMENT_INSPECTOR, "accept")
        lifecycle.close(session, lead, p.DETACHMENT_INSPECTOR)
    with Session(committing_engine) as session:
        assert session.get(Alert, first).status == "closed"


def test_the_red_briefing_lists_a_red_still_unacknowledged_from_days_before(
    committing_engine: Engine, frozen
) -> None:
    load_province(committing_engine)
    with Session(committing_engine) as session, session.begin():
        red = alert(session, severity="red", rule_id="VIO-03", hit_id="r1").id
    _route(committing_engine, TUESDAY)
    thursday = datetime(2026, 11, 19, 8, 5, tzinfo=clock.SHANGHAI)
    _send(committing_engine, thursday)
    briefings = [m for m in _digests(committing_engine) if "红色预警通报" in m.subject]
    body = {m.recipient_id: m.body for m in briefings}
    assert f"红色 {red} " in body[p.PROVINCE_CHIEF] and f"红色 {red} " in body[p.DETACHMENT_CHIEF]
    assert f"红色 {red} " not in body[p.WUXI_CHIEF]  # each 支队长 hears of his own units


def test_the_weekly_report_gives_figures_for_each_recipients_units(
    committing_engine: Engine, frozen
) -> None:
    from notifications import lifecycle

    load_province(committing_engine)
    with Session(committing_engine) as session, session.begin():
        orange = alert(session, severity="orange", rule_id="VIO-01", hit_id="w1").id
    _route(committing_engine, TUESDAY)
    clock.freeze(TUESDAY + timedelta(hours=1))
    with Session(committing_engine) as session, session.begin():
        lifecycle.acknowledge(session, orange, p.EAST_CHIEF)
    monday = datetime(2026, 11, 23, 8, 5, tzinfo=clock.SHANGHAI)
    _send(committing_engine, monday)
    weekly = [m for m in _digests(committing_engine) if "每周预警统计报告" in m.subject]
    assert weekly, "the weekly report goes out on Monday 08:00"
    nanjing = next(m for m in weekly if m.recipient_id == p.DETACHMENT_CHIEF)
    assert "预警总数：1" in nanjing.body and "VIO 1" in nanjing.body
    assert "按时签收率：100.0%" in nanjing.body


def test_discipline_inspection_hears_of_an_orange_closed_as_confirmed(
    committing_engine: Engine, frozen
) -> None:
    from notifications import lifecycle

    load_province(committing_engine)
    with Session(committing_engine) as session, session.begin():
        orange = alert(session, severity="orange", rule_id="VIO-01", hit_id="k1").id
    _route(committing_engine, TUESDAY)
    with Session(committing_engine) as session, session.begin():
        lifecycle.acknowledge(session, orange, p.EAST_CHIEF)
        lifecycle.submit_feedback(
            session,
            orange,
            p.EAST_CHIEF,
            {
                "kind": "final",
                "verification_methods": ["interview"],
                "facts": "属实",
                "persons_responsible": [p.OPERATOR],
                "finding": "confirmed",
                "disposal": ["criticism_education"],
            },
        )
        lifecycle.review(session, orange, p.DETACHMENT_INSPECTOR, "accept")
        lifecycle.close(session, orange, p.DETACHMENT_INSPECTOR)
    for _ in range(2):  # once, however often the pass runs
        with Session(committing_engine) as session, session.begin():
            digests.notify_confirmed(session, notifier(session, SETTINGS), now=TUESDAY)
    with Session(committing_engine) as session:
        told = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "confirmed")).all()
    assert {m.recipient_id for m in told} == {p.DETACHMENT_INSPECTOR, p.PROVINCE_INSPECTOR}
