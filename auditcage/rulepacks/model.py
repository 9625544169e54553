"""Rules as frozen values: what a rule pack file says, after validation.

The conditions are kept as text here; `rulepacks.check` turns them into checked trees and the
engine compiles those. A rule never carries code.
"""

from __future__ import annotations

import dataclasses
import functools
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
    LEDGER = "ledger"  # J over a reference ledger: rows judged in the sweeper, no record fires


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
    """A band raising the severity when a condition also holds ("R if …").

    Event, sequence, rate and ledger rules write `when` (over the record, the pair, the
    statistics or the row). Windowed rules (count, distinct, sum) write `any`: the band holds
    when at least one record counted in the firing's window meets the condition, so
    `when` is empty there and `scope` is "any".
    """

    when: str
    severity: Severity
    scope: str = "when"  # when | any (windowed rules: some record in the window meets it)


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
class WithHits:
    """Other rules' hits a rate rule's groups are compared with (`with_hits`): a group's
    `with_hits` figure is the number of distinct hit keys of `rules` (ids, or id#sub) equal to
    `path=value` for a `keys` path of one of the group's records, among the hits whose `at` lies
    in (period start − `within`, period end]."""

    rules: tuple[str, ...]
    keys: tuple[str, ...]
    within: timedelta


@dataclass(frozen=True)
class RateSpec:
    """What a rate rule (kind R, catalogue §0.3) computes at the close of each period.

    Per `period` (day | week | month | quarter, calendar periods in Asia/Shanghai, weeks ISO
    from Monday; or rolling_30d: the 30 calendar days ending with each day, closed daily) the
    population is the records whose `when` holds (exemptions applied). They are grouped by the
    values of the `group` paths (a list path explodes: one group per element; a null part
    forms no group). `n` counts the group's distinct `count_by` values (serial_no by default,
    §0.2 item 3; record_id counts records), `count` those with a record meeting `numerator`,
    `rate` = count / n. Groups with n < `n_min` produce no hit (or, with below_n_min=blue, a
    blue statistical finding, §0.4). Peers are the *other* groups with n ≥ n_min of the same
    `peers` key (a group's peer key: the most frequent one among its records); their
    statistics are over `compare` (rate | count | n). `fires_when` and each `severity_when`
    are conditions over the statistics (engine.rates.STATISTICS); `consecutive` (the number
    of periods in a row, this one included and at most lookback + 1, in which the group
    fired) only in severity_when. `totals` names the population of a coarser group (a subset
    of the group paths): `<name>` is its n and `share_<name>` = n / `<name>`.
    `population_totals` are the same over the whole population, records that form no group
    included (an operator's items with and without an agent, when the group is the pair of
    operator and agent). `staff_key`
    (one of the group paths) names the staff member a hit is about: its unit is the hit's
    unit_code (R2 as of the hit's `at`, §0.5 item 5), else the root of R1. `subsets` name
    sub-populations (a condition each): `<name>_n`, `<name>_count`, `<name>_rate`. `mode_of`
    (a path) gives `mode_n`, the items carrying its most frequent value, and `mode_share`.
    `history` previous periods of the group's own `value` give history_median, history_mean,
    history_max and history_periods (the periods known to the group: from its first appearance
    within the history on, where a period without it counts 0 for n and count); `history_days:
    working` makes a day period's history skip rest days, `active` takes the group's own previous
    periods with records. `group_values` name expressions over one record (e.g. a reference
    value of the group such as a venue's capacity): `<name>` is their largest number in the
    group. `with_hits` (WithHits) gives `with_hits`: how many hits of other rules are on the
    keys of the group's records (STF-07: a spike that coincides with VIO-04 or VEH-11 keys).
    """

    group: tuple[str, ...]
    period: str  # day | week | month | quarter | rolling_30d
    n_min: int
    fires_when: str
    numerator: str | None = None
    peers: tuple[str, ...] = ()
    compare: str = "rate"  # rate | count | n: what peer statistics are over
    count_by: str = "serial_no"  # serial_no | record_id
    lookback: int = 1  # previous periods kept for consecutive / previous_*
    totals: tuple[tuple[str, tuple[str, ...]], ...] = ()
    population_totals: tuple[tuple[str, tuple[str, ...]], ...] = ()
    staff_key: str | None = None
    below_n_min: str = "quiet"  # quiet | blue
    subsets: tuple[tuple[str, str], ...] = ()
    mode_of: str | None = None
    history: int = 0
    history_days: str = "all"  # all | working | active
    group_values: tuple[tuple[str, str], ...] = ()  # name → expression over one record
    with_hits: WithHits | None = None


