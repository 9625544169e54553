"""The shape of rule files, pack files and named lists (marshmallow), with located errors.

Rate rules (kind rate, catalogue kind R) write, besides `when` (the population filter):

    group: [license.exam.examiner_ids, license.exam.subject]   # paths; a list path explodes
    period: month            # day | week | month | quarter | rolling_30d
    numerator: license.exam.result == "pass"   # condition over one record; rate = count / n
    n_min: 50                # groups below it: no hit (below_n_min: blue gives a blue finding)
    peers: [license.exam.subject, unit_detachment]   # peer groups: same values of these paths
    compare: rate            # rate | count | n: the value peer statistics are over
    count_by: record_id      # serial_no (default, §0.2 item 3) | record_id
    fires_when: "diff_median >= 0.20 or z >= 3"      # over the statistics (engine.rates)
    severity_when: [{when: "consecutive >= 2", severity: orange}]
                             # (count, distinct, sum rules write {any: <condition>, severity})
    lookback: 1              # previous periods kept (consecutive ≤ lookback + 1, previous_*)
    totals: {examiner_total: [license.exam.examiner_ids]}   # coarser populations, shares
    population_totals: {operator_total: [operator_id]}   # the same over every population
                             # record, those forming no group (a null group path) included
    staff_key: license.exam.examiner_ids            # whose R2 unit the hit belongs to
    subsets: {retake: "license.exam.attempt >= 2"}  # sub-populations: retake_n, _count, _rate
    mode_of: accident.appraisals.agency_id          # mode_n, mode_share: the most frequent value
    history: 30              # the group's own value over the previous periods: history_median…
    group_values: {capacity: 'lookup("exam_venues", license.exam.venue_id, "capacity_per_day")'}
                             # a number per group: the largest value over its records
    history_days: working    # all | working (a day period skips rest days) | active (only the
                             # group's own periods with records, e.g. "the previous 30 exam days")
    with_hits: {rules: [VIO-04, VEH-11], keys: [agent_id_no], within: 30d}
                             # with_hits: the hits of those rules (at in the period or `within`
                             # before it) keyed on a `keys` value of one of the group's records

`period` of an absence rule is a mapping ({amount, unit}); of a rate rule one of the names.

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
RATE_PERIODS = ("day", "week", "month", "quarter", "rolling_30d")
RATE_FIELDS = (
    "group",
    "numerator",
    "n_min",
    "peers",
    "compare",
    "count_by",
    "fires_when",
    "lookback",
    "totals",
    "population_totals",
    "staff_key",
    "below_n_min",
    "subsets",
    "mode_of",
    "history",
    "history_days",
    "group_values",
    "with_hits",
)


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
    """`{when, severity}`; a windowed rule writes `{any, severity}` instead (RuleSchema checks
    which of the two the rule's kind takes)."""

    when = fields.String(load_default=None)
    any = fields.String(load_default=None)  # windowed rules: some record in the window meets it
    severity = fields.Enum(Severity, by_value=True, required=True)

    @validates_schema
    def one_condition(self, data: dict[str, Any], **_: Any) -> None:
        written = [name for name in ("when", "any") if data.get(name) is not None]
        if len(written) != 1:
            raise ValidationError(
                "write one condition: `when` (event, sequence, rate, ledger rules) or `any` "
                "(count, distinct, sum rules: a record in the window meets it)"
            )


class BandSchema(Strict):
    at_least = fields.Float(required=True)
    severity = fields.Enum(Severity, by_value=True, required=True)


class PeriodSchema(Strict):
    amount = fields.Integer(required=True, validate=validate.Range(min=0))
    unit = fields.String(required=True, validate=validate.OneOf(PERIOD_UNITS))


class PeriodField(fields.Field):
    """An absence rule's `{amount, unit}`, or a rate rule's period name (`month`)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            if value not in RATE_PERIODS:
                raise ValidationError(f"a rate period is one of {', '.join(RATE_PERIODS)}")
            return value
        if isinstance(value, dict):
            return PeriodSchema().load(value)
        raise ValidationError("{amount, unit} (absence) or a period name (rate)")


class TotalsField(fields.Field):
    """`{name: [path, …]}`: coarser populations of a rate rule."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, dict):
            raise ValidationError("a mapping of names to lists of group paths")
        result = []
        for name, paths in value.items():
            if not isinstance(name, str) or not re.match(r"^[a-z][a-z0-9_]*$", name):
                raise ValidationError(f"{name!r} is not a name (lower case, digits, _)")
            items = [paths] if isinstance(paths, str) else paths
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise ValidationError(f"{name}: a group path or a list of group paths")
            result.append((name, tuple(items)))
        return tuple(result)


class SubsetsField(fields.Field):
    """`{name: condition}`: sub-populations of a rate rule, each with its n, count and rate."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, dict):
            raise ValidationError("a mapping of names to conditions")
        result = []
        for name, condition in value.items():
            if not isinstance(name, str) or not re.match(r"^[a-z][a-z0-9_]*$", name):
                raise ValidationError(f"{name!r} is not a name (lower case, digits, _)")
            if not isinstance(condition, str) or not condition.strip():
                raise ValidationError(f"{name}: a condition over one record")
            result.append((name, condition))
        return tuple(result)


class LedgerLinkSchema(Strict):
    record = fields.String(required=True)  # a record path (a list path: any element)
    row = fields.String(load_default=None)  # the row field it must equal (or `range`)
    when = fields.String(load_default=None)  # which records count (a condition over a record)
    within = Duration(load_default=None)  # only records within ±within of the row's `at`
    since = fields.String(load_default=None)  # row field: evidence from it − within
    range = fields.List(fields.String(), load_default=None)  # [from, to]: a number range

    @validates_schema
    def row_or_range(self, data: dict[str, Any], **_: Any) -> None:
        if (data.get("row") is None) == (data.get("range") is None):
            raise ValidationError("write `row` (the row field a record value equals) or `range`")
        if data.get("range") is not None and len(data["range"]) != 2:
            raise ValidationError({"range": ["[from field, to field]"]})
        if data.get("since") and not data.get("within"):
            raise ValidationError({"since": ["since needs within"]})
        if data.get("within") and data.get("range") is not None:
            raise ValidationError({"within": ["a range link counts up to the judging instant"]})


class WithHitsSchema(Strict):
    """A rate rule's `with_hits`: which rules' hits, on which record paths, how far back."""

    rules = fields.List(
        fields.String(validate=validate.Regexp(r"^(VEH|LIC|ACC|VIO|STF|CP)-\d{2}(#[a-z])?$")),
        required=True,
        validate=validate.Length(min=1),
    )
    keys = KeyList(required=True)
    within = Duration(required=True)


class LedgerSchema(Strict):
    """kind ledger: which reference rows are judged, when, and how they link to records."""

    dataset = fields.String(required=True)
    at = fields.String(required=True)
    key = KeyList(required=True)  # a row field, or a list of them (a row without an id)
    staff = fields.String(load_default=None)
    link = fields.Nested(LedgerLinkSchema, load_default=None)
    grace = Duration(load_default=None)

    @validates_schema
    def known_dataset(self, data: dict[str, Any], **_: Any) -> None:
        from auditcage.reference.schemas import SCHEMAS

        schema = SCHEMAS.get(data["dataset"])
        if schema is None:
            raise ValidationError({"dataset": [f"not a reference dataset: {data['dataset']}"]})
        known = set(schema().fields)
        for name in ("at", "staff"):
            if data.get(name) and data[name] not in known:
                raise ValidationError({name: [f"{data[name]!r} is not a field of the dataset"]})
        for name in data.get("key") or ():
            if name not in known:
                raise ValidationError({"key": [f"{name!r} is not a field of the dataset"]})
        link = data.get("link")
        for name in (
            [link.get("row"), link.get("since"), *(link.get("range") or ())] if link else ()
        ):
            if name is not None and name not in known:
                raise ValidationError({"link": [f"{name!r} is not a field of the dataset"]})


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
    Kind.RATE: frozenset({"group", "period", "n_min", "fires_when"}),
    Kind.LEDGER: frozenset({"ledger"}),
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
    key_where = fields.String(load_default=None)  # keep only the key list's elements that match
    key_near = fields.Integer(load_default=None, validate=validate.Range(min=1, max=16))
    reset_when = fields.String(load_default=None)  # windowed: only records after it count
    field = fields.String(load_default=None)
    window = Duration(load_default=None)
    first = fields.String(load_default=None)
    within = Duration(load_default=None)
    same = KeyList(load_default=())
    match = fields.String(load_default=None)  # sequence: a condition over B and first. (A)
    between = fields.String(load_default=None)  # sequence: a record meeting it between A and B
    deadline_from = fields.String(load_default=None)
    look_back = Duration(load_default=None)  # absence: how far back steps before arming count
    step_key = KeyList(load_default=())  # absence: the step's paths matching `key` on the arming
    period = PeriodField(load_default=None)
    expect = fields.String(load_default=None)
    done_at = fields.String(load_default=None)
    group = KeyList(load_default=())
    numerator = fields.String(load_default=None)
    n_min = fields.Integer(load_default=None, validate=validate.Range(min=1))
    peers = KeyList(load_default=())
    compare = fields.String(load_default="rate", validate=validate.OneOf(("rate", "count", "n")))
    count_by = fields.String(
        load_default="serial_no", validate=validate.OneOf(("serial_no", "record_id"))
    )
    fires_when = fields.String(load_default=None)
    lookback = fields.Integer(load_default=1, validate=validate.Range(min=0, max=12))
    totals = TotalsField(load_default=())
    population_totals = TotalsField(load_default=())
    staff_key = fields.String(load_default=None)
    below_n_min = fields.String(load_default="quiet", validate=validate.OneOf(("quiet", "blue")))
    subsets = SubsetsField(load_default=())
    group_values = SubsetsField(load_default=())  # {name: expression}: the group's largest value
    with_hits = fields.Nested(WithHitsSchema, load_default=None)
    mode_of = fields.String(load_default=None)
    history = fields.Integer(load_default=0, validate=validate.Range(min=0, max=60))
    history_days = fields.String(
        load_default="all", validate=validate.OneOf(("all", "working", "active"))
    )
    message = fields.Nested(TextSchema, required=True)
    parameters = fields.Dict(keys=fields.String(), load_default=dict)
    examples = fields.Nested(ExamplesSchema, required=True)
    ledger = fields.Nested(LedgerSchema, load_default=None)

    @validates_schema(pass_original=True)
    def kind_fields(self, data: dict[str, Any], original: Any = None, **_: Any) -> None:
        kind = data.get("kind")
        if kind is None:
            return
        missing = sorted(f for f in KIND_FIELDS[kind] if not data.get(f))
        errors = {name: [f"required for kind {kind.value}"] for name in missing}
        if kind is not Kind.RATE:
            written = original if isinstance(original, dict) else {}
            errors.update({f: ["only rate rules have it"] for f in RATE_FIELDS if f in written})
            if isinstance(data.get("period"), str):
                errors["period"] = ["a period name is for rate rules"]
        if errors:
            raise ValidationError(errors)
        if kind is Kind.RATE:
            self._rate_fields(data)
        self._severity_when_scope(kind, data.get("severity_when") or [])
        if kind in (Kind.COUNT, Kind.DISTINCT, Kind.SUM):
            self._paired_window(data)
        elif data.get("reset_when"):
            raise ValidationError({"reset_when": ["only count, distinct and sum rules have it"]})
        for name in ("match", "between"):
            if data.get(name) and kind is not Kind.SEQUENCE:
                raise ValidationError({name: ["only sequence rules have it"]})
        if kind is not Kind.LEDGER and data.get("ledger"):
            raise ValidationError({"ledger": ["only ledger rules have it"]})
        if data.get("bands") and kind not in (Kind.COUNT, Kind.DISTINCT, Kind.SUM):
            raise ValidationError({"bands": ["only count, distinct and sum rules have bands"]})
        if kind in (Kind.COUNT, Kind.DISTINCT, Kind.SUM) and not data.get("bands"):
            raise ValidationError({"bands": ["a windowed rule needs at least one band"]})
        if kind is Kind.ABSENCE and not (data.get("expect") or data.get("done_at")):
            raise ValidationError({"expect": ["an absence rule needs expect or done_at"]})
        for name in ("look_back", "step_key"):
            if data.get(name) and kind is not Kind.ABSENCE:
                raise ValidationError({name: ["only absence rules have it"]})
        if data.get("step_key") and len(data["step_key"]) != len(data.get("key") or ()):
            raise ValidationError({"step_key": ["one path for each path of key"]})
        if data.get("step_key") and data.get("key_where"):
            raise ValidationError({"step_key": ["not with key_where"]})
        if kind is Kind.ABSENCE and isinstance(data.get("period"), str):
            raise ValidationError({"period": ["an absence period is {amount, unit}"]})

    @staticmethod
    def _paired_window(data: dict[str, Any]) -> None:
        """A windowed rule with `first` counts only the Bs of a sequence: it needs `within`."""
        if data.get("first") and not data.get("within"):
            raise ValidationError(
                {"first": ["a windowed rule with first needs within (how long before B the A is)"]}
            )
        for name in ("within", "same"):
            if data.get(name) and not data.get("first"):
                raise ValidationError(
                    {name: ["a windowed rule has it only with first (count sequence matches)"]}
                )

    @staticmethod
    def _severity_when_scope(kind: Kind, items: list[dict[str, Any]]) -> None:
        """Windowed rules raise a firing by `any` record of its window; the others by `when`."""
        windowed = kind in (Kind.COUNT, Kind.DISTINCT, Kind.SUM)
        if kind is Kind.ABSENCE and items:
            raise ValidationError(
                {"severity_when": ["event, sequence, rate, ledger and windowed rules only"]}
            )
        for index, item in enumerate(items):
            if windowed and item.get("when") is not None:
                problem = (
                    "a windowed rule's firing has many records: write `any: <condition>` (at "
                    "least one record in the window meets it) instead of `when`"
                )
            elif not windowed and item.get("any") is not None:
                problem = "`any` is for count, distinct and sum rules; write `when`"
            else:
                continue
            raise ValidationError({"severity_when": {index: [problem]}})

    @staticmethod
    def _rate_fields(data: dict[str, Any]) -> None:
        errors: dict[str, list[str]] = {}
        if not isinstance(data.get("period"), str):
            errors["period"] = [f"a rate period is one of {', '.join(RATE_PERIODS)}"]
        group = set(data.get("group") or ())
        if data.get("compare", "rate") == "rate" and not data.get("numerator"):
            errors["numerator"] = ["a rate needs a numerator (or compare: count / n)"]
        if data.get("staff_key") and data["staff_key"] not in group:
            errors["staff_key"] = ["must be one of the group paths"]
        for field_name in ("totals", "population_totals"):
            for name, paths in data.get(field_name) or ():
                if not set(paths) <= group or set(paths) == group:
                    errors.setdefault(field_name, []).append(
                        f"{name}: a proper subset of the group paths"
                    )
        for name in ("key", "window", "field", "first", "within", "expect", "done_at", "bands"):
            if data.get(name):
                errors[name] = ["not a field of rate rules"]
        if data.get("history_days") == "working" and data.get("period") != "day":
            errors["history_days"] = ["working-day history is for day periods"]
        if errors:
            raise ValidationError(errors)


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
