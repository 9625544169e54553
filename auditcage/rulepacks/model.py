"""Rules as frozen values: what a rule pack file says, after validation.

The conditions are kept as text here; `rulepacks.check` turns them into checked trees and the
engine compiles those. A rule never carries code.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from auditcage.rulepacks.loader import RuleSource


class Kind(StrEnum):
    """How a rule is evaluated (catalogue §0.3)."""

    EVENT = "event"  # P/J: one record, its reference data
    COUNT = "count"  # C: distinct serial_no per key in a window
    DISTINCT = "distinct"  # D: distinct values of a field per key in a window
    SUM = "sum"  # S: sum of a field per key in a window
    SEQUENCE = "sequence"  # Q: A then B within T, same key
    ABSENCE = "absence"  # A: an expected step missing by a deadline
    RATE = "rate"  # R: a rate per group over a closed period


class Status(StrEnum):
    DRAFT = "draft"
    TESTING = "testing"  # shadow mode: hits recorded, never pushed
    ACTIVE = "active"
    RETIRED = "retired"


class Severity(StrEnum):
    RED = "red"
    ORANGE = "orange"
    YELLOW = "yellow"
    BLUE = "blue"

    @property
    def rank(self) -> int:
        """1 = red (highest) … 4 = blue, as in catalogue §0.4."""
        return {"red": 1, "orange": 2, "yellow": 3, "blue": 4}[self.value]


class Aspect(StrEnum):
    ORDER = "ORDER"
    DEADLINE = "DEADLINE"
    ROLE = "ROLE"
    SOD = "SOD"
    EVIDENCE = "EVIDENCE"
    CONTENT = "CONTENT"


@dataclass(frozen=True)
class Text:
    zh: str
    en: str


@dataclass(frozen=True)
class Exemption:
    when: str
    reason: str
    source: RuleSource


@dataclass(frozen=True)
class SeverityWhen:
    """An event rule's band: this severity when the condition also holds ("R if …")."""

    when: str
    severity: Severity


@dataclass(frozen=True)
class Band:
    """A windowed rule's band: this severity once the value reaches `at_least`."""

    at_least: float
    severity: Severity


@dataclass(frozen=True)
class Period:
    amount: int
    unit: str  # working_days | calendar_days | hours | working_hours


@dataclass(frozen=True)
class Example:
    label: str  # "VIO-04-fires-1"
    should_fire: bool
    records: tuple[dict[str, Any], ...]  # raw records (pack defaults merged), in arrival order
    reference: dict[str, list[dict[str, Any]]]
    as_of: str | None
    expect: tuple[dict[str, Any], ...]  # expected hits (rule_id, sub, severity, key) if given
    note: str
    source: RuleSource


@dataclass(frozen=True)
class Rule:
    id: str  # catalogue id, e.g. "VIO-04"
    sub: str | None  # sub-clause "a", "b"… (§0.5 item 3)
    name: Text
    kind: Kind
    catalogue_kind: str  # the letters of §0.3 written on hits (`kind` of §7.3)
    status: Status
    severity: Severity
    pack: str
    source: RuleSource
    when: str  # the filter (event: the predicate; sequence: B; absence: the arming record)
    unless: tuple[Exemption, ...] = ()
    severity_when: tuple[SeverityWhen, ...] = ()
    bands: tuple[Band, ...] = ()
    aspect: Aspect | None = None
    key: tuple[str, ...] = ()  # field paths; "serial_no" for per-item checkpoints
    field: str | None = None  # distinct: the counted field; sum: the summed field
    window: timedelta | None = None
    first: str | None = None  # sequence: the A filter
    within: timedelta | None = None  # sequence: T
    same: tuple[str, ...] = ()  # sequence: fields that must be equal on A and B besides the key
    deadline_from: str | None = None  # absence: the field giving the start (default action_time)
    period: Period | None = None  # absence: how long until due
    expect: str | None = None  # absence: the condition a later record of the key meets
    done_at: str | None = None  # absence: expression giving when the expected step happened
    message: Text = Text("", "")
    description: str = ""
    tags: tuple[str, ...] = ()
    parameters: dict[str, Any] = dataclasses.field(default_factory=dict)
    examples: tuple[Example, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.id}({self.sub})" if self.sub else self.id

    @property
    def uid(self) -> str:
        """Unique within all packs: "VIO-04#a" (cooldowns and upgrades are per id and sub)."""
        return f"{self.id}#{self.sub}" if self.sub else self.id


@dataclass(frozen=True)
class RulePack:
    name: str  # directory name: vehicle, licence, accident, violation, staff, checkpoints
    title: Text
    rules: tuple[Rule, ...]
    source: RuleSource


@dataclass(frozen=True)
class RuleSet:
    """Every pack and named list of a rules directory, as one published unit."""

    packs: tuple[RulePack, ...]
    lists: dict[str, tuple[str, ...]]
    digest: str  # sha256 of the source files: the identity of a version

    @property
    def rules(self) -> tuple[Rule, ...]:
        return tuple(rule for pack in self.packs for rule in pack.rules)
