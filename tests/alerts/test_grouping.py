"""§0.5 item 6 and §2/§3's cross-rule behaviour: an anomaly and a checkpoint on one item within
the hour are one alert with both codes at the higher severity; later they are two."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from auditcage import clock
from auditcage.alerts import grouping
from auditcage.alerts.models import Alert, Hit

pytestmark = pytest.mark.db

T0 = datetime(2024, 6, 11, 10, 0, tzinfo=clock.SHANGHAI)


def _hit(session: Session, hit_id: str, rule_id: str, severity: str, at: datetime) -> Alert:
    hit = Hit(
        id=hit_id,
        rule_id=rule_id,
        sub=None,
        severity=severity,
        kind="P",
        aspect="ROLE" if rule_id.startswith("CP-") else None,
        key="5201001234567890",
        serials=["5201001234567890"],
        record_ids=[f"violation:{hit_id}"],
        unit_code="520102000000",
        at=at,
        message="…",
        rule_version="test",
        anchor_record_id=f"violation:{hit_id}",
        detail={},
    )
    session.add(hit)
    session.flush()
    return grouping.attach(session, hit, cooldown=timedelta(hours=1))


def test_an_anomaly_and_a_checkpoint_on_one_item_within_the_hour_are_one_alert(
    session: Session,
) -> None:
    anomaly = _hit(session, "h1", "STF-04", "red", T0)
    checkpoint = _hit(session, "h2", "CP-05", "orange", T0 + timedelta(minutes=59))
    assert checkpoint.id == anomaly.id
    assert set(anomaly.rule_ids) == {"STF-04", "CP-05"}
    assert anomaly.severity == "red"  # the higher of the two


def test_the_merged_alert_takes_the_checkpoints_higher_severity(session: Session) -> None:
    anomaly = _hit(session, "h1", "VIO-15", "orange", T0)
    _hit(session, "h2", "CP-15", "red", T0 + timedelta(minutes=10))
    assert anomaly.severity == "red"


def test_more_than_an_hour_apart_they_stay_two_alerts(session: Session) -> None:
    anomaly = _hit(session, "h1", "STF-04", "red", T0)
    checkpoint = _hit(session, "h2", "CP-05", "orange", T0 + timedelta(hours=1, minutes=1))
    assert checkpoint.id != anomaly.id
    assert anomaly.rule_ids == ["STF-04"] and checkpoint.rule_ids == ["CP-05"]
