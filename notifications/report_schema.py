"""The feedback report a unit files (§4.4): validated with marshmallow before the lifecycle
stores it. A final report names how the alert was verified, the facts, the persons responsible,
the finding with its reason code, the disposal, the business remedy and the attachments."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from notifications.lifecycle_models import (
    BusinessRemedy,
    Disposal,
    FalsePositiveReason,
    Finding,
    ReportKind,
    VerificationMethod,
)


def _codes(enum: type[StrEnum]) -> validate.OneOf:
    return validate.OneOf([member.value for member in enum])


class AttachmentIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))
    size = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))


class FeedbackReportIn(Schema):
    """An initial feedback (facts so far) or a final report (§4.4: every item of the list)."""

    kind = fields.String(required=True, validate=_codes(ReportKind))
    verification_methods = fields.List(
        fields.String(validate=_codes(VerificationMethod)), load_default=list
    )
    facts = fields.String(required=True, validate=validate.Length(min=1, max=20000))
    persons_responsible = fields.List(
        fields.String(validate=validate.Length(min=1, max=100)), load_default=list
    )
    finding = fields.String(load_default=None, validate=_codes(Finding))
    reason_code = fields.String(load_default=None, validate=_codes(FalsePositiveReason))
    disposal = fields.List(fields.String(validate=_codes(Disposal)), load_default=list)
    business_remedy = fields.List(fields.String(validate=_codes(BusinessRemedy)), load_default=list)
    attachments = fields.List(fields.Nested(AttachmentIn), load_default=list)

    @validates_schema
    def _final_report_rules(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("kind") != ReportKind.FINAL:
            return
        errors: dict[str, str] = {}
        finding = data.get("finding")
        if not data["verification_methods"]:
            errors["verification_methods"] = "say how the alert was verified"
        if finding is None:
            errors["finding"] = "a final report needs a finding"
        elif finding == Finding.UNFOUNDED:
            if data.get("reason_code") is None:
                errors["reason_code"] = "an unfounded finding needs a false-positive reason"
            if data["disposal"]:
                errors["disposal"] = "nothing to dispose of when the alert was unfounded"
        else:
            if finding == Finding.CONFIRMED and data.get("reason_code") is not None:
                errors["reason_code"] = "a confirmed finding has no false-positive reason"
            if not data["persons_responsible"]:
                errors["persons_responsible"] = "name the persons responsible"
            if not data["disposal"]:
                errors["disposal"] = "a confirmed or partly confirmed finding needs a disposal"
        if errors:
            raise ValidationError(errors)
