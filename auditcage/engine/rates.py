"""Rate rules (catalogue kind R, §0.3): statistics per group over closed periods.

Collecting. `Evaluator.process` hands every record whose population filter (`when`, exemptions
applied) holds to `RateBook.add`, which keeps one compact row per record and period — time,
record_id, serial_no, the numerator's truth, the record's groups (a list path explodes into one
group per element; a null part forms none, §0.2 item 5) and its peer key — never the record.

Periods. day, week (ISO, from Monday 00:00), month and quarter are calendar periods in
Asia/Shanghai; a record belongs to the period containing its `action_time` (23:59:59 on the
last day is inside, 00:00 of the next day is not). rolling_30d is evaluated daily: the period of
day d is the 30 calendar days d − 29 … d. A period closes once its end (the first instant after
it) is ≤ the sweep's `as_of` (`Evaluator.sweep`, replay `--as-of`), or as soon as records two
periods later arrive (bounding memory in long replays). Hits are the same either way.

Statistics (the names `fires_when` and `severity_when` may use, all numbers, null when
undefined; every fraction rounded to 9 decimals so that boundaries such as "exactly +20 pp" are
exact):

  n, count, rate        distinct `count_by` values of the group; those with a record meeting the
                        numerator; count / n
  value                 the statistic peers are compared on (`compare`: rate | count | n)
  peer_n                the peers: other groups of the same peer key with n ≥ n_min (leave-one-
                        out: a group is never its own peer)
  peer_median, peer_mean, peer_std (sample, ddof 1), peer_p99 (linear), peer_min, peer_max
  z                     (value − peer_mean) / peer_std; null if peer_std is null or 0
  diff_median, diff_mean  value − peer_median, value − peer_mean
  ratio_median          value / peer_median (null when the median is 0)
  previous_n, previous_count, previous_rate, diff_previous   the same group, previous period
  <total>, share_<total>  n of a coarser group (`totals`) and n / it; `population_totals` count
                        the records that form no group too (see RateSpec)
  <subset>_n, <subset>_count, <subset>_rate   the same over a sub-population (`subsets`)
  mode_n, mode_share    items carrying the most frequent value of `mode_of`, and mode_n / n
  history_median, history_mean, history_max, history_periods   the group's own value over
                        the `history` previous periods that are known (see RateSpec)
  with_hits             hits of the `with_hits` rules on a key of the group's records, at in
                        the period or up to `within` before it (see RateSpec)
  consecutive           severity_when only: periods in a row, this one included, in which the
                        group fired (fires_when held with n ≥ n_min), at most lookback + 1

Groups below n_min produce no hit. With `below_n_min: blue` they are still judged (against the
peers that meet n_min) and a firing one is a blue statistical finding (§0.4), never counted
towards `consecutive`.

Hits. kind = the rule's catalogue kind, key = the group ("path=value;…"), at = the end of the
period (first instant after it, §0.5 item 5), anchor = "period:<label>" (2026-10, 2026-W43,
2026-Q4, 2026-10-31), so ids are a pure function of rule, group, period and severity. unit_code
is the R2 unit (as of `at`) of the `staff_key` member, else the root of R1. serials and
record_ids are the group's evidence in time order, each capped at EVIDENCE_CAP (the totals are
in `detail`). A rolling_30d group that keeps firing day after day is reported on the first day
and again only when its severity rises.

Late records. A record of a closed calendar period re-opens it while its rows are kept (until
the next period closes): the next close recomputes it, emits the hits that are new (late_data)
and marks the ones no longer valid as superseded; older records are dropped (`dropped`). A late
record of a rolling window counts in the windows still to be closed only.

Restarts. A worker rebuilding state from stored records sets `complete_from` to where its
re-read starts: a period whose statistics or history reach before it is computed as history
only, never emitted. `horizon()` covers the open period, the previous one and its history.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import product
from typing import Any, NamedTuple

import pandas as pd

from auditcage import clock
from auditcage.engine.compile_python import Env, compile_python
from auditcage.engine.hits import HitDraft, hit_id
from auditcage.engine.messages import render
from auditcage.engine.rate_stats import PEER_NAMES, GroupStatistics, group_statistics
from auditcage.rulepacks.check import CheckError, check
from auditcage.rulepacks.fields import NUMBER, FieldInfo
from auditcage.rulepacks.functions import EvalContext
from auditcage.rulepacks.model import RateSpec, Rule, Severity, Status

EVIDENCE_CAP = 200
ROLLING_DAYS = 30
BASE_STATISTICS = (
    "n",
    "count",
    "rate",
    "value",
    *PEER_NAMES,
    "z",
    "diff_median",
    "diff_mean",
    "ratio_median",
    "previous_n",
    "previous_count",
    "previous_rate",
    "diff_previous",
)
SEVERITY_ONLY = ("consecutive",)
_MAX_LENGTH = {
    "day": timedelta(days=1),
    "week": timedelta(days=7),
    "month": timedelta(days=31),
    "quarter": timedelta(days=92),
    "rolling_30d": timedelta(days=1),
}
_RANK = {s.value: s.rank for s in Severity}


def statistics(spec: RateSpec, *, severity: bool = False) -> list[str]:
    """The names an expression of this rule may use (fires_when; severity_when adds more)."""
    names = list(BASE_STATISTICS)
    for name, _ in (*spec.totals, *spec.population_totals):
        names += [name, f"share_{name}"]
    for name, _ in spec.subsets:
        names += [f"{name}_n", f"{name}_count", f"{name}_rate"]
    if spec.mode_of:
        names += ["mode_n", "mode_share"]
    if spec.history:
        names += ["history_median", "history_mean", "history_max", "history_periods"]
    names += [name for name, _ in spec.group_values]
    names += ["with_hits"] if spec.with_hits is not None else []
    return names + (list(SEVERITY_ONLY) if severity else [])


# --- periods ------------------------------------------------------------------------------------


def period_start(at: datetime, period: str) -> datetime:
    """The start (Asia/Shanghai) of the period containing `at` (rolling_30d: its day)."""
    d = clock.to_shanghai(at).date()
    if period == "week":
        d -= timedelta(days=d.weekday())
    elif period == "month":
        d = d.replace(day=1)
    elif period == "quarter":
        d = date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)
    return datetime.combine(d, time(), tzinfo=clock.SHANGHAI)


def period_end(start: datetime, period: str) -> datetime:
    """The first instant after the period that starts at `start`."""
    d = start.date()
    if period == "week":
        d += timedelta(days=7)
    elif period in ("month", "quarter"):
        months = d.month - 1 + (1 if period == "month" else 3)
        d = date(d.year + months // 12, months % 12 + 1, 1)
    else:
        d += timedelta(days=1)
    return datetime.combine(d, time(), tzinfo=clock.SHANGHAI)


@functools.lru_cache(maxsize=1 << 16)  # pure, and asked again for every close and prune
def previous_start(start: datetime, period: str) -> datetime:
    return period_start(start - timedelta(microseconds=1), period)


@functools.lru_cache(maxsize=1 << 14)
def periods_back(start: datetime, period: str, count: int) -> datetime:
    """The start of the period `count` periods before the one starting at `start`."""
    for _ in range(count):
        start = previous_start(start, period)
    return start


def window_start(start: datetime, period: str) -> datetime:
    """Where the rows of a period begin (rolling_30d: 29 days before its day)."""
    if period == "rolling_30d":
        return start - timedelta(days=ROLLING_DAYS - 1)
    return start


def period_label(start: datetime, period: str) -> str:
    d = start.date()
    if period == "week":
        year, week, _ = d.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return d.strftime("%Y-%m")
    if period == "quarter":
        return f"{d.year}-Q{(d.month - 1) // 3 + 1}"
    return d.isoformat()


def horizon(rule: Rule) -> timedelta:
    """How far back a restarted worker must re-read for this rule's open and previous period
    (and the history they need) to be exact."""
    spec = rule.rate
    assert spec is not None
    if spec.period == "rolling_30d":
        return timedelta(days=ROLLING_DAYS + spec.lookback + 3)
    back = max(spec.lookback, _history_span(spec))
    return _MAX_LENGTH[spec.period] * (back + 3) + timedelta(days=1)


def _history_span(spec: RateSpec) -> int:
    """Periods a history of working days can reach back (rest days included), generously."""
    if spec.history_days == "working":
        return spec.history * 7 // 5 + 15  # a Golden Week and a Spring Festival
    if spec.history_days == "active":
        return spec.history * 3  # periods without the group are skipped, within reason
    return spec.history


def cooldown(rule: Rule) -> timedelta:
    """Hits of one group this close are one alert (consecutive periods: the upgrade)."""
    spec = rule.rate
    assert spec is not None
    if spec.period == "rolling_30d":
        return timedelta(days=ROLLING_DAYS)
    return _MAX_LENGTH[spec.period] * 2


# --- compiling ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RateProgram:
    spec: RateSpec
    numerator: Callable[[Env], bool] | None
    subsets: tuple[Callable[[Env], bool], ...]
    values: tuple[Callable[[Env], Any], ...]
    fires: Callable[[Env], bool]  # over the statistics of one group (see _close)
    severities: tuple[tuple[Callable[[Env], bool], Severity], ...]


def compile_rate(rule: Rule, lists: Mapping[str, Sequence[str]]) -> RateProgram:
    """Raises CheckError with `.rule_field` naming the field (numerator, fires_when, …)."""
    spec = rule.rate
    assert spec is not None
    named = {name: list(items) for name, items in lists.items()}

    def over_statistics(text: str, where: str, *, severity: bool) -> Callable[[Env], bool]:
        names = {
            n: FieldInfo(n, NUMBER, source="computed") for n in statistics(spec, severity=severity)
        }
        try:
            return compile_python(check(text, lists=named, names=names))
        except CheckError as error:
            error.rule_field = where  # type: ignore[attr-defined]
            raise

    def value_of(text: str, where: str) -> Callable[[Env], Any]:
        from auditcage.engine.compile_python import PyCompiler

        try:
            checked = check(text, lists=named, condition=False)
        except CheckError as error:
            error.rule_field = where  # type: ignore[attr-defined]
            raise
        return PyCompiler(checked).value(checked.node)

    def over_record(text: str, where: str) -> Callable[[Env], bool]:
        try:
            return compile_python(check(text, lists=named))
        except CheckError as error:
            error.rule_field = where  # type: ignore[attr-defined]
            raise

    return RateProgram(
        spec=spec,
        numerator=over_record(spec.numerator, "numerator") if spec.numerator else None,
        subsets=tuple(over_record(text, f"subsets.{name}") for name, text in spec.subsets),
        values=tuple(value_of(text, f"group_values.{name}") for name, text in spec.group_values),
        fires=over_statistics(spec.fires_when, "fires_when", severity=False),
        severities=tuple(
            (over_statistics(s.when, "severity_when", severity=True), s.severity)
            for s in rule.severity_when
        ),
    )


# --- state --------------------------------------------------------------------------------------


def _hit_keys(
    record: Mapping[str, Any], derived: Mapping[str, Any], spec: RateSpec
) -> tuple[str, ...]:
    """The record's "path=value" keys on the `with_hits` paths, as the other rules key hits."""
    if spec.with_hits is None:
        return ()
    from auditcage.engine.compiled import key_values

    return tuple(k for path in spec.with_hits.keys for k in key_values(record, derived, (path,)))


