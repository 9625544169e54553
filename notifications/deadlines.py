"""Deadlines and escalation ladders per severity (catalogue §4.4), and the clock that applies them.

Every due time comes from `auditcage.calendar.WorkCalendar` (statutory holidays and 调休 from
chinese-calendar or R8 rows; working hours from the unit's `service_hours`, §0.5 item 8).

Readings of §4.4 where it is vague (the defaults below; routing.yaml may change every one):

- All steps except the review start when the alert is pushed: acknowledging late buys no time.
  The review starts when the final report is submitted.
- A missed deadline with no ladder of its own in §4.4 re-pushes to the same people (orange
  acknowledgement at 4 working hours) or to the reviewers (every review step).
- "Report overdue" covers the red and orange initial feedback too: the same inspection office
  gets a 督办 (supervision notice); only the red *final* report is also flagged for 约谈.
- "Second overdue" (orange report) and "then" (yellow) come half the original period after the
  due time: the same grace §4.4 gives a returned report.
- Yellow review ("unit supervisor"): 5 working days, as orange's.
- Half a working day (a returned 5-day report gets 2.5) is half of the unit's working hours on
  the working day it falls in, counted in working hours after the whole days: with the default
  hours, 2.5 working days from Monday 10:00 end on Thursday 13:30.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, get_args

from auditcage import clock
from auditcage.calendar import MAX_SEARCH_DAYS, Unit, WorkCalendar
from auditcage.errors import ConfigError
from notifications.lifecycle_models import Step

UNITS: tuple[str, ...] = get_args(Unit)
# Words routing.yaml may use for a unit, mapped to the calendar's unit and a factor.
UNIT_WORDS: Mapping[str, tuple[Unit, float]] = {
    **{unit: (unit, 1.0) for unit in UNITS},  # type: ignore[misc]
    "minutes": ("hours", 1 / 60),
    "working_day": ("working_days", 1.0),
    "calendar_day": ("calendar_days", 1.0),
    "hour": ("hours", 1.0),
    "working_hour": ("working_hours", 1.0),
}


class Target(StrEnum):
    """Roles an escalation goes to; routing turns them into people for the alert's unit."""

    SAME_RECIPIENTS = "same_recipients"
    REVIEWERS = "reviewers"
    BRIGADE_HEAD = "brigade_head"  # 大队长
    DETACHMENT_HEAD = "detachment_head"  # 支队长
    DETACHMENT_INSPECTION = "detachment_inspection"  # 支队督察
    DETACHMENT_SUPERVISION_OFFICE = "detachment_supervision_office"  # 支队业务监管室
    PROVINCE_LEADERSHIP = "province_leadership"  # 总队 leadership in charge
    PROVINCE_INSPECTION = "province_inspection"  # 总队督察
    PROVINCE_SUPERVISION_OFFICE = "province_supervision_office"  # 总队 supervision office


class ActionKind(StrEnum):
    RE_PUSH = "re_push"
    ESCALATE = "escalate"
    SUPERVISION_NOTICE = "supervision_notice"  # 督办
    FLAG_FORMAL_TALK = "flag_formal_talk"  # 约谈


class Anchor(StrEnum):
    DUE = "due"  # `after` counts from the due time
    START = "start"  # `after` counts from when the step began (red: "at 2 h" after the push)


@dataclass(frozen=True)
class Period:
    amount: float
    unit: Unit

    def half(self) -> Period:
        return Period(self.amount / 2, self.unit)

    def __str__(self) -> str:
        return f"{self.amount:g} {self.unit}"

    @classmethod
    def parse(cls, value: Any, where: str) -> Period:
        """ "30 minutes", "4 working_hours", "5 working_days" or {amount, unit}."""
        if isinstance(value, Mapping):
            amount, word = value.get("amount"), value.get("unit")
        elif isinstance(value, str) and len(value.split()) == 2:
            amount, word = value.split()
        else:
            raise ConfigError(f"{where}: {value!r} is not a period such as '5 working_days'")
        if word not in UNIT_WORDS:
            raise ConfigError(f"{where}: unknown unit {word!r}; use one of {sorted(UNIT_WORDS)}")
        try:
            number = float(amount)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: {amount!r} is not a number") from None
        if number < 0 or not math.isfinite(number):
            raise ConfigError(f"{where}: a period cannot be {number}")
        unit, factor = UNIT_WORDS[word]
        return cls(number * factor, unit)


AT_DUE = Period(0, "hours")


@dataclass(frozen=True)
class EscalationStep:
    """One rung of a ladder: what happens, to whom, and when (never before the due time)."""

    kind: ActionKind
    targets: tuple[Target, ...]
    after: Period = AT_DUE
    anchor: Anchor = Anchor.DUE
    channels: tuple[str, ...] = ()  # empty: the routing policy's channels for the targets


Ladder = tuple[EscalationStep, ...]


