"""From hits to alerts, in the order of catalogue §0.5 item 6.

1. Hits of one (rule_id, sub, key) inside a cooldown are one alert: the firing and its upgrades.
   Checkpoint hits are one alert per (checkpoint, serial_no, aspect).
2. An anomaly alert and a checkpoint alert on the same serial_no within one hour are one alert,
   carrying both codes at the higher severity (CP-05 with STF-04, CP-15 with VIO-15, …).
3. Leads (§4.2 item 5) group alerts without merging them: the acknowledgement loop's work.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from auditcage.alerts.models import Alert, AlertStatus, Hit

MERGE_WINDOW = timedelta(hours=1)  # §2 "within the same hour" [P]
SEVERITY_RANK = {"red": 1, "orange": 2, "yellow": 3, "blue": 4}


def is_checkpoint(rule_id: str) -> bool:
    return rule_id.startswith("CP-")


def group_key(hit: Hit) -> str:
    if is_checkpoint(hit.rule_id):
        serial = hit.serials[0] if hit.serials else hit.key
        return f"{hit.rule_id}|{serial}|{hit.aspect or ''}"
    return f"{hit.rule_id}#{hit.sub or ''}|{hit.key}"


def higher(a: str, b: str) -> str:
    return a if SEVERITY_RANK.get(a, 9) <= SEVERITY_RANK.get(b, 9) else b


def attach(session: Session, hit: Hit, *, cooldown: timedelta | None) -> Alert:
    """File a stored hit into its alert, opening one when none is open."""
    key = group_key(hit)
    alert = _open_alert(session, key, hit.at)
    if alert is None:
        alert = _mergeable_alert(session, hit)
    if alert is None:
        alert = Alert(
            group_key=key,
            rule_ids=[hit.rule_id],
            severity=hit.severity,
            status=AlertStatus.NEW,
            unit_code=hit.unit_code,
            serial_no=hit.serials[0] if hit.serials else None,
            first_at=hit.at,
            last_at=hit.at,
            open_until=None
            if is_checkpoint(hit.rule_id) or cooldown is None
            else hit.at + cooldown,
            shadow=hit.shadow,
            late_data=hit.late_data,
        )
        session.add(alert)
        session.flush()
    else:
        if hit.rule_id not in alert.rule_ids:
            alert.rule_ids = [*alert.rule_ids, hit.rule_id]
        alert.severity = higher(alert.severity, hit.severity)
        alert.first_at = min(alert.first_at, hit.at)
        alert.last_at = max(alert.last_at, hit.at)
        alert.late_data = alert.late_data or hit.late_data
        alert.shadow = alert.shadow and hit.shadow
    hit.alert_id = alert.id
    return alert


def _open_alert(session: Session, key: str, at: datetime) -> Alert | None:
    candidates = session.scalars(
        select(Alert).where(Alert.group_key == key).order_by(Alert.first_at.desc()).limit(5)
    ).all()
    for alert in candidates:
        if alert.open_until is None or alert.first_at <= at < alert.open_until:
            return alert
    return None


def _mergeable_alert(session: Session, hit: Hit) -> Alert | None:
    """An alert of the other family (anomaly ↔ checkpoint) on the same item within the hour."""
    if not hit.serials:
        return None
    serial = hit.serials[0]
    candidates = session.scalars(
        select(Alert).where(
            Alert.serial_no == serial,
            Alert.first_at >= hit.at - MERGE_WINDOW,
            Alert.first_at <= hit.at + MERGE_WINDOW,
        )
    ).all()
    mine = is_checkpoint(hit.rule_id)
    for alert in candidates:
        if any(is_checkpoint(r) != mine for r in alert.rule_ids):
            return alert
    return None
