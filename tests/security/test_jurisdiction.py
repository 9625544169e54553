"""What the access table's status codes cannot show: a page the other unit's chief may open
(200) still shows nothing of unit A; ?unmask=1 shows clear data only to a role that may unmask;
a signed link works only as signed and only until it expires."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import create_app
from auditcage import clock
from auditcage.audit.models import AuditEntry
from auditcage.storage.session import make_engine
from tests.console.helpers import sign_in
from tests.notifications import province as p
from tests.notifications.scenario import NOW, SUBJECT_ID
from tests.security import scenario as sc
from tests.security.test_access_table import TABLE

# Not marked db: the scenario lives in a SQLite file of its own (scenario.py), so a PostgreSQL
# run would only repeat it.

PUBLIC = {"static", "health.healthz", "openapi.serve", "console.login", "alert_links.show"}


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, sc.Scenario]]:
    clock.freeze(NOW)
    s = sc.build(tmp_path_factory.mktemp("jurisdiction") / "j.db")
    app = create_app(s.settings)
    yield app, s
    app.extensions["auditcage.engine"].dispose()
    clock.freeze(None)


def _signed_in(app: Flask, name: str) -> Any:
    client = app.test_client()
    assert sign_in(client, name).status_code == 302
    return client


def _unit_a(s: sc.Scenario) -> list[str]:
    """What would betray an alert of 城东: its links, its unit, its rule, its people."""
    links = [f"/console/alerts/{i}" for i in s.alerts.values()]
    return [*links, "城东", p.EAST_WINDOW, "VIO-03", "STF-14", p.OPERATOR, "黔A"]


def test_pages_open_to_the_other_units_chief_show_nothing_of_unit_a(province) -> None:  # type: ignore[no-untyped-def]
    app, s = province
    client = _signed_in(app, "other_unit")
    bearer = {"Authorization": f"Bearer {s.staff_token('other_unit')}"}
    opened = []
    for (endpoint, method), row in TABLE.items():
        if method != "GET" or row["other_unit"] != 200 or endpoint in PUBLIC:
            continue
        rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
        assert not rule.arguments, endpoint  # a list page, or a page of the other unit's own
        reply = client.get(rule.rule, headers=bearer)
        assert reply.status_code == 200, endpoint
        shown = [needle for needle in _unit_a(s) if needle in reply.text]
        assert shown == [], endpoint
        opened.append(endpoint)
    assert {"console_alerts.inbox", "console_dashboards.index", "alerts_api.mine"} <= set(opened)


def test_the_same_pages_do_show_unit_a_to_its_own_chief(province) -> None:  # type: ignore[no-untyped-def]
    app, s = province
    inbox = _signed_in(app, "brigade_head").get("/console/inbox").text
    assert f"/console/alerts/{s.alerts['pushed']}" in inbox  # the check above can fail


@pytest.mark.parametrize("name", ["brigade_head", "detachment_head", "supervision"])
def test_unmask_is_ignored_for_a_role_that_may_not_unmask(province, name: str) -> None:  # type: ignore[no-untyped-def]
    app, s = province
    page = _signed_in(app, name).get(f"/console/alerts/{s.alerts['pushed']}?unmask=1")
    assert page.status_code == 200 and SUBJECT_ID not in page.text
    assert SUBJECT_ID[:4] in page.text  # masked, not missing


def test_unmask_by_an_inspector_shows_clear_data_and_is_audited(province) -> None:  # type: ignore[no-untyped-def]
    app, s = province
    page = _signed_in(app, "inspector").get(f"/console/alerts/{s.alerts['pushed']}?unmask=1")
    assert SUBJECT_ID in page.text
    engine = make_engine(s.settings.database_url)
    with Session(engine) as session:
        actors = session.scalars(
            select(AuditEntry.actor).where(AuditEntry.action == "console.unmask")
        ).all()
    engine.dispose()
    assert p.DETACHMENT_INSPECTOR in actors


def test_a_tampered_link_is_refused(province) -> None:  # type: ignore[no-untyped-def]
    app, s = province
    head, _, signature = s.link_token.rpartition(".")
    forged = f"{head}.{signature[::-1]}"
    assert app.test_client().get(f"/a/{forged}").status_code == 403


def test_a_link_naming_another_alert_cannot_be_made_from_a_real_one(province) -> None:  # type: ignore[no-untyped-def]
    from notifications import links

    app, s = province
    other = links.sign("not-the-secret", links.AlertLink(s.alerts["blue"], p.EAST_CHIEF, "open"))
    assert app.test_client().get(f"/a/{other}").status_code == 403


def test_a_link_expires_after_the_link_ttl(province) -> None:  # type: ignore[no-untyped-def]
    app, s = province
    clock.freeze(NOW + s.settings.link_ttl + timedelta(seconds=1))
    try:
        expired = app.test_client().get(f"/a/{s.link_token}")
    finally:
        clock.freeze(NOW)
    assert expired.status_code == 403
    assert expired.json["message"].startswith("the link has expired")