@dataclass(frozen=True)
class SeverityPolicy:
    """The periods of one severity (None: no such deadline) and a ladder per step."""

    acknowledge: Period | None = None
    initial_feedback: Period | None = None
    final_report: Period | None = None
    review: Period | None = None
    escalation: Mapping[Step, Ladder] = field(default_factory=dict)

    def period(self, step: Step) -> Period | None:
        return getattr(self, step.value)

    def ladder(self, step: Step) -> Ladder:
        return self.escalation.get(step, ())


def _step(kind: ActionKind, *targets: Target, **options: Any) -> EscalationStep:
    return EscalationStep(kind, targets, **options)


_REMIND_REVIEWERS: Ladder = (_step(ActionKind.RE_PUSH, Target.REVIEWERS),)

# catalogue §4.4 defaults; overridable in routing.yaml (`deadlines:`)
RED = SeverityPolicy(
    acknowledge=Period(0.5, "hours"),  # 30 min, wall clock, 24×7
    initial_feedback=Period(24, "hours"),
    final_report=Period(5, "working_days"),
    review=Period(3, "working_days"),  # 支队督察
    escalation={
        Step.ACKNOWLEDGE: (
            _step(ActionKind.RE_PUSH, Target.SAME_RECIPIENTS, channels=("sms", "phone_task")),
            _step(
                ActionKind.ESCALATE,
                Target.PROVINCE_LEADERSHIP,
                Target.PROVINCE_INSPECTION,
                after=Period(2, "hours"),
                anchor=Anchor.START,
            ),
        ),
        Step.INITIAL_FEEDBACK: (_step(ActionKind.SUPERVISION_NOTICE, Target.PROVINCE_INSPECTION),),
        Step.FINAL_REPORT: (
            _step(ActionKind.SUPERVISION_NOTICE, Target.PROVINCE_INSPECTION),
            _step(ActionKind.FLAG_FORMAL_TALK, Target.PROVINCE_INSPECTION),
        ),
        Step.REVIEW: _REMIND_REVIEWERS,
    },
)
ORANGE = SeverityPolicy(
    acknowledge=Period(4, "working_hours"),
    initial_feedback=Period(2, "working_days"),
    final_report=Period(10, "working_days"),
    review=Period(5, "working_days"),  # 支队业务监管室
    escalation={
        Step.ACKNOWLEDGE: (
            _step(ActionKind.RE_PUSH, Target.SAME_RECIPIENTS),
            _step(
                ActionKind.ESCALATE,
                Target.DETACHMENT_HEAD,
                after=Period(1, "working_days"),
                anchor=Anchor.START,
            ),
        ),
        Step.INITIAL_FEEDBACK: (
            _step(ActionKind.SUPERVISION_NOTICE, Target.DETACHMENT_INSPECTION),
        ),
        Step.FINAL_REPORT: (
            _step(ActionKind.SUPERVISION_NOTICE, Target.DETACHMENT_INSPECTION),
            _step(
                ActionKind.SUPERVISION_NOTICE,
                Target.PROVINCE_SUPERVISION_OFFICE,
                after=Period(5, "working_days"),
            ),
        ),
        Step.REVIEW: _REMIND_REVIEWERS,
    },
)
YELLOW = SeverityPolicy(
    acknowledge=Period(1, "working_days"),
    final_report=Period(10, "working_days"),
    review=Period(5, "working_days"),  # unit supervisor; §4.4 gives no figure
    escalation={
        Step.ACKNOWLEDGE: (
            _step(ActionKind.ESCALATE, Target.BRIGADE_HEAD),
            _step(
                ActionKind.SUPERVISION_NOTICE,
                Target.DETACHMENT_SUPERVISION_OFFICE,
                after=Period(0.5, "working_days"),
            ),
        ),
        Step.FINAL_REPORT: (
            _step(ActionKind.ESCALATE, Target.BRIGADE_HEAD),
            _step(
                ActionKind.SUPERVISION_NOTICE,
                Target.DETACHMENT_SUPERVISION_OFFICE,
                after=Period(5, "working_days"),
            ),
        ),
        Step.REVIEW: _REMIND_REVIEWERS,
    },
)
BLUE = SeverityPolicy()  # not pushed; an inspector may assign it, and then it runs as yellow

SEVERITIES = ("red", "orange", "yellow", "blue")
PERIOD_KEYS = tuple(step.value for step in Step)


@dataclass(frozen=True)
class DeadlinePolicy:
    red: SeverityPolicy = RED
    orange: SeverityPolicy = ORANGE
    yellow: SeverityPolicy = YELLOW
    blue: SeverityPolicy = BLUE

    def of(self, severity: str) -> SeverityPolicy:
        if severity not in SEVERITIES:
            raise ValueError(f"unknown severity {severity!r}")
        return getattr(self, severity)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any] | None) -> DeadlinePolicy:
        """The §4.4 defaults with routing.yaml's `deadlines:` section laid over them.

        A severity lists the periods it changes (`null` removes a deadline) and, under
        `escalation:`, whole ladders per step. Unknown keys are refused, not ignored.
        """
        policy = cls()
        for severity, section in (mapping or {}).items():
            where = f"deadlines.{severity}"
            if severity not in SEVERITIES:
                raise ConfigError(f"{where}: unknown severity; use one of {list(SEVERITIES)}")
            if not isinstance(section, Mapping):
                raise ConfigError(f"{where}: expected a mapping")
            merged = _merge_severity(policy.of(severity), section, where)
            policy = replace(policy, **{severity: merged})
        return policy


