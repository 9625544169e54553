"""/api/v1/alerts: the loop through the JSON API, authorised by role and jurisdiction."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from api.auth import issue_staff_token
from auditcage import clock
from auditcage.config import Settings
from tests.notifications import province as p
from tests.notifications.scenario import NOW, store_and_route

pytestmark = pytest.mark.db

SECRET = "test-secret"
REPORT = {
    "kind": "final",
    "verification_methods": ["video_reviewed", "system_logs"],
    "facts": "窗口协勤代他人处理记分，收取好处费",
    "persons_responsible": ["E11"],
    "finding": "confirmed",
    "disposal": ["dismiss_auxiliary"],
    "business_remedy": ["restore_points"],
}


@pytest.fixture
def alert_id(committing_engine: Engine, app_settings: Settings) -> Iterator[int]:
    clock.freeze(NOW)
    # 城西's chief back from leave: a chief of another brigade, active, who must see nothing
    staff = p.staff_with(p.WEST_CHIEF, status="active")
    settings = Settings(database_url=app_settings.database_url, secret_key=SECRET)
    yield store_and_route(committing_engine, settings, staff)
    clock.freeze(None)


def _as(staff_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_staff_token(SECRET, staff_id)}"}


def _post(client: Any, alert_id: int, action: str, staff_id: str, body: dict | None = None):  # type: ignore[no-untyped-def]
    return client.post(
        f"/api/v1/alerts/{alert_id}/{action}", json=body or {}, headers=_as(staff_id)
    )


def test_a_chief_of_another_brigade_neither_lists_nor_opens_the_alert(client, alert_id) -> None:
    listed = client.get("/api/v1/alerts", headers=_as(p.WEST_CHIEF))
    assert listed.status_code == 200 and listed.json["alerts"] == []
    opened = client.get(f"/api/v1/alerts/{alert_id}", headers=_as(p.WEST_CHIEF))
    assert opened.status_code == 404
    assert _post(client, alert_id, "acknowledge", p.WEST_CHIEF).status_code == 404
    mine = client.get("/api/v1/alerts", headers=_as(p.EAST_CHIEF)).json["alerts"]
    assert [a["id"] for a in mine] == [alert_id]


def test_the_operator_of_the_alerted_record_cannot_see_it(client, alert_id) -> None:
    assert client.get(f"/api/v1/alerts/{alert_id}", headers=_as(p.OPERATOR)).status_code == 404


def test_requests_without_a_valid_staff_token_are_refused(client, alert_id) -> None:
    assert client.get("/api/v1/alerts").status_code == 401
    bad = {"Authorization": "Bearer not-a-token"}
    assert client.get("/api/v1/alerts", headers=bad).status_code == 401


def test_acknowledge_report_return_and_accept_through_the_api(client, alert_id) -> None:
    detail = client.get(f"/api/v1/alerts/{alert_id}", headers=_as(p.EAST_CHIEF)).json
    assert detail["severity"] == "red" and detail["status"] == "pushed"
    assert {o["staff_id"] for o in detail["routing"]["owners"]} == {
        p.EAST_CHIEF,
        p.DETACHMENT_CHIEF,
    }
    # red: personally, no delegation
    delegated = _post(
        client,
        alert_id,
        "acknowledge",
        p.EAST_CHIEF,
        {"delegated_to": p.EAST_DEPUTY, "reason": "x"},
    )
    assert delegated.status_code == 403
    clock.freeze(NOW + timedelta(minutes=12))
    assert _post(client, alert_id, "acknowledge", p.EAST_CHIEF).json["status"] == "acknowledged"
    # the chief may not review; discipline inspection may
    assert _post(client, alert_id, "feedback", p.EAST_CHIEF, REPORT).status_code == 200
    assert _post(client, alert_id, "review", p.EAST_CHIEF, {"outcome": "accept"}).status_code == 403
    returned = _post(client, alert_id, "return", p.DETACHMENT_INSPECTOR, {"comment": "补充视频"})
    assert returned.status_code == 200 and returned.json["status"] == "returned"
    again = _post(client, alert_id, "feedback", p.EAST_CHIEF, REPORT)
    assert again.json["status"] == "feedback_submitted"
    accepted = _post(client, alert_id, "review", p.DETACHMENT_INSPECTOR, {"outcome": "accept"})
    assert accepted.status_code == 200 and accepted.json["status"] == "closed"
    events = client.get(f"/api/v1/alerts/{alert_id}/history", headers=_as(p.EAST_CHIEF)).json
    actions = [e["action"] for e in events["events"]]
    assert actions[:2] == ["push", "acknowledge"] and actions[-1] == "close"


def test_an_incomplete_final_report_names_the_missing_items(client, alert_id) -> None:
    _post(client, alert_id, "acknowledge", p.EAST_CHIEF)
    response = _post(client, alert_id, "feedback", p.EAST_CHIEF, {"kind": "final", "facts": "…"})
    assert response.status_code == 422
    assert {"verification_methods", "finding"} <= set(response.json["fields"])


def test_an_illegal_transition_is_a_conflict(client, alert_id) -> None:
    response = _post(client, alert_id, "review", p.DETACHMENT_INSPECTOR, {"outcome": "accept"})
    assert response.status_code == 409


def test_an_inspector_dismisses_a_false_positive_with_a_reason(client, alert_id) -> None:
    assert (
        _post(client, alert_id, "dismiss", p.EAST_CHIEF, {"reason_code": "other"}).status_code
        == 403
    )
    missing = _post(client, alert_id, "dismiss", p.DETACHMENT_INSPECTOR, {})
    assert missing.status_code == 422
    done = _post(
        client,
        alert_id,
        "dismiss",
        p.DETACHMENT_INSPECTOR,
        {"reason_code": "source_data_error", "comment": "源系统重复推送"},
    )
    assert done.status_code == 200 and done.json["status"] == "dismissed"


def test_a_blue_alert_waits_for_an_inspector_who_assigns_it_to_a_unit(
    client, committing_engine: Engine, app_settings: Settings
) -> None:
    from sqlalchemy.orm import Session

    from notifications import pipeline
    from tests.notifications.scenario import alert, load_province, notifier

    clock.freeze(NOW)
    try:
        load_province(committing_engine)
        with Session(committing_engine) as session, session.begin():
            blue = alert(session, severity="blue", rule_id="STF-14", hit_id="b1").id
        settings = Settings(database_url=app_settings.database_url, secret_key=SECRET)
        with Session(committing_engine) as session, session.begin():
            pipeline.route_new_alerts(session, notifier(session, settings), now=NOW)
        queue = client.get("/api/v1/alerts?status=new", headers=_as(p.DETACHMENT_INSPECTOR))
        assert [a["id"] for a in queue.json["alerts"]] == [blue]
        assert _post(client, blue, "assign", p.EAST_CHIEF, {"unit_code": p.EAST}).status_code == 403
        assigned = _post(client, blue, "assign", p.DETACHMENT_INSPECTOR, {"unit_code": p.EAST})
        assert assigned.status_code == 200 and assigned.json["status"] == "pushed"
        detail = client.get(f"/api/v1/alerts/{blue}", headers=_as(p.EAST_SUPERVISION))
        assert detail.status_code == 200
    finally:
        clock.freeze(None)
