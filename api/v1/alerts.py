"""/api/v1/alerts: the acknowledgement loop for chiefs' devices, the console and inspectors.

Every view: who (g.viewer, from the staff token), may they see the alert (jurisdiction and
recusal, notifications.access), then one lifecycle call in one transaction. The lifecycle checks
the rest (a red alert acknowledged personally by a named owner, a reviewer not reviewing his own
report, legal transitions) and writes the audit trail.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, request
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields, validate
from werkzeug.exceptions import BadRequest

from api import db
from api.auth import staff_required
from notifications import alert_views, lifecycle
from notifications.access import check_action
from notifications.pipeline import Notifier, assignment_recipients
from notifications.policy import load_policy

bp = Blueprint("alerts_api", __name__, url_prefix="/api/v1/alerts")


class AcknowledgeIn(Schema):
    delegated_to = fields.String(load_default=None)
    reason = fields.String(load_default=None)


class ReviewIn(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(("accept", "return")))
    comment = fields.String(load_default="")


class DismissIn(Schema):
    reason_code = fields.String(required=True)
    comment = fields.String(load_default="")


class AssignIn(Schema):
    unit_code = fields.String(required=True)


class CloseIn(Schema):
    note = fields.String(load_default="")


def _body() -> dict[str, Any]:
    payload = request.get_json(silent=True)
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise BadRequest("expected a JSON object")
    return payload


def _state(state: lifecycle.TrackingState) -> dict[str, Any]:
    return {
        "alert_id": state.alert_id,
        "status": state.status,
        "severity": state.severity,
        "deadlines": [
            {"step": d.step, "due_at": d.due_at.isoformat(), "active": d.active}
            for d in state.deadlines
        ],
    }


def _acting(alert_id: int, action: str) -> None:
    alert_views.get_visible(db.session(), g.reference, g.viewer, alert_id)
    check_action(g.viewer, action)


@bp.get("")
@staff_required
def mine() -> ResponseReturnValue:
    rows = alert_views.visible_alerts(
        db.session(),
        g.reference,
        g.viewer,
        status=request.args.get("status"),
        severity=request.args.get("severity"),
    )
    return {"alerts": rows, "viewer": {"staff_id": g.viewer.staff_id, "role": g.viewer.role}}


@bp.get("/<int:alert_id>")
@staff_required
def detail(alert_id: int) -> ResponseReturnValue:
    return alert_views.alert_detail(db.session(), g.reference, g.viewer, alert_id)


@bp.get("/<int:alert_id>/history")
@staff_required
def history(alert_id: int) -> ResponseReturnValue:
    return {"events": alert_views.alert_history(db.session(), g.reference, g.viewer, alert_id)}


@bp.post("/<int:alert_id>/acknowledge")
@staff_required
def acknowledge(alert_id: int) -> ResponseReturnValue:
    data = AcknowledgeIn().load(_body())
    _acting(alert_id, "acknowledge")
    with db.transaction() as session:
        state = lifecycle.acknowledge(
            session,
            alert_id,
            g.viewer.staff_id,
            delegated_to=data["delegated_to"],
            reason=data["reason"],
        )
    return _state(state)


@bp.post("/<int:alert_id>/feedback")
@staff_required
def feedback(alert_id: int) -> ResponseReturnValue:
    report = _body()
    _acting(alert_id, "feedback")
    notifier = _notifier()
    with db.transaction() as session:
        state = lifecycle.submit_feedback(
            session,
            alert_id,
            g.viewer.staff_id,
            report,
            policy=notifier.deadlines,
            timekeeper=notifier.timekeeper,
        )
    return _state(state)


@bp.post("/<int:alert_id>/review")
@staff_required
def review(alert_id: int) -> ResponseReturnValue:
    return _review(alert_id, ReviewIn().load(_body()))


@bp.post("/<int:alert_id>/return")
@staff_required
def return_report(alert_id: int) -> ResponseReturnValue:
    return _review(alert_id, ReviewIn().load({**_body(), "outcome": "return"}))


def _review(alert_id: int, data: dict[str, Any]) -> ResponseReturnValue:
    """Accept (and close) or return the final report."""
    _acting(alert_id, "review")
    notifier = _notifier()
    with db.transaction() as session:
        state = lifecycle.review(
            session,
            alert_id,
            g.viewer.staff_id,
            data["outcome"],
            data["comment"],
            timekeeper=notifier.timekeeper,
        )
        if data["outcome"] == "accept":
            state = lifecycle.close(session, alert_id, g.viewer.staff_id, note="accepted")
    return _state(state)


@bp.post("/<int:alert_id>/dismiss")
@staff_required
def dismiss(alert_id: int) -> ResponseReturnValue:
    data = DismissIn().load(_body())
    _acting(alert_id, "dismiss")
    with db.transaction() as session:
        state = lifecycle.dismiss(
            session, alert_id, g.viewer.staff_id, data["reason_code"], data["comment"]
        )
    return _state(state)


@bp.post("/<int:alert_id>/assign")
@staff_required
def assign(alert_id: int) -> ResponseReturnValue:
    data = AssignIn().load(_body())
    _acting(alert_id, "assign")
    notifier = _notifier()
    with db.transaction() as session:
        owners, copies = assignment_recipients(session, notifier, alert_id, data["unit_code"])
        state = lifecycle.assign(
            session,
            alert_id,
            g.viewer.staff_id,
            data["unit_code"],
            owners=owners,
            copies=copies,
            policy=notifier.deadlines,
            timekeeper=notifier.timekeeper,
        )
    return _state(state)


def _notifier() -> Notifier:
    # The policy file is read once per application, not per request.
    policy = current_app.extensions.get("auditcage.routing_policy")
    if policy is None:
        policy = current_app.extensions["auditcage.routing_policy"] = load_policy(
            db.settings().rules_dir / "routing.yaml"
        )
    return Notifier(ref=g.reference, policy=policy, settings=db.settings())