@dataclass(frozen=True)
class LedgerSpec:
    """What a ledger rule judges (catalogue §0.5 item 5: hits without a triggering record).

    Each row of the R13 (or other) reference `dataset` whose `at` field is set is judged once,
    in the sweeper, when `at` ≤ the sweep's as_of (+ `grace`). `when` and `severity_when` are
    over the row's fields by name plus `linked_n` — how many records seen carried the row's
    `link_row` value in their `link_record` path (e.g. a clip id in bodycam_refs) and meet
    `link_when` — and
    `alerted_n`, how many of those records are in a hit. The hit's key is "<dataset>.<key>=…"
    (each of `more_keys` adds ";<dataset>.<field>=…"), its records the linked ones, its unit the
    R2 unit of the `staff` field's member as of `at`, else the row's unit_code, else the root of
    R1. With `link_within`, only records whose action_time is within ±link_within of `at` count
    (a release near a lot exit); the evidence then runs from `link_since` (a row field, else
    `at`) − link_within to `at` + link_within. With `link_range` (a number range of the row),
    the records whose value lies in the range and whose action_time is not after the judging
    instant (`at` + `grace`) count: `range_n` numbers in the range, `used_n` of them carried by
    a counted record, `unused_n` = range_n − used_n, and `gap_n` the unused ones below the
    highest used number (a skipped form).
    """

    dataset: str
    at: str
    key: str
    staff: str | None = None
    link_record: str | None = None
    link_row: str | None = None
    link_when: str | None = None  # which records count as links (a condition over the record)
    grace: timedelta = timedelta(0)
    more_keys: tuple[str, ...] = ()  # further row fields of a composite key (a row without id)
    # link_within: only records within ±this of the row's `at` count (their action_time);
    # link_since: a row field from which (− link_within) the hit's evidence records start.
    link_within: timedelta | None = None
    link_since: str | None = None
    # link_range: the row's (from, to) fields, inclusive same-length digit strings such as a
    # document-stock number range: a record links when its link_record value is in the range.
    link_range: tuple[str, str] | None = None


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
    key_where: str | None = None  # a condition over `item`, an element of the key's list
    key_near: int | None = None  # windowed kinds: 64-bit hex hashes within this many bits
    reset_when: str | None = None  # windowed kinds: a counted record meeting it empties the window
    field: str | None = None  # distinct: the counted field; sum: the summed field
    window: timedelta | None = None
    first: str | None = None  # sequence: the A filter
    within: timedelta | None = None  # sequence: T
    same: tuple[str, ...] = ()  # sequence: fields that must be equal on A and B besides the key
    match: str | None = None  # sequence: a condition over B and A (first.) the pair must meet
    # sequence: a record of the key meeting it in [A.time, B.time) cancels the pair (A, B)
    between: str | None = None
    deadline_from: str | None = None  # absence: the field giving the start (default action_time)
    # absence: how long the records of a key are kept for a step made before its arming record
    # (None: the engine's default, evaluator.SEEN_HORIZON)
    look_back: timedelta | None = None
    # absence: the paths of the expected step that equal `key` of the arming record (a decide's
    # serial_no for a release's related_serial_no); empty: the same paths as key
    step_key: tuple[str, ...] = ()
    period: Period | None = None  # absence: how long until due
    expect: str | None = None  # absence: the condition a later record of the key meets
    done_at: str | None = None  # absence: expression giving when the expected step happened
    rate: RateSpec | None = None  # rate: group, period, numerator, peers, fires_when …
    ledger: LedgerSpec | None = None  # ledger: dataset, the row's time, key, link to records
    message: Text = Text("", "")
    description: str = ""
    tags: tuple[str, ...] = ()
    parameters: dict[str, Any] = dataclasses.field(default_factory=dict)
    examples: tuple[Example, ...] = ()
    lines: dict[str, int] = dataclasses.field(default_factory=dict, compare=False)  # key → line

    @functools.cached_property
    def label(self) -> str:
        return f"{self.id}({self.sub})" if self.sub else self.id

    @functools.cached_property
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
