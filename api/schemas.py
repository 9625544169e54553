"""Representations shared by several views."""

from __future__ import annotations

from marshmallow import Schema, fields


class ProblemOut(Schema):
    field = fields.String()
    code = fields.String()
    reason = fields.String()


class RecordOutcomeOut(Schema):
    position = fields.Integer()
    record_id = fields.String(allow_none=True)
    outcome = fields.String()
    problems = fields.List(fields.Nested(ProblemOut))


class IntakeReportOut(Schema):
    read = fields.Integer()
    accepted = fields.Integer()
    accepted_with_warnings = fields.Integer()
    duplicates = fields.Integer()
    quarantined = fields.Integer()
    quarantined_by_reason = fields.Dict(keys=fields.String(), values=fields.Integer())
    outcomes = fields.List(fields.Nested(RecordOutcomeOut))


class ReferenceLoadOut(Schema):
    id = fields.Integer()
    dataset = fields.String()
    rows = fields.Integer()
    source = fields.String()
    actor = fields.String()
    loaded_at = fields.DateTime()
    checksum = fields.String()
