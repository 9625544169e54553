"""Representations shared by several views."""

from __future__ import annotations

from functools import partial

from marshmallow import Schema, fields, validate

from auditcage.alerts.models import AlertStatus
from auditcage.precheck.policy import Decision
from auditcage.rulepacks.model import Severity


class ProblemOut(Schema):
    field = fields.String(required=True)
    code = fields.String(required=True)
    reason = fields.String(required=True)


class RecordOutcomeOut(Schema):
    position = fields.Integer(required=True)
    record_id = fields.String(required=True, allow_none=True)
    outcome = fields.String(required=True)
    problems = fields.List(fields.Nested(ProblemOut), required=True)


class IntakeReportOut(Schema):
    read = fields.Integer(required=True)
    accepted = fields.Integer(required=True)
    accepted_with_warnings = fields.Integer(required=True)
    duplicates = fields.Integer(required=True)
    quarantined = fields.Integer(required=True)
    quarantined_by_reason = fields.Dict(
        keys=fields.String(), values=fields.Integer(), required=True
    )
    outcomes = fields.List(fields.Nested(RecordOutcomeOut), required=True)


class ReferenceQuery(Schema):
    allow_empty = fields.Boolean(
        load_default=False,
        metadata={"description": "true: an upload with no rows empties the dataset (else 400)"},
    )


class ReferenceLoadOut(Schema):
    id = fields.Integer(required=True)
    dataset = fields.String(required=True)
    rows = fields.Integer(required=True)
    source = fields.String(required=True)
    actor = fields.String(required=True)
    loaded_at = fields.DateTime(required=True)
    checksum = fields.String(required=True)


# --- errors: every JSON error the API answers (api/errors.py) ---------------------------------


class ErrorOut(Schema):
    """An HTTP or domain error: a stable code and a message safe to show to the caller."""

    error = fields.String(required=True)
    message = fields.String(required=True, allow_none=True)
    problems = fields.List(fields.String())  # a refused reference load: what was wrong


class InvalidPayloadOut(Schema):
    """A payload that breaks its schema; `fields` maps each field to what is wrong with it."""

    error = fields.String(required=True, validate=validate.Equal("invalid_payload"))
    # `fields` would shadow Schema.fields
    invalid_fields = fields.Dict(required=True, data_key="fields")


# --- alerts -----------------------------------------------------------------------------------

DateTimeText = partial(fields.String, metadata={"format": "date-time"})  # ISO 8601, Shanghai


class AlertRowOut(Schema):
    id = fields.Integer(required=True)
    severity = fields.String(required=True, validate=validate.OneOf([s.value for s in Severity]))
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in AlertStatus]))
    rule_ids = fields.List(fields.String(), required=True)
    unit_code = fields.String(required=True)
    serial_no = fields.String(required=True, allow_none=True)
    first_at = DateTimeText(required=True)
    last_at = DateTimeText(required=True)
    late_data = fields.Boolean(required=True)


class ViewerOut(Schema):
    staff_id = fields.String(required=True)
    role = fields.String(required=True)


class AlertListOut(Schema):
    alerts = fields.List(fields.Nested(AlertRowOut), required=True)
    viewer = fields.Nested(ViewerOut, required=True)


class AlertHitOut(Schema):
    rule_id = fields.String(required=True)
    sub = fields.String(required=True, allow_none=True)
    severity = fields.String(required=True)
    at = DateTimeText(required=True)
    message = fields.String(required=True)  # personal data masked
    record_ids = fields.List(fields.String(), required=True)
    superseded = fields.Boolean(required=True)


class RecipientOut(Schema):
    staff_id = fields.String(required=True)
    role = fields.String(required=True)
    unit_code = fields.String(required=True)
    reason = fields.String(required=True)


class ModifierOut(Schema):
    name = fields.String(required=True)
    reason = fields.String(required=True)


class SubstitutionOut(Schema):
    original = fields.String(required=True)
    substitute = fields.String(required=True, allow_none=True)
    reason = fields.String(required=True)


class RoutingOut(Schema):
    owners = fields.List(fields.Nested(RecipientOut), required=True)
    copies = fields.List(fields.Nested(RecipientOut), required=True)
    modifiers = fields.List(fields.Nested(ModifierOut), required=True)
    substitutions = fields.List(fields.Nested(SubstitutionOut), required=True)
    push = fields.String(required=True, allow_none=True)  # instant | at:<time> | digest:<name>


class DeadlineOut(Schema):
    step = fields.String(required=True)
    due_at = DateTimeText(required=True)
    met_at = DateTimeText(required=True, allow_none=True)
    escalation_level = fields.Integer(required=True)
    active = fields.Boolean(required=True)


class AlertDetailOut(AlertRowOut):
    hits = fields.List(fields.Nested(AlertHitOut), required=True)
    routing = fields.Nested(RoutingOut, required=True)
    deadlines = fields.List(fields.Nested(DeadlineOut), required=True)


class AlertEventOut(Schema):
    at = DateTimeText(required=True)
    actor = fields.String(required=True)
    action = fields.String(required=True)
    from_status = fields.String(required=True, allow_none=True)
    to_status = fields.String(required=True, allow_none=True)
    detail = fields.Dict(required=True, allow_none=True)


class AlertHistoryOut(Schema):
    events = fields.List(fields.Nested(AlertEventOut), required=True)


class TrackingDeadlineOut(Schema):
    step = fields.String(required=True)
    due_at = fields.DateTime(required=True)
    active = fields.Boolean(required=True)


class TrackingStateOut(Schema):
    """The alert after a step of the loop: its status and the deadlines now running."""

    alert_id = fields.Integer(required=True)
    status = fields.String(required=True)
    severity = fields.String(required=True)
    deadlines = fields.List(fields.Nested(TrackingDeadlineOut), required=True)


# --- pre-check --------------------------------------------------------------------------------


class FiredRuleOut(Schema):
    rule_id = fields.String(required=True)
    sub = fields.String(required=True, allow_none=True)
    severity = fields.String(required=True)
    decision = fields.String(required=True, validate=validate.OneOf([d.value for d in Decision]))
    message = fields.String(required=True)  # personal data masked


class PrecheckOut(Schema):
    decision = fields.String(required=True, validate=validate.OneOf([d.value for d in Decision]))
    record_id = fields.String(required=True)
    rules = fields.List(fields.Nested(FiredRuleOut), required=True)
    rule_version = fields.String(required=True)
    elapsed_ms = fields.Float(required=True)


class InvalidRecordOut(Schema):
    """The candidate record breaks the contract (it would be quarantined): every problem."""

    error = fields.String(required=True, validate=validate.Equal("invalid_record"))
    record_id = fields.String(required=True, allow_none=True)
    problems = fields.List(fields.Nested(ProblemOut), required=True)