class _Row(NamedTuple):
    time: datetime
    record_id: str
    serial_no: str
    numerator: bool
    groups: tuple[tuple[str, ...], ...]  # the "path=value" parts of each group of the record
    peer: str | None
    subsets: tuple[bool, ...] = ()
    modes: tuple[str, ...] = ()  # the record's values of `mode_of`
    values: tuple[Any, ...] = ()  # the record's `group_values`
    population: tuple[tuple[tuple[str, ...], ...], ...] = ()  # its parts per population total
    hit_keys: tuple[str, ...] = ()  # "path=value" of its `with_hits` paths


@dataclass
class _Period:
    start: datetime
    end: datetime
    rows: list[_Row] = field(default_factory=list)
    closed: bool = False
    dirty: bool = False  # a row arrived after it closed
    emitted: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class _Outcome:
    """What later periods need of a group's period: previous_*, consecutive, severity."""

    n: float
    count: float
    rate: float | None
    fired: bool
    severity: str | None


def group_parts(
    record: Mapping[str, Any], derived: Mapping[str, Any], paths: Sequence[str]
) -> tuple[tuple[str, ...], ...]:
    """Every group of a record: the product of each path's values (list paths explode)."""
    from auditcage.engine.compiled import key_values

    choices = []
    for path in paths:
        values = key_values(record, derived, (path,))
        if not values:
            return ()
        choices.append(values)
    return tuple(product(*choices))


