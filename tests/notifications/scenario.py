"""A red alert in the small province, stored and routed as the worker would: shared by the
push end-to-end test and the alerts API tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import yaml
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from auditcage import clock
from auditcage.alerts import grouping
from auditcage.alerts.models import Alert, Hit
from auditcage.config import DEFAULT_RULES_DIR, Settings
from auditcage.records.intake import accept_batch
from auditcage.reference.service import build_index, replace_dataset
from notifications import pipeline
from notifications.policy import load_policy
from tests.notifications import province as p

NOW = datetime(2026, 11, 17, 10, 0, tzinfo=clock.SHANGHAI)  # a Tuesday
SUBJECT_ID = "320102199001011232"


def record() -> dict[str, Any]:
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


def red_alert(session: Session) -> Alert:
    return alert(session)


def alert(
    session: Session,
    *,
    severity: str = "red",
    rule_id: str = "VIO-03",
    hit_id: str = "e2e-hit-1",
    at: datetime | None = None,
    record_id: str = "violation:E2E-0001",
) -> Alert:
    """A stored hit filed into its alert, as the worker would leave it."""
    at = at or datetime(2026, 11, 17, 9, 40, tzinfo=clock.SHANGHAI)
    hit = Hit(
        id=hit_id,
        rule_id=rule_id,
        sub=None,
        severity=severity,
        kind="C",
        aspect=None,
        key=f"plate_no=黔A12345;{hit_id}",
        serials=["3201020000000001"],
        record_ids=[record_id],
        unit_code=p.EAST_WINDOW,
        at=at,
        message=f"号牌黔A12345 50分钟内由10个不同驾驶证（含{SUBJECT_ID}）处理记分违法",
        rule_version="test",
        anchor_record_id=record_id,
        detail={},
    )
    session.add(hit)
    session.flush()
    return grouping.attach(session, hit, cooldown=timedelta(hours=1))


def load_province(engine: Engine, staff: list[dict[str, Any]] | None = None) -> None:
    """The province's units and staff, and the record every scenario alert is about."""
    with Session(engine) as session, session.begin():
        replace_dataset(session, "units", p.UNITS, source="test", actor="test")
        replace_dataset(session, "staff", staff or p.STAFF, source="test", actor="test")
        report = accept_batch(session, [(1, record())], source="test")
        assert report.accepted == 1, report


def notifier(session: Session, settings: Settings) -> pipeline.Notifier:
    return pipeline.Notifier(
        ref=build_index(session),
        policy=load_policy(),
        settings=settings,
        rule_names={"VIO-03": "一车多证短时密集处理"},
    )


def store_and_route(
    engine: Engine, settings: Settings, staff: list[dict[str, Any]] | None = None
) -> int:
    """Load the province, store the record and its red alert, route it at NOW; the alert id."""
    load_province(engine, staff)
    with Session(engine) as session, session.begin():
        alert_id = red_alert(session).id
    with Session(engine) as session, session.begin():
        assert pipeline.route_new_alerts(session, notifier(session, settings), now=NOW) == 1
    return alert_id
