"""The shape of rule files, pack files and named lists (marshmallow), with located errors.

Every problem becomes an `Issue` naming file:line, rule id, field and what is wrong; the loader
collects them all rather than stopping at the first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from auditcage.rulepacks.model import Aspect, Kind, Severity, Status

DURATION = re.compile(r"^(\d+(?:\.\d+)?)(s|min|h|d)$")
_UNITS = {"s": "seconds", "min": "minutes", "h": "hours", "d": "days"}
RULE_ID = re.compile(r"^(VEH|LIC|ACC|VIO|STF|CP)-\d{2}$")
PERIOD_UNITS = ("working_days", "calendar_days", "hours", "working_hours", "minutes")
CATALOGUE_KINDS = re.compile(r"^[PJCDSQAR](/[PJCDSQAR])*$")


def parse_duration(text: Any) -> timedelta:
    match = DURATION.match(str(text).strip())
    if not match:
        raise ValidationError(f"{text!r} is not a duration; write e.g. 120s, 30min, 24h, 365d")
    return timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})


class Duration(fields.Field):
    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> timedelta:
        return parse_duration(value)


class KeyList(fields.Field):
    """`key: plate_no` or `key: [operator_id, agent_id_no]`."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> tuple[str, ...]:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
            raise ValidationError("a field path, or a list of field paths")
        return tuple(items)


class Strict(Schema):
    class Meta:
        unknown = RAISE


class TextSchema(Strict):
    zh = fields.String(required=True, validate=validate.Length(min=1))
    en = fields.String(required=True, validate=validate.Length(min=1))


class ExemptionSchema(Strict):
    when = fields.String(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=3))


class SeverityWhenSchema(Strict):
    when = fields.String(required=True)
    severity = fields.Enum(Severity, by_value=True, required=True)


class BandSchema(Strict):
    at_least = fields.Float(required=True)
    severity = fields.Enum(Severity, by_value=True, required=True)


class PeriodSchema(Strict):
    amount = fields.Integer(required=True, validate=validate.Range(min=0))
    unit = fields.String(required=True, validate=validate.OneOf(PERIOD_UNITS))


class ExamplesSchema(Strict):
    fires = fields.List(fields.Raw(), load_default=list)
    quiet = fields.List(fields.Raw(), load_default=list)


KIND_FIELDS: dict[Kind, frozenset[str]] = {
    Kind.EVENT: frozenset(),
    Kind.COUNT: frozenset({"key", "window"}),
    Kind.DISTINCT: frozenset({"key", "window", "field"}),
    Kind.SUM: frozenset({"key", "window", "field"}),
    Kind.SEQUENCE: frozenset({"key", "first", "within"}),
    Kind.ABSENCE: frozenset({"key", "period"}),
    Kind.RATE: frozenset(),
}


class RuleSchema(Strict):
    id = fields.String(required=True, validate=validate.Regexp(RULE_ID, error="not a catalogue id"))
    sub = fields.String(load_default=None, validate=validate.Regexp(r"^[a-z]$"))
    name = fields.Nested(TextSchema, required=True)
    kind = fields.Enum(Kind, by_value=True, required=True)
    catalogue_kind = fields.String(required=True, validate=validate.Regexp(CATALOGUE_KINDS))
    status = fields.Enum(Status, by_value=True, required=True)
    severity = fields.Enum(Severity, by_value=True, required=True)
    aspect = fields.Enum(Aspect, by_value=True, load_default=None)
    description = fields.String(load_default="")
    tags = fields.List(fields.String(), load_default=list)
    when = fields.String(required=True)
    unless = fields.List(fields.Nested(ExemptionSchema), load_default=list)
    severity_when = fields.List(fields.Nested(SeverityWhenSchema), load_default=list)
    bands = fields.List(fields.Nested(BandSchema), load_default=list)
    key = KeyList(load_default=())
    field = fields.String(load_default=None)
    window = Duration(load_default=None)
    first = fields.String(load_default=None)
    within = Duration(load_default=None)
    same = KeyList(load_default=())
    deadline_from = fields.String(load_default=None)
    period = fields.Nested(PeriodSchema, load_default=None)
    expect = fields.String(load_default=None)
    done_at = fields.String(load_default=None)
    message = fields.Nested(TextSchema, required=True)
    parameters = fields.Dict(keys=fields.String(), load_default=dict)
    examples = fields.Nested(ExamplesSchema, required=True)

    @validates_schema
    def kind_fields(self, data: dict[str, Any], **_: Any) -> None:
        kind = data.get("kind")
        if kind is None:
            return
        missing = sorted(f for f in KIND_FIELDS[kind] if not data.get(f))
        if missing:
            raise ValidationError({name: [f"required for kind {kind.value}"] for name in missing})
        if kind not in (Kind.EVENT, Kind.SEQUENCE) and data.get("severity_when"):
            raise ValidationError(
                {"severity_when": ["event and sequence rules; windows use bands"]}
            )
        if data.get("bands") and kind not in (Kind.COUNT, Kind.DISTINCT, Kind.SUM):
            raise ValidationError({"bands": ["only count, distinct and sum rules have bands"]})
        if kind in (Kind.COUNT, Kind.DISTINCT, Kind.SUM) and not data.get("bands"):
            raise ValidationError({"bands": ["a windowed rule needs at least one band"]})
        if kind is Kind.ABSENCE and not (data.get("expect") or data.get("done_at")):
            raise ValidationError({"expect": ["an absence rule needs expect or done_at"]})


class PackSchema(Strict):
    name = fields.String(required=True, validate=validate.Regexp(r"^[a-z_]+$"))
    title = fields.Nested(TextSchema, required=True)
    owner = fields.String(load_default="")
    example_base = fields.String(load_default=None)  # default base record of examples
    description = fields.String(load_default="")


class ListSchema(Strict):
    name = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9_]+$"))
    description = fields.String(required=True)
    items = fields.List(fields.String(), required=True)


@dataclass(frozen=True)
class Issue:
    """One problem in a rules directory: where, which rule, which field, what is wrong."""

    path: str
    line: int
    rule_id: str | None
    field: str
    problem: str
    suggestion: str | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}"
        rule = f" {self.rule_id}:" if self.rule_id else ""
        hint = f" (did you mean {self.suggestion}?)" if self.suggestion else ""
        on = f" {self.field}:" if self.field else ""
        return f"{where}:{rule}{on} {self.problem}{hint}"


def flatten_errors(messages: Any, prefix: str = "") -> list[tuple[str, str]]:
    """marshmallow's nested error dict as (dotted field, message) pairs."""
    if isinstance(messages, dict):
        pairs: list[tuple[str, str]] = []
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "_schema":
                name = prefix
            pairs.extend(flatten_errors(value, name))
        return pairs
    if isinstance(messages, list):
        if all(isinstance(m, str) for m in messages):
            return [(prefix, m) for m in messages]
        pairs = []
        for item in messages:
            pairs.extend(flatten_errors(item, prefix))
        return pairs
    return [(prefix, str(messages))]
