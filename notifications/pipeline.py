"""The notification step of the worker: route new alerts into tracked deliveries (the outbox),
in the caller's transaction. Escalation (notifications.escalation) and digests
(notifications.digests) build on the helpers here.

Routing takes its facts from the stored hits and records (actors, subjects, money) and its
history from earlier routing decisions (§4.2 counts); every decision, severity change and
recusal substitution is written to the audit trail. Everything is keyed so that running a step
twice changes nothing: an alert is routed once (alert_routing), an escalation rung once (the
sweeper's level), a digest once per slot (the outbox dedupe key).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from auditcage import clock
from auditcage.alerts.models import Alert, AlertStatus, Hit
from auditcage.audit import trail
from auditcage.calendar import WorkCalendar, unit_hours
from auditcage.config import Settings
from auditcage.records.models import Record
from auditcage.reference.index import ReferenceIndex
from auditcage.rulepacks.model import Severity
from notifications import lifecycle, links, messages
from notifications.deadlines import DEFAULT_POLICY, DeadlinePolicy, Period, Timekeeper
from notifications.delivery import enqueue
from notifications.policy import RoutingPolicy
from notifications.routing import (
    Actors,
    AlertFacts,
    History,
    Recipient,
    RoutingDecision,
    route,
)
from notifications.routing_models import AlertRouting

ACTOR = "routing"
ROUTE_BATCH = 200
CLUSTER_RULES = tuple(f"VIO-0{n}" for n in range(1, 8))  # the 买分卖分 family (§4.2 item 5)
MONEY_RULES = (
    "VIO-10",
    "VIO-11",
    "VIO-13",
    "VIO-14",
    "VIO-15",
    "VIO-16",
    "CP-17",
    "CP-18",
    "CP-19",
)
IDENTITY_FIELDS = ("license_no", "plate_no", "agent_id_no", "subject_phone", "client_ip")


@dataclass
class Notifier:
    """Everything a notification step needs; built once per worker pass."""

    ref: ReferenceIndex
    policy: RoutingPolicy
    settings: Settings
    rule_names: dict[str, str] = field(default_factory=dict)  # rule id → Chinese name
    calendar: WorkCalendar | None = None

    def __post_init__(self) -> None:
        self.calendar = self.calendar or WorkCalendar(self.ref)
        self.timekeeper = Timekeeper(
            calendar=self.calendar, unit_hours=lambda code: unit_hours(self.ref.get("units", code))
        )
        self.deadlines = deadline_policy(self.policy)

    def link(self, alert_id: int, staff_id: str, purpose: str) -> str:
        return links.url(
            self.settings.public_url,
            self.settings.secret_key,
            links.AlertLink(alert_id, staff_id, purpose),
        )

    def unit_name(self, unit_code: str | None) -> str:
        row = self.ref.get("units", unit_code) if unit_code else None
        return str(row.get("name") or unit_code) if row else str(unit_code or "")


def deadline_policy(policy: RoutingPolicy) -> DeadlinePolicy:
    """§4.4 ladders (lifecycle defaults) with the periods rules/routing.yaml sets."""

    def period(written: Any, where: str) -> Period | None:
        if written is None:
            return None
        return Period.parse({"amount": written.amount, "unit": written.unit}, where)

    steps = ("acknowledge", "initial_feedback", "final_report", "review")
    return DeadlinePolicy(
        **{
            severity: replace(
                DEFAULT_POLICY.of(severity),
                **{
                    step: period(
                        getattr(policy.deadlines[severity], step), f"deadlines.{severity}.{step}"
                    )
                    for step in steps
                },
            )
            for severity in ("red", "orange", "yellow", "blue")
        }
    )


# --- routing ------------------------------------------------------------------------------------


def route_new_alerts(session: Session, notifier: Notifier, *, now: datetime | None = None) -> int:
    """Route every alert not routed yet (shadow alerts are recorded, never pushed)."""
    now = now or clock.now()
    routed = select(AlertRouting.alert_id)
    alerts = session.scalars(
        select(Alert)
        .where(Alert.status == AlertStatus.NEW, Alert.id.not_in(routed))
        .order_by(Alert.first_at, Alert.id)
        .limit(ROUTE_BATCH)
    ).all()
    for alert in alerts:
        _route_one(session, notifier, alert, now)
    return len(alerts)


def _route_one(session: Session, notifier: Notifier, alert: Alert, now: datetime) -> None:
    hits = session.scalars(select(Hit).where(Hit.alert_id == alert.id)).all()
    records = records_of(session, hits)
    facts = facts_of(alert, hits, records)
    history = _history(session, facts, records, _brigade_of(notifier.ref, alert.unit_code))
    decision = route(facts, history, notifier.policy, notifier.ref)
    identities = sorted(_identities(records))
    session.add(
        AlertRouting(
            alert_id=alert.id,
            routed_at=now,
            at=alert.first_at,
            rule_severity=alert.severity,
            severity=decision.severity.value,
            operator_id=facts.actors.operator[0] if facts.actors.operator else None,
            brigade_code=_brigade_of(notifier.ref, alert.unit_code),
            identities=identities,
            push=decision.push.label,
            lead_alert_id=None,
            decision=_decision_json(decision, facts.actors),
        )
    )
    _audit_decision(session, alert, decision)
    if decision.lead_alert_ids:
        for member in session.scalars(
            select(AlertRouting).where(AlertRouting.alert_id.in_(decision.lead_alert_ids))
        ):
            member.lead_alert_id = alert.id
    if decision.severity.value != alert.severity:
        alert.severity = decision.severity.value
    if alert.shadow or decision.push.mode == "none" or alert.severity == Severity.BLUE.value:
        return  # blue waits in the inspectors' queue; shadow rules are never pushed
    owners = [r.staff_id for r in decision.owners]
    copies = [r.staff_id for r in decision.copies]
    if not owners:
        trail.record(
            session,
            actor=ACTOR,
            action="routing.no_owner",
            subject=("alert", alert.id),
            detail={"why": "nobody may own the alert; it waits for an inspector"},
        )
        return
    state = lifecycle.open_tracking(
        session,
        alert,
        owners=owners,
        copies=copies,
        routed_at=now,
        policy=notifier.deadlines,
        timekeeper=notifier.timekeeper,
    )
    if decision.push.mode == "digest":
        return  # the digest lists it (yellow, back-filled orange)
    not_before = decision.push.at if decision.push.mode == "at" else None
    summary = summarise(notifier, alert, hits)
    deadlines = [(d.step, d.due_at) for d in state.deadlines if d.active]
    for kind, people in (("owner", decision.owners), ("copy", decision.copies)):
        for person in people:
            message = messages.alert_pushed(
                summary,
                role=kind,
                deadlines=deadlines,
                link=notifier.link(alert.id, person.staff_id, "open"),
                personal=decision.personal_acknowledgement,
            )
            queue(
                session,
                person,
                message,
                kind="alert",
                dedupe_key=f"alert:{alert.id}:push",
                alert_id=alert.id,
                not_before=not_before,
                every_channel=decision.channels == "all",
            )


def records_of(session: Session, hits: Sequence[Hit]) -> list[dict[str, Any]]:
    ids = sorted({r for hit in hits for r in hit.record_ids})[:500]
    if not ids:
        return []
    return [row.payload for row in session.scalars(select(Record).where(Record.record_id.in_(ids)))]


def facts_of(alert: Alert, hits: Sequence[Hit], records: Sequence[dict[str, Any]]) -> AlertFacts:
    def ids(name: str) -> list[str]:
        return [str(r[name]) for r in records if r.get(name)]

    subjects = {
        str(r[name])
        for r in records
        for name in ("subject_id_no", "license_holder_id_no", "vehicle_owner_id_no")
        if r.get(name)
    }
    money = 0.0
    if any(rule in MONEY_RULES for rule in alert.rule_ids):
        money = sum(float(r.get("amount") or 0) for r in records if r.get("amount_kind") == "fine")
    return AlertFacts(
        alert_id=alert.id,
        severity=Severity(alert.severity),
        unit_code=alert.unit_code,
        at=alert.first_at,
        rule_ids=tuple(alert.rule_ids),
        actors=Actors.of(ids("operator_id"), ids("reviewer_id"), ids("approver_id")),
        subject_id_nos=tuple(sorted(subjects)),
        money_cny=money,
        late_data=alert.late_data,
        shadow=alert.shadow,
    )


def _identities(records: Iterable[dict[str, Any]]) -> set[str]:
    return {
        f"{name}={r[name]}"
        for r in records
        for name in (*IDENTITY_FIELDS, "operator_id")
        if r.get(name)
    }


def _history(
    session: Session, facts: AlertFacts, records: Sequence[dict[str, Any]], brigade: str | None
) -> History:
    """§4.2 counts from earlier routing decisions (the alert being routed is not in them)."""
    at = facts.at
    operator = facts.actors.operator[0] if facts.actors.operator else None

    def count(*conditions: Any) -> int:
        return int(
            session.scalar(select(func.count()).select_from(AlertRouting).where(*conditions)) or 0
        )

    orange = red = 0
    if operator:
        orange = count(
            AlertRouting.operator_id == operator,
            AlertRouting.severity == "orange",
            AlertRouting.at >= at - timedelta(days=30),
        )
        red = count(
            AlertRouting.operator_id == operator,
            AlertRouting.severity == "red",
            AlertRouting.at >= at - timedelta(days=90),
        )
    unit_red = 0
    if brigade:
        unit_red = count(
            AlertRouting.brigade_code == brigade,
            AlertRouting.severity == "red",
            AlertRouting.at >= at - timedelta(days=30),
        )
    members: list[int] = []
    cluster = False
    if any(rule in CLUSTER_RULES for rule in facts.rule_ids):
        members, cluster = _cluster(session, facts, _identities(records))
    return History(
        operator_orange_30d=orange,
        operator_red_90d=red,
        unit_red_30d=unit_red,
        cluster=cluster,
        cluster_alert_ids=tuple(members),
    )


def _cluster(session: Session, facts: AlertFacts, mine: set[str]) -> tuple[list[int], bool]:
    """Earlier 买分卖分 alerts within 30 days sharing an identity with this one."""
    rows = session.execute(
        select(AlertRouting.alert_id, AlertRouting.identities, Alert.rule_ids)
        .join(Alert, Alert.id == AlertRouting.alert_id)
        .where(AlertRouting.at >= facts.at - timedelta(days=30))
    ).all()
    members, rules = [], {r for r in facts.rule_ids if r in CLUSTER_RULES}
    for alert_id, identities, rule_ids in rows:
        family = {r for r in rule_ids if r in CLUSTER_RULES}
        if family and mine & set(identities or ()):
            members.append(int(alert_id))
            rules |= family
    return members, len(rules) >= 2


def _brigade_of(ref: ReferenceIndex, unit_code: str | None) -> str | None:
    seen: set[str] = set()
    row = ref.get("units", unit_code) if unit_code else None
    while row is not None and row["unit_code"] not in seen:
        seen.add(row["unit_code"])
        if row.get("level") == "brigade":
            return str(row["unit_code"])
        row = ref.get("units", row.get("parent_code")) if row.get("parent_code") else None
    return unit_code


def _decision_json(decision: RoutingDecision, actors: Actors | None = None) -> dict[str, Any]:
    def person(r: Recipient) -> dict[str, Any]:
        return {
            "staff_id": r.staff_id,
            "role": r.role,
            "unit_code": r.unit_code,
            "reason": r.reason,
        }

    return {
        "rule_severity": decision.rule_severity.value,
        "severity": decision.severity.value,
        "modifiers": [asdict(m) for m in decision.modifiers],
        "owners": [person(r) for r in decision.owners],
        "copies": [person(r) for r in decision.copies],
        "closed_by": list(decision.closed_by),
        "push": decision.push.label,
        "channels": decision.channels,
        "personal_acknowledgement": decision.personal_acknowledgement,
        "substitutions": [asdict(s) for s in decision.substitutions],
        "lead_alert_ids": [int(a) for a in decision.lead_alert_ids],
        "actors": list(actors.ids()) if actors is not None else [],
    }


def _audit_decision(session: Session, alert: Alert, decision: RoutingDecision) -> None:
    trail.record(
        session,
        actor=ACTOR,
        action="alert.routed",
        subject=("alert", alert.id),
        detail=_decision_json(decision),
    )
    for sub in decision.substitutions:
        trail.record(
            session,
            actor=ACTOR,
            action="routing.substitution",
            subject=("alert", alert.id),
            detail={"original": sub.original, "substitute": sub.substitute, "reason": sub.reason},
        )
    if decision.severity != decision.rule_severity:
        trail.record(
            session,
            actor=ACTOR,
            action="alert.severity_modified",
            subject=("alert", alert.id),
            detail={
                "from": decision.rule_severity.value,
                "to": decision.severity.value,
                "modifiers": [m.name for m in decision.modifiers],
            },
        )


def summarise(notifier: Notifier, alert: Alert, hits: Sequence[Hit]) -> messages.AlertSummary:
    rules = [f"{r} {notifier.rule_names.get(r, '')}".strip() for r in alert.rule_ids]
    live = [h for h in hits if not h.superseded]
    return messages.AlertSummary(
        alert_id=alert.id,
        severity=alert.severity,
        rules=rules,
        unit_name=notifier.unit_name(alert.unit_code),
        first_at=alert.first_at,
        lines=[h.message for h in sorted(live, key=lambda h: h.at)],
        late_data=alert.late_data,
    )


def queue(
    session: Session,
    person: Recipient,
    message: messages.Message,
    *,
    kind: str,
    dedupe_key: str,
    alert_id: int | None,
    not_before: datetime | None = None,
    every_channel: bool = False,
) -> None:
    """One outbox row per recipient (channels in fallback order), or per channel for `all`."""
    if not person.notify:
        trail.record(
            session,
            actor=ACTOR,
            action="delivery.no_channel",
            subject=("staff", person.staff_id),
            detail={"dedupe_key": dedupe_key, "why": "no R2 notify URL"},
        )
        return
    groups = [[url] for url in person.notify] if every_channel else [list(person.notify)]
    for n, channels in enumerate(groups):
        enqueue(
            session,
            recipient_id=person.staff_id,
            channels=channels,
            subject=message.subject,
            body=message.body,
            kind=kind,
            dedupe_key=dedupe_key if len(groups) == 1 else f"{dedupe_key}:c{n}",
            alert_id=alert_id,
            not_before=not_before,
        )


def assignment_recipients(
    session: Session, notifier: Notifier, alert_id: int, unit_code: str
) -> tuple[list[str], list[str]]:
    """Owners and copies of a blue alert an inspector assigns to `unit_code`: routed as a
    yellow alert of that unit would be (its supervision post owns it), with the same recusal."""
    alert = session.get(Alert, alert_id)
    if alert is None:
        from auditcage.errors import NotFound

        raise NotFound(f"alert {alert_id} not found")
    hits = session.scalars(select(Hit).where(Hit.alert_id == alert.id)).all()
    facts = facts_of(alert, hits, records_of(session, hits))
    yellow = AlertFacts(
        alert_id=facts.alert_id,
        severity=Severity.YELLOW,
        unit_code=unit_code,
        at=facts.at,
        rule_ids=facts.rule_ids,
        actors=facts.actors,
        subject_id_nos=facts.subject_id_nos,
    )
    decision = route(yellow, History(), notifier.policy, notifier.ref)
    _audit_decision(session, alert, decision)
    return [r.staff_id for r in decision.owners], [r.staff_id for r in decision.copies]
