"""The pre-check policy (rules/precheck.yaml): which hits mean review or block. Data, not code."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from marshmallow import RAISE, Schema, fields, validate

from auditcage.engine.hits import HitDraft
from auditcage.errors import AuditcageError
from auditcage.rulepacks.model import Kind, Severity
from auditcage.rulepacks.policy_files import load_validated
from auditcage.rulepacks.schemas import Issue

FILE = "precheck.yaml"
# The kinds one record's arrival can fire; the others fire later (sweeper, period close).
RECORD_KINDS = frozenset({Kind.EVENT, Kind.COUNT, Kind.DISTINCT, Kind.SUM, Kind.SEQUENCE})


class Decision(StrEnum):
    ALLOW = "allow"
    REVIEW = "review"
    BLOCK = "block"


STRENGTH = {Decision.ALLOW: 0, Decision.REVIEW: 1, Decision.BLOCK: 2}
_DECISIONS = validate.OneOf([d.value for d in Decision])


class PrecheckPolicySchema(Schema):
    class Meta:
        unknown = RAISE

    version = fields.Integer(required=True, validate=validate.Equal(1))
    severities = fields.Dict(
        keys=fields.String(validate=validate.OneOf([s.value for s in Severity])),
        values=fields.String(validate=_DECISIONS),
        required=True,
    )
    rules = fields.Dict(
        keys=fields.String(validate=validate.Regexp(r"^[A-Z]{2,3}-\d{2}[a-z]?(#[\w-]+)?$")),
        values=fields.String(validate=_DECISIONS),
        load_default=dict,
    )
    default = fields.String(validate=_DECISIONS, load_default="allow")


class PrecheckPolicyError(AuditcageError):
    code = "precheck_policy_invalid"

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        super().__init__("; ".join(f"{i.path}:{i.line} {i.field}: {i.message}" for i in issues))


@dataclass(frozen=True)
class PrecheckPolicy:
    severities: dict[str, Decision]
    rules: dict[str, Decision]
    default: Decision

    def decision_for(self, hit: HitDraft) -> Decision:
        for name in (hit.uid, hit.rule_id):
            if name in self.rules:
                return self.rules[name]
        return self.severities.get(hit.severity, self.default)

    def decide(self, hits: Iterable[HitDraft]) -> Decision:
        decision = Decision.ALLOW
        for hit in hits:
            candidate = self.decision_for(hit)
            if STRENGTH[candidate] > STRENGTH[decision]:
                decision = candidate
        return decision


def validate_precheck_policy(path: Path, rule_uids: Iterable[str]) -> list[Issue]:
    """Every problem of the file, and every rule it names that the packs do not have."""
    data, issues = load_validated(path, PrecheckPolicySchema(), "pre-check policy")
    if data is None:
        return issues
    known = set(rule_uids) | {uid.partition("#")[0] for uid in rule_uids}
    return [
        Issue(str(path), 1, None, f"rules.{name}", "no such rule in the packs")
        for name in data["rules"]
        if name not in known
    ]


def load_precheck_policy(rules_dir: Path) -> PrecheckPolicy:
    data, issues = load_validated(rules_dir / FILE, PrecheckPolicySchema(), "pre-check policy")
    if data is None:
        raise PrecheckPolicyError(issues)
    return PrecheckPolicy(
        {k: Decision(v) for k, v in data["severities"].items()},
        {k: Decision(v) for k, v in data["rules"].items()},
        Decision(data["default"]),
    )
