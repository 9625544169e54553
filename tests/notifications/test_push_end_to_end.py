"""A red hit, from the stored record to the chiefs' devices and back: routed, pushed through
apprise to a real SMTP server and a real webhook, masked, and acknowledged by its signed link."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from auditcage import clock
from auditcage.alerts import grouping
from auditcage.alerts.models import Alert, Hit
from auditcage.audit import trail
from auditcage.config import DEFAULT_RULES_DIR, Settings
from auditcage.records.intake import accept_batch
from auditcage.reference.service import build_index, replace_dataset
from notifications import pipeline
from notifications.delivery import deliver_due
from notifications.lifecycle_models import AlertAssignment
from notifications.policy import load_policy
from tests.notifications import province as p
from tests.notifications.receivers import HttpReceiver, SmtpReceiver, wait_until

pytestmark = pytest.mark.db

NOW = datetime(2026, 11, 17, 10, 0, tzinfo=clock.SHANGHAI)  # a Tuesday
SUBJECT_ID = "320102199001011232"


def _staff(smtp: SmtpReceiver, http: HttpReceiver) -> list[dict[str, Any]]:
    """Owners by e-mail, copies by webhook: both transports carry the push."""
    by_mail = {p.EAST_CHIEF, p.DETACHMENT_INSPECTOR}
    rows = []
    for row in p.STAFF:
        sid = row["staff_id"]
        url = smtp.url(f"{sid.lower()}@jj.example") if sid in by_mail else http.url(f"/wecom/{sid}")
        rows.append({**row, "notify": [url]})
    return rows


def _record() -> dict[str, Any]:
    bases = yaml.safe_load((DEFAULT_RULES_DIR / "examples" / "base_records.yaml").read_text())
    record = dict(bases["violation"])
    record.update(
        record_id="violation:E2E-0001",
        serial_no="3201020000000001",
        unit_code=p.EAST_WINDOW,
        operator_id=p.OPERATOR,
        operator_role="police",
        subject_id_no=SUBJECT_ID,
        license_no=SUBJECT_ID,
        license_holder_id_no=SUBJECT_ID,
        action_time="2026-11-17T09:40:00+08:00",
        accepted_at="2026-11-17T09:30:00+08:00",
        completed_at="2026-11-17T09:40:00+08:00",
    )
    record["violation"] = {
        **record["violation"],
        "decision": {**record["violation"]["decision"], "decided_by": p.OPERATOR},
    }
    return record


def _red_alert(session: Session) -> Alert:
    at = datetime(2026, 11, 17, 9, 40, tzinfo=clock.SHANGHAI)
    hit = Hit(
        id="e2e-hit-1",
        rule_id="VIO-03",
        sub=None,
        severity="red",
        kind="C",
        aspect=None,
        key="plate_no=黔A12345",
        serials=["3201020000000001"],
        record_ids=["violation:E2E-0001"],
        unit_code=p.EAST_WINDOW,
        at=at,
        message=f"号牌黔A12345 50分钟内由10个不同驾驶证（含{SUBJECT_ID}）处理记分违法",
        rule_version="test",
        anchor_record_id="violation:E2E-0001",
        detail={},
    )
    session.add(hit)
    session.flush()
    return grouping.attach(session, hit, cooldown=timedelta(hours=1))


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
    with Session(committing_engine) as session, session.begin():
        replace_dataset(session, "units", p.UNITS, source="test", actor="test")
        replace_dataset(
            session, "staff", _staff(smtp_receiver, http_receiver), source="test", actor="test"
        )
        report = accept_batch(session, [(1, _record())], source="test")
        assert report.accepted == 1, report
        alert = _red_alert(session)
        alert_id = alert.id
    with Session(committing_engine) as session, session.begin():
        notifier = pipeline.Notifier(
            ref=build_index(session),
            policy=load_policy(),
            settings=settings,
            rule_names={"VIO-03": "一车多证短时密集处理"},
        )
        assert pipeline.route_new_alerts(session, notifier, now=NOW) == 1
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
    alert_id, settings, _ = routed
    before = len(smtp_receiver.mails) + len(http_receiver.posts)
    with Session(committing_engine) as session, session.begin():
        notifier = pipeline.Notifier(
            ref=build_index(session), policy=load_policy(), settings=settings
        )
        assert pipeline.route_new_alerts(session, notifier, now=NOW) == 0
    deliver_due(committing_engine, worker_id="test", now=NOW)
    assert len(smtp_receiver.mails) + len(http_receiver.posts) == before