class RateBook:
    """The rows of every open period of every rate rule, and what closing them found."""

    def __init__(self, rules: Iterable[Any], ctx: EvalContext, superseded: set[str]) -> None:
        self.rules = {r.uid: r for r in rules if getattr(r, "rate", None) is not None}
        self.ctx = ctx
        self.superseded = superseded
        self.complete_from: datetime | None = None  # rows before it may be missing (rebuild)
        self.dropped = 0  # rows of periods whose rows were already discarded
        self._periods: dict[str, dict[datetime, _Period]] = defaultdict(dict)
        self._results: dict[str, dict[datetime, dict[str, _Outcome]]] = defaultdict(dict)
        self._floor: dict[str, datetime] = {}  # rows of earlier periods are dropped
        self._next_day: dict[str, datetime] = {}  # rolling_30d: the next day to close
        self._closed_until: dict[str, datetime] = {}
        self._watermark: dict[str, datetime] = {}
        self._root: str | None = None
        # with_hits: rule uid → (at, key) of the hits of the rules it names, in noting order
        self._flagged: dict[str, list[tuple[datetime, str]]] = {
            uid: [] for uid, r in self.rules.items() if r.rate.spec.with_hits is not None
        }

    def note_hits(self, hits: Iterable[HitDraft]) -> None:
        """Remember the hits `with_hits` rules compare with (their `at` decides, at close,
        which count: the same hits whatever order the paths emit them in)."""
        if not self._flagged:
            return
        for uid, flagged in self._flagged.items():
            named = self.rules[uid].rate.spec.with_hits.rules
            for hit in hits:
                if not hit.shadow and (hit.rule_id in named or hit.uid in named):
                    flagged.append((clock.to_shanghai(hit.at), hit.key))

    def _flagged_for(self, uid: str, spec: RateSpec, period: _Period) -> frozenset[str]:
        assert spec.with_hits is not None
        since = window_start(period.start, spec.period) - spec.with_hits.within
        return frozenset(key for at, key in self._flagged[uid] if since < at < period.end)

    def _prune_flagged(self, uid: str, spec: RateSpec) -> None:
        floor = self._floor.get(uid)
        if uid in self._flagged and floor is not None and spec.with_hits is not None:
            keep_from = window_start(floor, spec.period) - spec.with_hits.within
            self._flagged[uid] = [(at, key) for at, key in self._flagged[uid] if at > keep_from]

    # --- rows -----------------------------------------------------------------------------------

    def add(
        self, rule: Any, env: Env, record: Mapping[str, Any], derived: Mapping[str, Any]
    ) -> list[HitDraft]:
        """Keep the row of a population record; close what the data has moved well past."""
        program: RateProgram = rule.rate
        spec = program.spec
        groups = group_parts(record, derived, spec.group)
        population = tuple(
            group_parts(record, derived, paths) for _, paths in spec.population_totals
        )
        if not groups and not any(population):
            return []
        at = clock.to_shanghai(record["action_time"])
        start = period_start(at, spec.period)
        floor = self._floor.get(rule.uid)
        if floor is not None and start < floor:
            self.dropped += 1
            return []
        periods = self._periods[rule.uid]
        period = periods.get(start)
        if period is None:
            period = periods[start] = _Period(start, period_end(start, spec.period))
        peers = _key(record, derived, spec.peers) if spec.peers else None
        period.rows.append(
            _Row(
                at,
                str(record["record_id"]),
                str(record.get("serial_no") or ""),
                bool(program.numerator(env)) if program.numerator is not None else False,
                groups,
                peers,
                tuple(bool(test(env)) for test in program.subsets),
                _values(record, derived, spec.mode_of) if spec.mode_of else (),
                tuple(fn(env) for fn in program.values),
                population,
                _hit_keys(record, derived, spec),
            )
        )
        if period.closed and spec.period != "rolling_30d":
            period.dirty = True
        mark = self._watermark.get(rule.uid)
        if mark is not None and at <= mark:
            return []
        self._watermark[rule.uid] = at
        limit = previous_start(period_start(at, spec.period), spec.period)
        return self._close_rule(rule, limit)

    # --- closing --------------------------------------------------------------------------------

    def close(self, as_of: datetime) -> list[HitDraft]:
        """Close every period of every rule that ended by `as_of` (and re-close re-opened ones)."""
        hits: list[HitDraft] = []
        for rule in self.rules.values():
            hits.extend(self._close_rule(rule, clock.to_shanghai(as_of)))
        return hits

    def _close_rule(self, rule: Any, as_of: datetime) -> list[HitDraft]:
        spec: RateSpec = rule.rate.spec
        if spec.period == "rolling_30d":
            return self._close_rolling(rule, as_of)
        periods = self._periods[rule.uid]
        before = self._closed_until.get(rule.uid)
        hits: list[HitDraft] = []
        last: datetime | None = None
        for start in sorted(periods):
            period = periods[start]
            if period.end > as_of:
                break
            last = start
            if period.closed and not period.dirty:
                continue
            late = period.dirty or (before is not None and period.end <= before)
            hits.extend(self._close(rule, period, period.rows, late=late))
        if before is None or as_of > before:
            self._closed_until[rule.uid] = as_of
        if last is not None:  # rows of the latest closed period stay, for late records
            for start in [s for s in periods if s < last]:
                del periods[start]
            self._floor[rule.uid] = max(last, self._floor.get(rule.uid, last))
            self._prune_flagged(rule.uid, spec)
            self._prune_results(rule.uid, spec, last)
        return hits

    def _close_rolling(self, rule: Any, as_of: datetime) -> list[HitDraft]:
        spec: RateSpec = rule.rate.spec
        days = self._periods[rule.uid]
        if not days:
            return []
        day = self._next_day.get(rule.uid, min(days))
        hits: list[HitDraft] = []
        while day + timedelta(days=1) <= as_of:
            first = window_start(day, spec.period)
            window = [s for s in days if first <= s <= day]
            if not window:
                later = [s for s in days if s > day]
                if not later:
                    break
                day = later[0]
                continue
            period = _Period(day, day + timedelta(days=1))
            rows = [row for s in sorted(window) for row in days[s].rows]
            hits.extend(self._close(rule, period, rows, late=False))
            day += timedelta(days=1)
            self._prune_results(rule.uid, spec, period.start)
        self._next_day[rule.uid] = day
        keep_from = window_start(day, spec.period)
        for start in [s for s in days if s < keep_from]:
            del days[start]
        self._floor[rule.uid] = keep_from
        self._prune_flagged(rule.uid, spec)
        return hits

    def _prune_results(self, uid: str, spec: RateSpec, last: datetime) -> None:
        oldest = periods_back(last, spec.period, max(spec.lookback, _history_span(spec)) + 1)
        results = self._results[uid]
        for start in [s for s in results if s < oldest]:
            del results[start]

    def _eligible(self, spec: RateSpec, start: datetime) -> bool:
        """Whether every row this period's hits depend on was seen (see complete_from)."""
        if self.complete_from is None:
            return True
        oldest = periods_back(start, spec.period, max(spec.lookback, _history_span(spec)) + 1)
        return window_start(oldest, spec.period) >= self.complete_from

    def _close(self, rule: Any, period: _Period, rows: list[_Row], *, late: bool) -> list[HitDraft]:
        program: RateProgram = rule.rate
        spec = program.spec
        period.closed, period.dirty = True, False
        if not rows:
            self._results[rule.uid][period.start] = {}
            return []
        stats = self._group_statistics(rule, period, rows)
        default = rule.rule.severity.value
        outcomes: dict[str, _Outcome] = {}
        judged: list[tuple[str, str]] = []  # (key, severity) of the groups that make a hit
        for key in stats.keys:
            figures = stats.figures[key]
            env = Env(figures, figures, self.ctx)
            n = figures["n"] or 0.0
            qualifying = n >= spec.n_min
            fires = n >= 1 and bool(program.fires(env))
            fired = fires and qualifying
            figures["consecutive"] = self._consecutive(rule, period.start, key) if fired else 0.0
            severity = default
            for test, band in program.severities:
                if _RANK[severity] > band.rank and test(env):
                    severity = band.value
            if fires and not qualifying and spec.below_n_min == "blue":
                severity = Severity.BLUE.value
                judged.append((key, severity))
            elif fired:
                judged.append((key, severity))
            outcomes[key] = _Outcome(
                n, figures["count"] or 0.0, figures["rate"], fired, severity if fired else None
            )
        previous = self._results[rule.uid].get(previous_start(period.start, spec.period), {})
        self._results[rule.uid][period.start] = outcomes
        if not self._eligible(spec, period.start):
            return []
        hits: list[HitDraft] = []
        for key, severity in judged:
            before = previous.get(key)
            upgrade = (
                before is not None
                and before.fired
                and _RANK[before.severity or "blue"] > _RANK[severity]
            )
            if spec.period == "rolling_30d" and before is not None and before.fired and not upgrade:
                continue  # still firing: reported when it started
            hits.append(self._hit(rule, period, stats, key, severity, upgrade, late))
        new = {hit.id: hit for hit in hits}
        self.superseded.update(period.emitted - set(new))
        self.superseded.difference_update(new)
        fresh = [hit for hit in hits if hit.id not in period.emitted]
        period.emitted = set(new)
        return fresh

    def _consecutive(self, rule: Any, start: datetime, key: str) -> float:
        spec: RateSpec = rule.rate.spec
        results = self._results[rule.uid]
        count = 1
        for _ in range(spec.lookback):
            start = previous_start(start, spec.period)
            outcome = results.get(start, {}).get(key)
            if outcome is None or not outcome.fired:
                break
            count += 1
        return float(count)

    # --- statistics -----------------------------------------------------------------------------

    def statistics(
        self, rule: Any, start: datetime, rows: list[_Row]
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """For tools and tests: the rows exploded per group, and one row of statistics per group
        (column `key`, `peer`, and the names, NaN where undefined)."""
        spec: RateSpec = rule.rate.spec
        period = _Period(start, period_end(start, spec.period))
        stats = self._group_statistics(rule, period, rows)
        frame = pd.DataFrame.from_records(
            [(key, *row) for key in stats.keys for row in stats.evidence[key]],
            columns=["key", "time", "record_id", "serial_no"],
        )
        table = pd.DataFrame.from_dict(stats.figures, orient="index").astype("float64")
        table["peer"] = pd.Series(stats.peers, dtype=object)
        return frame, table.rename_axis("key").reset_index()

    def _group_statistics(self, rule: Any, period: _Period, rows: list[_Row]) -> GroupStatistics:
        spec: RateSpec = rule.rate.spec
        uid = rule.uid
        start = period.start
        previous = self._results[uid].get(previous_start(start, spec.period), {})

        def history(keys: list[str]) -> dict[str, list[float]]:
            if spec.history_days == "active":
                return self._active_history(keys, uid, spec, start)
            return self._calendar_history(keys, uid, spec, start)

        flagged = self._flagged_for(uid, spec, period) if spec.with_hits else frozenset()
        return group_statistics(
            spec, rows, previous, history if spec.history else None, flagged=flagged
        )

    def _active_history(
        self, keys: list[str], uid: str, spec: RateSpec, start: datetime
    ) -> dict[str, list[float]]:
        """The group's own previous periods with records ("the previous 30 exam days")."""
        results = self._results[uid]
        earlier = [results[s] for s in sorted(results, reverse=True) if s < start]
        values: dict[str, list[float]] = {}
        for key in keys:
            mine = [outcomes[key] for outcomes in earlier if key in outcomes][: spec.history]
            values[key] = [float(v) for o in mine if (v := getattr(o, spec.compare)) is not None]
        return values

    def _calendar_history(
        self, keys: list[str], uid: str, spec: RateSpec, start: datetime
    ) -> dict[str, list[float]]:
        """The previous periods (working days only with `working`) since the group appeared;
        a known period without the group counts 0 for n and count."""
        results = self._results[uid]
        known = [results[s] for s in self._history_starts(spec, start) if s in results]
        values: dict[str, list[float]] = {key: [] for key in keys}
        for key, bucket in values.items():
            # newest first; the periods before the group's first appearance are unknown to it
            seen = [i for i, outcomes in enumerate(known) if key in outcomes]
            for outcomes in known[: seen[-1] + 1] if seen else []:
                outcome = outcomes.get(key)
                if spec.compare == "rate":
                    if outcome is not None and outcome.rate is not None:
                        bucket.append(outcome.rate)
                else:
                    bucket.append(getattr(outcome, spec.compare) if outcome is not None else 0.0)
        return values

    def _history_starts(self, spec: RateSpec, start: datetime) -> list[datetime]:
        starts: list[datetime] = []
        day = start
        for _ in range(_history_span(spec) + spec.history):
            if len(starts) == spec.history:
                break
            day = previous_start(day, spec.period)
            if spec.history_days == "working" and not self.ctx.calendar.is_workday(day.date()):
                continue
            starts.append(day)
        return starts

    # --- hits -----------------------------------------------------------------------------------

    def _hit(
        self,
        rule: Any,
        period: _Period,
        stats: GroupStatistics,
        key: str,
        severity: str,
        upgrade: bool,
        late: bool,
    ) -> HitDraft:
        spec: RateSpec = rule.rate.spec
        r: Rule = rule.rule
        label = period_label(period.start, spec.period)
        record_ids, serials = stats.ordered_evidence(key)
        figures = {name: stats.figures[key].get(name) for name in statistics(spec, severity=True)}
        values = dict(part.split("=", 1) for part in key.split(";"))
        at = period.end
        extra: dict[str, Any] = {
            **figures,
            **values,
            "key": key,
            "period": label,
            "period_start": window_start(period.start, spec.period),
            "period_end": period.end,
            "z": None if figures["z"] is None else round(figures["z"], 2),
        }
        shares = [f"{name}_rate" for name, _ in spec.subsets]
        shares += ["mode_share"] if spec.mode_of else []
        for name in ("rate", "peer_median", "peer_mean", "peer_p99", "previous_rate", *shares):
            extra[f"{name}_pct"] = _pct(figures[name])
        extra["diff_median_pp"] = (
            None if figures["diff_median"] is None else f"{figures['diff_median'] * 100:.1f}"
        )
        detail: dict[str, Any] = {
            "period": label,
            "period_start": window_start(period.start, spec.period).isoformat(),
            "period_end": period.end.isoformat(),
            **{k: v for k, v in figures.items() if v is not None},
            "records_total": len(record_ids),
            "serials_total": len(serials),
        }
        if len(record_ids) > EVIDENCE_CAP or len(serials) > EVIDENCE_CAP:
            detail["evidence_capped_at"] = EVIDENCE_CAP
        if (
            severity == Severity.BLUE.value
            and figures["n"] is not None
            and figures["n"] < spec.n_min
        ):
            detail["below_n_min"] = True
        return HitDraft(
            rule_id=r.id,
            sub=r.sub,
            severity=severity,
            kind=r.catalogue_kind,
            aspect=None,
            key=key,
            serials=tuple(serials[:EVIDENCE_CAP]),
            record_ids=tuple(record_ids[:EVIDENCE_CAP]),
            unit_code=self._unit_of(spec, values, at),
            at=at,
            message=render(r.message.zh, {}, {}, extra),
            anchor=f"period:{label}",
            upgrade=upgrade,
            late_data=late,
            shadow=r.status is Status.TESTING,
            detail=detail,
        )

    def _unit_of(self, spec: RateSpec, values: Mapping[str, str], at: datetime) -> str:
        """§0.5 item 5: the unit (R2 as of `at`) of the staff member, else the root of R1."""
        if spec.staff_key is not None:
            row = self.ctx.ref.get("staff", values.get(spec.staff_key), at=at)
            if row and row.get("unit_code"):
                return str(row["unit_code"])
        if self._root is None:
            roots = sorted(
                str(u["unit_code"]) for u in self.ctx.ref.rows("units") if not u.get("parent_code")
            )
            self._root = roots[0] if roots else ""
        return self._root


def rate_hit_id(rule: Rule, key: str, label: str, severity: str) -> str:
    """The id of a rate hit of this group, period label and severity (for tests and tools)."""
    return hit_id(rule.id, rule.sub, key, f"period:{label}", severity)


def _key(record: Mapping[str, Any], derived: Mapping[str, Any], paths: Sequence[str]) -> str | None:
    from auditcage.engine.compiled import key_values

    keys = key_values(record, derived, paths)
    return keys[0] if keys else None


def _values(record: Mapping[str, Any], derived: Mapping[str, Any], path: str) -> tuple[str, ...]:
    from auditcage.engine.compiled import key_values

    return tuple(v.partition("=")[2] for v in key_values(record, derived, (path,)))


def _pct(value: float | None) -> str | None:
    return None if value is None else f"{value * 100:.1f}%"
