"""/api/v1/alerts: the acknowledgement loop for chiefs' devices, the console and inspectors.

Every view: who (g.viewer, from the staff token), then one call of notifications.actions in one
transaction; the console's alert pages make the same calls. Those check that the viewer may see
the alert (jurisdiction and recusal) and take the step; the lifecycle checks the rest (a red
alert acknowledged personally by a named owner, a reviewer not reviewing his own report, legal
transitions) and writes the audit trail.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, request
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields, validate
from werkzeug.exceptions import BadRequest

from api import db
from api.auth import staff_required
from api.notifier import current_notifier
from api.schemas import AlertDetailOut, AlertHistoryOut, AlertListOut, TrackingStateOut
from auditcage.alerts.models import AlertStatus
from auditcage.rulepacks.model import Severity
from notifications import actions, alert_views
from notifications.lifecycle_models import FalsePositiveReason

bp = Blueprint("alerts_api", __name__, url_prefix="/api/v1/alerts")


class AlertsQuery(Schema):
    # An unknown parameter is refused like an unknown field: `?stauts=pushed` listing every
    # alert would look like an answer.
    status = fields.String(validate=validate.OneOf(list(AlertStatus)))
    severity = fields.String(validate=validate.OneOf(list(Severity)))


class AcknowledgeIn(Schema):
    delegated_to = fields.String(load_default=None)
    reason = fields.String(load_default=None)


class ReviewIn(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(("accept", "return")))
    comment = fields.String(load_default="")


class ReturnIn(Schema):
    comment = fields.String(load_default="")


class DismissIn(Schema):
    reason_code = fields.String(required=True, validate=validate.OneOf(list(FalsePositiveReason)))
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


@bp.get("")
@staff_required
def mine() -> ResponseReturnValue:
    query = AlertsQuery().load(request.args)
    rows = alert_views.visible_alerts(db.session(), g.reference, g.viewer, **query)
    return AlertListOut().dump({"alerts": rows, "viewer": g.viewer})


@bp.get("/<int:alert_id>")
@staff_required
def detail(alert_id: int) -> ResponseReturnValue:
    return AlertDetailOut().dump(
        alert_views.alert_detail(db.session(), g.reference, g.viewer, alert_id)
    )


@bp.get("/<int:alert_id>/history")
@staff_required
def history(alert_id: int) -> ResponseReturnValue:
    events = alert_views.alert_history(db.session(), g.reference, g.viewer, alert_id)
    return AlertHistoryOut().dump({"events": events})


@bp.post("/<int:alert_id>/acknowledge")
@staff_required
def acknowledge(alert_id: int) -> ResponseReturnValue:
    data = AcknowledgeIn().load(_body())
    with db.transaction() as session:
        state = actions.acknowledge(
            session,
            g.reference,
            g.viewer,
            alert_id,
            delegated_to=data["delegated_to"],
            reason=data["reason"],
        )
    return TrackingStateOut().dump(state)


@bp.post("/<int:alert_id>/feedback")
@staff_required
def feedback(alert_id: int) -> ResponseReturnValue:
    report = _body()
    with db.transaction() as session:
        state = actions.submit_feedback(
            session, g.reference, g.viewer, alert_id, report, notifier=current_notifier()
        )
    return TrackingStateOut().dump(state)


@bp.post("/<int:alert_id>/review")
@staff_required
def review(alert_id: int) -> ResponseReturnValue:
    return _review(alert_id, ReviewIn().load(_body()))


@bp.post("/<int:alert_id>/return")
@staff_required
def return_report(alert_id: int) -> ResponseReturnValue:
    return _review(alert_id, {**ReturnIn().load(_body()), "outcome": "return"})


def _review(alert_id: int, data: dict[str, Any]) -> ResponseReturnValue:
    """Accept (and close) or return the final report."""
    with db.transaction() as session:
        state = actions.review(
            session,
            g.reference,
            g.viewer,
            alert_id,
            data["outcome"],
            data["comment"],
            notifier=current_notifier(),
        )
    return TrackingStateOut().dump(state)


@bp.post("/<int:alert_id>/dismiss")
@staff_required
def dismiss(alert_id: int) -> ResponseReturnValue:
    data = DismissIn().load(_body())
    with db.transaction() as session:
        state = actions.dismiss(
            session, g.reference, g.viewer, alert_id, data["reason_code"], data["comment"]
        )
    return TrackingStateOut().dump(state)


@bp.post("/<int:alert_id>/assign")
@staff_required
def assign(alert_id: int) -> ResponseReturnValue:
    data = AssignIn().load(_body())
    with db.transaction() as session:
        state = actions.assign(
            session,
            g.reference,
            g.viewer,
            alert_id,
            data["unit_code"],
            notifier=current_notifier(),
        )
    return TrackingStateOut().dump(state)
