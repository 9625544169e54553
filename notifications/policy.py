"""The routing policy (`rules/routing.yaml`): its schema, its values, and located errors.

The file is validated like the rule packs: every problem is an `Issue` naming file:line and the
dotted field, and all of them are collected before anything is refused. The values are frozen
dataclasses; `notifications.routing` reads the routing part, the acknowledgement lifecycle the
`deadlines` part.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from auditcage import clock
from auditcage.errors import AuditcageError
from auditcage.rulepacks.model import Severity
from auditcage.rulepacks.policy_files import load_validated
from auditcage.rulepacks.schemas import Issue

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "rules" / "routing.yaml"

SCOPES = ("unit", "brigade", "detachment", "province")
ROLES = ("head", "deputy", "leadership", "discipline", "supervision")
LEVELS = ("brigade", "detachment", "province")  # levels whose leadership moves routing up
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PERIOD_UNITS = ("minutes", "hours", "working_hours", "working_days", "calendar_days")


class PushMode(StrEnum):
    INSTANT = "instant"  # at once, day and night
    OUTSIDE_QUIET_HOURS = "outside_quiet_hours"  # at once, but quiet hours wait for their end
    DIGEST = "digest"  # only in the named digest


class DigestDays(StrEnum):
    EVERY_DAY = "every_day"
    WORKING_DAYS = "working_days"
    WEEKLY = "weekly"


class PolicyError(AuditcageError):
    code = "routing_policy_invalid"

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        super().__init__(
            f"{len(issues)} problem(s) in the routing policy:\n" + "\n".join(map(str, issues))
        )


# --- values ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Selector:
    """`scope.role`: people found through the unit tree (R1) and the staff registry (R2)."""

    scope: str
    role: str

    def __str__(self) -> str:
        return f"{self.scope}.{self.role}"

    @classmethod
    def parse(cls, text: str) -> Selector:
        scope, _, role = text.partition(".")
        if scope not in SCOPES or role not in ROLES:
            raise ValueError(
                f"{text!r} is not scope.role (scope: {', '.join(SCOPES)}; role: {', '.join(ROLES)})"
            )
        return cls(scope, role)


@dataclass(frozen=True)
class SeverityRoute:
    owners: tuple[Selector, ...]
    copies: tuple[Selector, ...]
    push: PushMode
    channels: str = "first"  # all | first
    digest: str | None = None
    closed_by: tuple[Selector, ...] = ()
    personal_acknowledgement: bool = False
    briefing: str | None = None


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time

    def contains(self, at: datetime) -> bool:
        t = clock.to_shanghai(at).time()
        if self.start <= self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end  # the interval runs past midnight

    def release(self, at: datetime) -> datetime:
        """When a detection at `at` inside quiet hours may be pushed: the end of the interval."""
        local = clock.to_shanghai(at)
        day = local.date()
        if self.start > self.end and local.time() >= self.start:
            day += timedelta(days=1)
        return datetime.combine(day, self.end, tzinfo=clock.SHANGHAI)


@dataclass(frozen=True)
class RepeatOffender:
    orange_alerts: int
    within_days: int


@dataclass(frozen=True)
class RedCount:
    red_alerts: int
    within_days: int
    copies: tuple[Selector, ...]


@dataclass(frozen=True)
class Money:
    at_least_cny: float
    levels: int
    copies: tuple[Selector, ...]


@dataclass(frozen=True)
class Cluster:
    rules: tuple[str, ...]
    distinct_rules: int
    within_days: int
    copies: tuple[Selector, ...]


@dataclass(frozen=True)
class LateData:
    pushed_anyway: frozenset[Severity]
    digest: str


@dataclass(frozen=True)
class Modifiers:
    repeat_offender: RepeatOffender
    repeat_red: RedCount
    unit_hot_spot: RedCount
    money: Money
    cluster: Cluster
    leadership: Mapping[str, str]  # R2 position → level (brigade / detachment / province)
    late_data: LateData


@dataclass(frozen=True)
class Digest:
    name: str
    at: time
    days: DigestDays
    recipients: tuple[Selector, ...]
    weekday: int | None = None  # 0 = Monday, for weekly digests


@dataclass(frozen=True)
class Period:
    amount: float
    unit: str  # one of PERIOD_UNITS; the lifecycle maps minutes to hours for WorkCalendar

    def __str__(self) -> str:
        return f"{self.amount:g} {self.unit}"


@dataclass(frozen=True)
class SeverityDeadlines:
    acknowledge: Period | None
    initial_feedback: Period | None
    final_report: Period | None
    review: Period | None
    review_by: tuple[Selector, ...] = ()


@dataclass(frozen=True)
class Deadlines:
    returned_factor: float
    by_severity: Mapping[Severity, SeverityDeadlines]

    def __getitem__(self, severity: Severity | str) -> SeverityDeadlines:
        return self.by_severity[Severity(severity)]


@dataclass(frozen=True)
class RoutingPolicy:
    path: str
    quiet_hours: QuietHours
    severities: Mapping[Severity, SeverityRoute]
    modifiers: Modifiers
    digests: Mapping[str, Digest]
    deadlines: Deadlines = field(repr=False)

    def route_for(self, severity: Severity | str) -> SeverityRoute:
        return self.severities[Severity(severity)]


# --- schema ---------------------------------------------------------------------------------


class Strict(Schema):
    class Meta:
        unknown = RAISE


class SelectorField(fields.Field):
    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Selector:
        if not isinstance(value, str):
            raise ValidationError("a selector is text: scope.role, e.g. brigade.head")
        try:
            return Selector.parse(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class ClockTime(fields.Field):
    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> time:
        try:
            hours, minutes = str(value).split(":")
            return time(int(hours), int(minutes))
        except ValueError:
            raise ValidationError(f"{value!r} is not a time of day; write HH:MM") from None


def selectors(**kwargs: Any) -> fields.List:
    return fields.List(SelectorField(), **kwargs)


SEVERITY_NAMES = tuple(s.value for s in Severity)


class QuietHoursSchema(Strict):
    start = ClockTime(required=True)
    end = ClockTime(required=True)


class SeverityRouteSchema(Strict):
    owners = selectors(required=True)
    copies = selectors(load_default=list)
    closed_by = selectors(load_default=list)
    push = fields.Enum(PushMode, by_value=True, required=True)
    channels = fields.String(load_default="first", validate=validate.OneOf(("all", "first")))
    digest = fields.String(load_default=None)
    personal_acknowledgement = fields.Boolean(load_default=False)
    briefing = fields.String(load_default=None)

    @validates_schema
    def digest_named_when_digest(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("push") is PushMode.DIGEST and not data.get("digest"):
            raise ValidationError({"digest": ["push: digest needs the digest's name"]})


def _severity_map(nested: type[Schema], *, allow_null: bool = False) -> type[Schema]:
    """A schema with one required key per severity, so a missing one is named."""
    attrs = {
        name: fields.Nested(nested, required=True, allow_none=allow_null) for name in SEVERITY_NAMES
    }
    return type(f"{nested.__name__}BySeverity", (Strict,), attrs)


class RepeatOffenderSchema(Strict):
    orange_alerts = fields.Integer(required=True, validate=validate.Range(min=1))
    within_days = fields.Integer(required=True, validate=validate.Range(min=1))


class RedCountSchema(Strict):
    red_alerts = fields.Integer(required=True, validate=validate.Range(min=1))
    within_days = fields.Integer(required=True, validate=validate.Range(min=1))
    copies = selectors(load_default=list)


class MoneySchema(Strict):
    at_least_cny = fields.Float(required=True, validate=validate.Range(min=0))
    levels = fields.Integer(load_default=1, validate=validate.Range(min=1, max=3))
    copies = selectors(load_default=list)


class ClusterSchema(Strict):
    rules = fields.List(
        fields.String(validate=validate.Regexp(r"^[A-Z]{2,3}-\d{2}$", error="not a rule id")),
        required=True,
        validate=validate.Length(min=2),
    )
    distinct_rules = fields.Integer(required=True, validate=validate.Range(min=2))
    within_days = fields.Integer(required=True, validate=validate.Range(min=1))
    copies = selectors(load_default=list)


class LeadershipSchema(Strict):
    brigade = fields.List(fields.String(), required=True)
    detachment = fields.List(fields.String(), required=True)
    province = fields.List(fields.String(), required=True)


class LateDataSchema(Strict):
    pushed_anyway = fields.List(fields.Enum(Severity, by_value=True), load_default=list)
    digest = fields.String(required=True)


class ModifiersSchema(Strict):
    repeat_offender = fields.Nested(RepeatOffenderSchema, required=True)
    repeat_red = fields.Nested(RedCountSchema, required=True)
    unit_hot_spot = fields.Nested(RedCountSchema, required=True)
    money = fields.Nested(MoneySchema, required=True)
    cluster = fields.Nested(ClusterSchema, required=True)
    leadership = fields.Nested(LeadershipSchema, required=True)
    late_data = fields.Nested(LateDataSchema, required=True)


class DigestSchema(Strict):
    at = ClockTime(required=True)
    days = fields.Enum(DigestDays, by_value=True, required=True)
    weekday = fields.String(load_default=None, validate=validate.OneOf(WEEKDAYS))
    recipients = selectors(required=True, validate=validate.Length(min=1))

    @validates_schema
    def weekday_only_for_weekly(self, data: dict[str, Any], **_: Any) -> None:
        weekly = data.get("days") is DigestDays.WEEKLY
        if weekly and not data.get("weekday"):
            raise ValidationError({"weekday": ["a weekly digest needs its weekday (mon…sun)"]})
        if not weekly and data.get("weekday"):
            raise ValidationError({"weekday": ["only weekly digests have a weekday"]})


class PeriodSchema(Strict):
    amount = fields.Float(required=True, validate=validate.Range(min=0, min_inclusive=False))
    unit = fields.String(required=True, validate=validate.OneOf(PERIOD_UNITS))

    @validates_schema
    def whole_days(self, data: dict[str, Any], **_: Any) -> None:
        amount = data.get("amount")
        if data.get("unit", "").endswith("_days") and amount is not None and amount != int(amount):
            raise ValidationError({"amount": ["day periods are whole days"]})


class SeverityDeadlinesSchema(Strict):
    acknowledge = fields.Nested(PeriodSchema, required=True, allow_none=True)
    initial_feedback = fields.Nested(PeriodSchema, required=True, allow_none=True)
    final_report = fields.Nested(PeriodSchema, required=True, allow_none=True)
    review = fields.Nested(PeriodSchema, required=True, allow_none=True)
    review_by = selectors(load_default=list)


class DeadlinesSchema(_severity_map(SeverityDeadlinesSchema)):  # type: ignore[misc]
    returned_factor = fields.Float(
        load_default=0.5, validate=validate.Range(min=0, max=1, min_inclusive=False)
    )


class PolicySchema(Strict):
    quiet_hours = fields.Nested(QuietHoursSchema, required=True)
    severities = fields.Nested(_severity_map(SeverityRouteSchema), required=True)
    modifiers = fields.Nested(ModifiersSchema, required=True)
    digests = fields.Dict(
        keys=fields.String(validate=validate.Regexp(r"^[a-z][a-z0-9_]*$")),
        values=fields.Nested(DigestSchema),
        required=True,
    )
    deadlines = fields.Nested(DeadlinesSchema, required=True)

    @validates_schema
    def digests_exist(self, data: dict[str, Any], **_: Any) -> None:
        """Every digest a severity or a modifier names is defined under `digests`."""
        known = set(data.get("digests") or {})
        errors: dict[str, Any] = {}
        for name, route in (data.get("severities") or {}).items():
            for key in ("digest", "briefing"):
                if route.get(key) and route[key] not in known:
                    errors.setdefault("severities", {}).setdefault(name, {})[key] = [
                        f"no digest named {route[key]!r} under digests"
                    ]
        late = (data.get("modifiers") or {}).get("late_data") or {}
        if late.get("digest") and late["digest"] not in known:
            errors["modifiers"] = {
                "late_data": {"digest": [f"no digest named {late['digest']!r} under digests"]}
            }
        if errors:
            raise ValidationError(errors)


# --- loading --------------------------------------------------------------------------------


def validate_policy(path: Path | str | None = None) -> list[Issue]:
    """Every problem of a routing policy file, each with file:line and field; [] when clean."""
    return _load(Path(path) if path else DEFAULT_PATH)[1]


def load_policy(path: Path | str | None = None) -> RoutingPolicy:
    """The routing policy of `path` (default `rules/routing.yaml`); raises PolicyError."""
    policy, issues = _load(Path(path) if path else DEFAULT_PATH)
    if issues or policy is None:
        raise PolicyError(issues)
    return policy


def _load(path: Path) -> tuple[RoutingPolicy | None, list[Issue]]:
    data, issues = load_validated(path, PolicySchema(), "policy")
    return (_build(str(path), data), []) if data is not None else (None, issues)


def _build(path: str, data: dict[str, Any]) -> RoutingPolicy:
    m = data["modifiers"]
    return RoutingPolicy(
        path=path,
        quiet_hours=QuietHours(**data["quiet_hours"]),
        severities={Severity(k): _route(v) for k, v in data["severities"].items()},
        modifiers=Modifiers(
            repeat_offender=RepeatOffender(**m["repeat_offender"]),
            repeat_red=_red_count(m["repeat_red"]),
            unit_hot_spot=_red_count(m["unit_hot_spot"]),
            money=Money(
                m["money"]["at_least_cny"], m["money"]["levels"], tuple(m["money"]["copies"])
            ),
            cluster=Cluster(
                tuple(m["cluster"]["rules"]),
                m["cluster"]["distinct_rules"],
                m["cluster"]["within_days"],
                tuple(m["cluster"]["copies"]),
            ),
            leadership={position: level for level in LEVELS for position in m["leadership"][level]},
            late_data=LateData(
                frozenset(m["late_data"]["pushed_anyway"]), m["late_data"]["digest"]
            ),
        ),
        digests={name: _digest(name, d) for name, d in data["digests"].items()},
        deadlines=Deadlines(
            returned_factor=data["deadlines"]["returned_factor"],
            by_severity={Severity(s): _deadlines(data["deadlines"][s]) for s in SEVERITY_NAMES},
        ),
    )


def _route(v: dict[str, Any]) -> SeverityRoute:
    return SeverityRoute(
        owners=tuple(v["owners"]),
        copies=tuple(v["copies"]),
        push=v["push"],
        channels=v["channels"],
        digest=v["digest"],
        closed_by=tuple(v["closed_by"]),
        personal_acknowledgement=v["personal_acknowledgement"],
        briefing=v["briefing"],
    )


def _red_count(v: dict[str, Any]) -> RedCount:
    return RedCount(v["red_alerts"], v["within_days"], tuple(v["copies"]))


def _digest(name: str, v: dict[str, Any]) -> Digest:
    weekday = WEEKDAYS.index(v["weekday"]) if v["weekday"] else None
    return Digest(name, v["at"], v["days"], tuple(v["recipients"]), weekday)


def _period(v: dict[str, Any] | None) -> Period | None:
    return Period(v["amount"], v["unit"]) if v else None


def _deadlines(v: dict[str, Any]) -> SeverityDeadlines:
    return SeverityDeadlines(
        acknowledge=_period(v["acknowledge"]),
        initial_feedback=_period(v["initial_feedback"]),
        final_report=_period(v["final_report"]),
        review=_period(v["review"]),
        review_by=tuple(v["review_by"]),
    )