DEFAULT_POLICY = DeadlinePolicy()


def _merge_severity(base: SeverityPolicy, section: Mapping[str, Any], where: str) -> SeverityPolicy:
    unknown = set(section) - {*PERIOD_KEYS, "escalation"}
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}")
    changes: dict[str, Any] = {
        key: None if value is None else Period.parse(value, f"{where}.{key}")
        for key, value in section.items()
        if key in PERIOD_KEYS
    }
    ladders = dict(base.escalation)
    for step, rungs in (section.get("escalation") or {}).items():
        if step not in PERIOD_KEYS:
            raise ConfigError(f"{where}.escalation: unknown step {step!r}")
        ladders[Step(step)] = tuple(
            _parse_rung(rung, f"{where}.escalation.{step}[{i}]") for i, rung in enumerate(rungs)
        )
    return replace(base, **changes, escalation=ladders)


def _parse_rung(rung: Any, where: str) -> EscalationStep:
    if not isinstance(rung, Mapping):
        raise ConfigError(f"{where}: expected a mapping with kind and targets")
    unknown = set(rung) - {"kind", "targets", "after", "from", "channels"}
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}")
    try:
        return EscalationStep(
            kind=ActionKind(rung.get("kind")),
            targets=tuple(Target(t) for t in rung.get("targets") or ()),
            after=Period.parse(rung["after"], f"{where}.after") if "after" in rung else AT_DUE,
            anchor=Anchor(rung.get("from", "due")),
            channels=tuple(str(c) for c in rung.get("channels") or ()),
        )
    except ValueError as exc:  # an enum refused a value
        raise ConfigError(f"{where}: {exc}") from None


# --- applying periods with the calendar -------------------------------------------------------

UnitHours = Callable[[str], tuple[Any, str | None]]


def default_hours(unit_code: str) -> tuple[Any, str | None]:
    """(service_hours, calendar_id) of a unit: unknown here, so the §0.5 item 8 defaults."""
    return None, None


@dataclass(frozen=True)
class Timekeeper:
    """Turns periods into due times in the working hours of the alert's unit.

    `unit_hours` gives a unit's (service_hours, calendar_id), e.g. from its R1 row via
    `auditcage.calendar.unit_hours`; the default is the default hours and calendar.
    """

    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    unit_hours: UnitHours = default_hours

    def due(self, start: datetime, period: Period, unit_code: str) -> datetime:
        service_hours, calendar_id = self.unit_hours(unit_code)
        options = {"calendar_id": calendar_id, "service_hours": service_hours}
        if period.unit in ("hours", "working_hours"):
            return self.calendar.deadline(start, period.amount, period.unit, **options)
        # The calendar skips the start day because it is partial (民法典 第201条); a period that
        # begins at 00:00 (a rung counted from a due time) has that whole day.
        day_start = start - timedelta(microseconds=1) if _is_midnight(start) else start
        whole = math.floor(period.amount)
        fraction = period.amount - whole
        if not fraction:
            return self.calendar.deadline(day_start, whole, period.unit, **options)
        base = self.calendar.deadline(day_start, whole, period.unit, **options) if whole else start
        if period.unit == "calendar_days":
            return clock.to_shanghai(base) + timedelta(days=fraction)
        day_hours = self._working_day_hours(base, service_hours, calendar_id)
        return self.calendar.deadline(base, fraction * day_hours, "working_hours", **options)

    def _working_day_hours(
        self, at: datetime, service_hours: Any, calendar_id: str | None
    ) -> float:
        """Length of the working day a fractional day falls in: the first one from `at` on."""
        day = clock.to_shanghai(at).date()
        for _ in range(MAX_SEARCH_DAYS):
            if self.calendar.is_workday(day, calendar_id):
                minutes = self.calendar.service_minutes(service_hours, day, calendar_id)
                if minutes:
                    return sum(end - start for start, end in minutes) / 60
            day += timedelta(days=1)
        raise ValueError(f"no working day within {MAX_SEARCH_DAYS} days of {at.isoformat()}")

    def rung_at(
        self, rung: EscalationStep, *, started_at: datetime, due_at: datetime, unit_code: str
    ) -> datetime:
        """When a rung is reached; a rung is never reached before the deadline is missed."""
        anchor = started_at if rung.anchor is Anchor.START else due_at
        return max(self.due(anchor, rung.after, unit_code), due_at)


def _is_midnight(at: datetime) -> bool:
    local = clock.to_shanghai(at)
    return (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0)
