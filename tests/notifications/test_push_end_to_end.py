"""A red hit, from the stored record to the chiefs' devices and back: routed, pushed through
apprise to a real SMTP server and a real webhook, masked, and acknowledged by its signed link."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from auditcage import clock
from auditcage.alerts.models import Alert
from auditcage.audit import trail
from auditcage.config import Settings
from auditcage.reference.service import build_index
from notifications import pipeline
from notifications.delivery import deliver_due
from notifications.lifecycle_models import AlertAssignment
from notifications.policy import load_policy
from tests.notifications import province as p
from tests.notifications.receivers import HttpReceiver, SmtpReceiver, wait_until
from tests.notifications.scenario import NOW, SUBJECT_ID, store_and_route

pytestmark = pytest.mark.db


def _staff(smtp: SmtpReceiver, http: HttpReceiver) -> list[dict[str, Any]]:
    """Owners by e-mail, copies by webhook: both transports carry the push."""
    by_mail = {p.EAST_CHIEF, p.DETACHMENT_INSPECTOR}
    rows = []
    for row in p.STAFF:
        sid = row["staff_id"]
        url = smtp.url(f"{sid.lower()}@jj.example") if sid in by_mail else http.url(f"/wecom/{sid}")
        rows.append({**row, "notify": [url]})
    return rows


@pytest.fixture
def routed(committing_engine: Engine, smtp_receiver, http_receiver):  # type: ignore[no-untyped-def]
    clock.freeze(NOW)
    try:
        yield _route_and_deliver(committing_engine, smtp_receiver, http_receiver)
    finally:
        clock.freeze(None)


def _route_and_deliver(committing_engine: Engine, smtp_receiver, http_receiver):  # type: ignore[no-untyped-def]
    settings = Settings(
        database_url=str(committing_engine.url.render_as_string(hide_password=False)),
        secret_key="test-secret",
        public_url="http://console.test",
    )
    alert_id = store_and_route(committing_engine, settings, _staff(smtp_receiver, http_receiver))
    report = deliver_due(committing_engine, worker_id="test", now=NOW)
    assert wait_until(lambda: len(smtp_receiver.mails) >= 2)
    return alert_id, settings, report


def test_a_red_alert_reaches_owners_copies_and_inspection_masked(
    routed, committing_engine: Engine, smtp_receiver: SmtpReceiver, http_receiver: HttpReceiver
) -> None:
    alert_id, _, report = routed
    assert report.failed == 0
    with Session(committing_engine) as session:
        assignment = session.scalar(
            select(AlertAssignment).where(AlertAssignment.alert_id == alert_id)
        )
        assert assignment is not None
        # §4.3 red: the 大队长 and the 支队长 own it; 支队督察 and 总队督察 are copied
        assert set(assignment.owner_ids) == {p.EAST_CHIEF, p.DETACHMENT_CHIEF}
        assert {p.DETACHMENT_INSPECTOR, p.PROVINCE_INSPECTOR} <= set(assignment.copy_ids)
        assert p.OPERATOR not in {*assignment.owner_ids, *assignment.copy_ids}
    mail_to = {r for mail in smtp_receiver.mails for r in mail.rcpt_tos}
    assert {"e01@jj.example", "d09@jj.example"} <= mail_to
    hooks = {path for path, _ in http_receiver.posts}
    assert {f"/wecom/{p.DETACHMENT_CHIEF}", f"/wecom/{p.PROVINCE_INSPECTOR}"} <= hooks
    texts = [m.text for m in smtp_receiver.mails] + http_receiver.bodies
    assert all(SUBJECT_ID not in text for text in texts), "an ID number left unmasked"
    assert any("3201**********1232" in text for text in texts)
    owner_mail = next(m for m in smtp_receiver.mails if "e01@jj.example" in m.rcpt_tos)
    assert "红色预警" in owner_mail.message["subject"]
    assert "本人签收" in owner_mail.text and "签收时限" in owner_mail.text


def test_the_owners_signed_link_acknowledges_the_alert(
    routed, committing_engine: Engine, smtp_receiver: SmtpReceiver
) -> None:
    from api import create_app

    alert_id, settings, _ = routed
    owner_mail = next(m for m in smtp_receiver.mails if "e01@jj.example" in m.rcpt_tos)
    link = re.search(r"http://console\.test(/a/\S+)", owner_mail.text)
    assert link is not None
    app = create_app(settings)
    client = app.test_client()
    page = client.get(link.group(1))
    assert page.status_code == 200 and "签收" in page.get_data(as_text=True)
    tampered = client.get(link.group(1)[:-3] + "abc")
    assert tampered.status_code == 403
    clock.freeze(NOW + timedelta(minutes=10))
    done = client.post(link.group(1), headers={"Accept": "application/json"})
    assert done.status_code == 200, done.get_data(as_text=True)
    with Session(committing_engine) as session:
        assert session.get(Alert, alert_id).status == "acknowledged"
        assert trail.verify(session).ok
    app.extensions["auditcage.engine"].dispose()


def test_routing_twice_pushes_nothing_twice(
    routed, committing_engine: Engine, smtp_receiver: SmtpReceiver, http_receiver: HttpReceiver
) -> None:
    _, settings, _ = routed
    before = len(smtp_receiver.mails) + len(http_receiver.posts)
    with Session(committing_engine) as session, session.begin():
        notifier = pipeline.Notifier(
            ref=build_index(session), policy=load_policy(), settings=settings
        )
        assert pipeline.route_new_alerts(session, notifier, now=NOW) == 0
    deliver_due(committing_engine, worker_id="test", now=NOW)
    assert len(smtp_receiver.mails) + len(http_receiver.posts) == before


def test_worker_once_routes_and_delivers_before_it_exits(
    committing_engine: Engine, smtp_receiver: SmtpReceiver, http_receiver: HttpReceiver
) -> None:
    from click.testing import CliRunner

    from auditcage.cli import main
    from tests.notifications.scenario import alert, load_province

    load_province(committing_engine, _staff(smtp_receiver, http_receiver))
    with Session(committing_engine) as session, session.begin():
        alert(session)
    url = committing_engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(
        main, ["--database-url", url, "worker", "--once", "--as-of", NOW.isoformat()]
    )
    assert result.exit_code == 0, result.output
    assert re.search(r"alerts: [1-9]\d* routed", result.output), result.output
    assert wait_until(lambda: any("e01@jj.example" in m.rcpt_tos for m in smtp_receiver.mails))
