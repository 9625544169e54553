"""Rate rules (catalogue kind R, §0.3): statistics per group over closed periods, with pandas.

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
  <total>, share_<total>  n of a coarser group (`totals`) and n / it
  <subset>_n, <subset>_count, <subset>_rate   the same over a sub-population (`subsets`)
  mode_n, mode_share    items carrying the most frequent value of `mode_of`, and mode_n / n
  history_median, history_mean, history_max, history_periods   the group's own value over
                        the `history` previous periods that are known (see RateSpec)
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
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import product
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from auditcage import clock
from auditcage.engine.compile_pandas import Mask, compile_pandas
from auditcage.engine.compile_python import Env, compile_python
from auditcage.engine.hits import HitDraft, hit_id
from auditcage.engine.messages import render
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
    "peer_n",
    "peer_median",
    "peer_mean",
    "peer_std",
    "peer_p99",
    "peer_min",
    "peer_max",
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
    for name, _ in spec.totals:
        names += [name, f"share_{name}"]
    for name, _ in spec.subsets:
        names += [f"{name}_n", f"{name}_count", f"{name}_rate"]
    if spec.mode_of:
        names += ["mode_n", "mode_share"]
    if spec.history:
        names += ["history_median", "history_mean", "history_max", "history_periods"]
    names += [name for name, _ in spec.group_values]
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
    fires: Mask
    severities: tuple[tuple[Mask, Severity], ...]


def compile_rate(rule: Rule, lists: Mapping[str, Sequence[str]]) -> RateProgram:
    """Raises CheckError with `.rule_field` naming the field (numerator, fires_when, …)."""
    spec = rule.rate
    assert spec is not None
    named = {name: list(items) for name, items in lists.items()}

    def over_statistics(text: str, where: str, *, severity: bool) -> Mask:
        names = {
            n: FieldInfo(n, NUMBER, source="computed") for n in statistics(spec, severity=severity)
        }
        try:
            return compile_pandas(check(text, lists=named, names=names))
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

    # --- rows -----------------------------------------------------------------------------------

    def add(
        self, rule: Any, env: Env, record: Mapping[str, Any], derived: Mapping[str, Any]
    ) -> list[HitDraft]:
        """Keep the row of a population record; close what the data has moved well past."""
        program: RateProgram = rule.rate
        spec = program.spec
        groups = group_parts(record, derived, spec.group)
        if not groups:
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
        frame, stats = self.statistics(rule, period.start, rows)
        qualifying = stats["n"] >= spec.n_min
        fires = program.fires(stats, self.ctx) & (stats["n"] >= 1)
        fired = fires & qualifying
        stats["consecutive"] = [
            self._consecutive(rule, period.start, key) if hit else 0.0
            for key, hit in zip(stats["key"], fired, strict=True)
        ]
        severity = pd.Series(rule.rule.severity.value, index=stats.index, dtype=object)
        for mask, band in program.severities:
            holds = mask(stats, self.ctx)
            better = holds & (severity.map(_RANK) > band.rank)
            severity[better] = band.value
        blue = fires & ~qualifying & (spec.below_n_min == "blue")
        severity[blue] = Severity.BLUE.value
        outcomes = {
            key: _Outcome(n, count, _number(rate), bool(hit), sev if hit else None)
            for key, n, count, rate, hit, sev in zip(
                stats["key"],
                stats["n"],
                stats["count"],
                stats["rate"],
                fired,
                severity,
                strict=True,
            )
        }
        previous = self._results[rule.uid].get(previous_start(period.start, spec.period), {})
        self._results[rule.uid][period.start] = outcomes
        if not self._eligible(spec, period.start):
            return []
        evidence = frame.sort_values(["time", "record_id"]).groupby("key", sort=False)
        hits: list[HitDraft] = []
        for index in stats.index[(fired | blue).to_numpy()]:
            key, sev = stats.at[index, "key"], str(severity[index])
            before = previous.get(key)
            upgrade = (
                before is not None
                and before.fired
                and _RANK[before.severity or "blue"] > _RANK[sev]
            )
            if spec.period == "rolling_30d" and before is not None and before.fired and not upgrade:
                continue  # still firing: reported when it started
            hits.append(
                self._hit(
                    rule, period, stats.loc[index], sev, evidence.get_group(key), upgrade, late
                )
            )
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
        """The exploded rows, and one row of statistics per group (column `key` + the names)."""
        spec: RateSpec = rule.rate.spec
        width = len(spec.group)
        by_record = spec.count_by == "record_id"
        exploded = [
            (
                ";".join(parts),
                *parts,
                row.record_id if by_record else (row.serial_no or row.record_id),
                row.numerator,
                row.peer,
                row.time,
                row.record_id,
                row.serial_no,
            )
            for row in rows
            for parts in row.groups
        ]
        parts_columns = [f"g{i}" for i in range(width)]
        frame = pd.DataFrame.from_records(
            exploded,
            columns=[
                "key",
                *parts_columns,
                "item",
                "num",
                "peer",
                "time",
                "record_id",
                "serial_no",
            ],
        )
        n = frame.groupby("key", sort=True)["item"].nunique()
        count = frame[frame["num"]].groupby("key")["item"].nunique().reindex(n.index, fill_value=0)
        stats = pd.DataFrame({"n": n.astype("float64"), "count": count.astype("float64")})
        stats["rate"] = stats["count"] / stats["n"]
        stats["value"] = stats[spec.compare]
        peers = (
            frame.dropna(subset=["peer"]).groupby(["key", "peer"]).size().reset_index(name="size")
        )
        peers = peers.sort_values(["key", "size", "peer"], ascending=[True, False, True])
        stats["peer"] = peers.drop_duplicates("key").set_index("key")["peer"].reindex(stats.index)
        firsts = frame.drop_duplicates("key").set_index("key")[parts_columns]
        for name, paths in spec.totals:
            columns = [parts_columns[spec.group.index(p)] for p in paths]
            totals = frame.groupby(columns)["item"].nunique()
            looked_up = [
                totals[tuple(v) if len(columns) > 1 else v[0]]
                for v in firsts.loc[stats.index, columns].itertuples(index=False)
            ]
            stats[name] = pd.Series(looked_up, index=stats.index, dtype="float64")
            stats[f"share_{name}"] = stats["n"] / stats[name]
        self._peer_statistics(stats, spec)
        previous = self._results[rule.uid].get(previous_start(start, spec.period), {})
        stats["previous_n"] = [_prev(previous, k, "n") for k in stats.index]
        stats["previous_count"] = [_prev(previous, k, "count") for k in stats.index]
        stats["previous_rate"] = [_prev(previous, k, "rate") for k in stats.index]
        stats["diff_previous"] = stats["rate"] - stats["previous_rate"]
        self._subset_statistics(stats, frame, rows, spec)
        self._group_values(stats, rows, spec)
        if spec.history:
            self._history_statistics(stats, rule.uid, spec, start)
        numeric = [c for c in stats.columns if c != "peer"]
        stats[numeric] = stats[numeric].astype("float64").round(9)
        stats = stats.rename_axis("key").reset_index()
        return frame, stats

    @staticmethod
    def _subset_statistics(
        stats: pd.DataFrame, frame: pd.DataFrame, rows: list[_Row], spec: RateSpec
    ) -> None:
        """<subset>_n/_count/_rate and mode_n/mode_share, over the same exploded rows."""
        if not spec.subsets and not spec.mode_of:
            return
        per_row = [(row.subsets, row.modes) for row in rows for _ in row.groups]
        for i, (name, _) in enumerate(spec.subsets):
            inside = pd.Series([flags[i] for flags, _ in per_row], index=frame.index)
            part = frame[inside]
            n = part.groupby("key")["item"].nunique().reindex(stats.index, fill_value=0)
            count = (
                part[part["num"]]
                .groupby("key")["item"]
                .nunique()
                .reindex(stats.index, fill_value=0)
            )
            stats[f"{name}_n"] = n.astype("float64")
            stats[f"{name}_count"] = count.astype("float64")
            stats[f"{name}_rate"] = stats[f"{name}_count"] / stats[f"{name}_n"].where(n > 0)
        if spec.mode_of:
            pairs = pd.DataFrame.from_records(
                [
                    (key, item, value)
                    for (key, item), (_, modes) in zip(
                        frame[["key", "item"]].itertuples(index=False), per_row, strict=True
                    )
                    for value in modes
                ],
                columns=["key", "item", "value"],
            )
            mode_n = (
                pairs.groupby(["key", "value"])["item"].nunique().groupby(level=0).max()
                if len(pairs)
                else pd.Series(dtype="float64")
            )
            stats["mode_n"] = mode_n.reindex(stats.index, fill_value=0).astype("float64")
            stats["mode_share"] = stats["mode_n"] / stats["n"]

    @staticmethod
    def _group_values(stats: pd.DataFrame, rows: list[_Row], spec: RateSpec) -> None:
        """`group_values`: the largest number each expression gave over the group's records."""
        for i, (name, _) in enumerate(spec.group_values):
            best: dict[str, float] = {}
            for row in rows:
                value = row.values[i]
                if isinstance(value, bool) or not isinstance(value, int | float):
                    continue
                for parts in row.groups:
                    key = ";".join(parts)
                    best[key] = max(best.get(key, float(value)), float(value))
            stats[name] = [best.get(key, math.nan) for key in stats.index]

    def _history_statistics(
        self, stats: pd.DataFrame, uid: str, spec: RateSpec, start: datetime
    ) -> None:
        """The group's own value over the `history` previous known periods."""
        values = (
            self._active_history(stats, uid, spec, start)
            if spec.history_days == "active"
            else self._calendar_history(stats, uid, spec, start)
        )
        for name, fn in (("median", np.median), ("mean", np.mean), ("max", np.max)):
            stats[f"history_{name}"] = [
                float(fn(values[k])) if values[k] else math.nan for k in stats.index
            ]
        stats["history_periods"] = [float(len(values[k])) for k in stats.index]

    def _active_history(
        self, stats: pd.DataFrame, uid: str, spec: RateSpec, start: datetime
    ) -> dict[str, list[float]]:
        """The group's own previous periods with records ("the previous 30 exam days")."""
        results = self._results[uid]
        earlier = [results[s] for s in sorted(results, reverse=True) if s < start]
        values: dict[str, list[float]] = {}
        for key in stats.index:
            mine = [outcomes[key] for outcomes in earlier if key in outcomes][: spec.history]
            values[key] = [float(v) for o in mine if (v := getattr(o, spec.compare)) is not None]
        return values

    def _calendar_history(
        self, stats: pd.DataFrame, uid: str, spec: RateSpec, start: datetime
    ) -> dict[str, list[float]]:
        """The previous periods (working days only with `working`) since the group appeared;
        a known period without the group counts 0 for n and count."""
        results = self._results[uid]
        known = [results[s] for s in self._history_starts(spec, start) if s in results]
        values: dict[str, list[float]] = {key: [] for key in stats.index}
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

    @staticmethod
    def _peer_statistics(stats: pd.DataFrame, spec: RateSpec) -> None:
        names = (
            "peer_n",
            "peer_median",
            "peer_mean",
            "peer_std",
            "peer_p99",
            "peer_min",
            "peer_max",
        )
        # Plain numpy per peer pool and dicts per key: pandas' per-label drop and setitem cost
        # ~50 µs a call, and this runs for every group of every close.
        table: dict[str, dict[Any, float]] = {name: {} for name in names}
        qualifying = (stats["n"] >= spec.n_min).to_numpy()
        values, labels = stats["value"].to_numpy(dtype="float64"), stats.index.to_numpy()
        for peer_positions in stats.groupby("peer", sort=False).indices.values():
            pool_at = peer_positions[qualifying[peer_positions]]
            pool, pool_labels = values[pool_at], labels[pool_at]
            for key in labels[peer_positions]:
                table["peer_n"][key] = 0.0
                others = pool[pool_labels != key]
                if not len(others):
                    continue
                table["peer_n"][key] = float(len(others))
                table["peer_median"][key] = float(np.median(others))
                table["peer_mean"][key] = float(others.mean())
                table["peer_std"][key] = float(others.std(ddof=1)) if len(others) > 1 else math.nan
                table["peer_p99"][key] = float(np.quantile(others, 0.99))
                table["peer_min"][key] = float(others.min())
                table["peer_max"][key] = float(others.max())
        for name in names:
            fill = 0.0 if name == "peer_n" else math.nan
            stats[name] = pd.Series(table[name], index=stats.index, dtype="float64").fillna(fill)
        std = stats["peer_std"].where(stats["peer_std"] > 0)
        stats["z"] = (stats["value"] - stats["peer_mean"]) / std
        stats["diff_median"] = stats["value"] - stats["peer_median"]
        stats["diff_mean"] = stats["value"] - stats["peer_mean"]
        stats["ratio_median"] = stats["value"] / stats["peer_median"].where(
            stats["peer_median"] != 0
        )

    # --- hits -----------------------------------------------------------------------------------

    def _hit(
        self,
        rule: Any,
        period: _Period,
        row: pd.Series,
        severity: str,
        evidence: pd.DataFrame,
        upgrade: bool,
        late: bool,
    ) -> HitDraft:
        spec: RateSpec = rule.rate.spec
        r: Rule = rule.rule
        key = str(row["key"])
        label = period_label(period.start, spec.period)
        record_ids = list(dict.fromkeys(evidence["record_id"]))
        serials = list(dict.fromkeys(s for s in evidence["serial_no"] if s))
        figures = {name: _number(row[name]) for name in statistics(spec, severity=True)}
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


def _prev(previous: Mapping[str, _Outcome], key: str, name: str) -> float:
    outcome = previous.get(key)
    value = getattr(outcome, name) if outcome is not None else None
    return math.nan if value is None else float(value)


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _pct(value: float | None) -> str | None:
    return None if value is None else f"{value * 100:.1f}%"
