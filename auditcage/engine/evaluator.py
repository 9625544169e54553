"""The engine: records in (any order), hits out, per-key state for every kind of §0.3.

One `Evaluator` holds the compiled rules of one ruleset version and the state of every
(rule, key). `process()` evaluates one enriched record; `sweep(as_of)` fires the deadlines that
have passed. Windows, sequences and deadlines are judged on event time (`action_time`), never on
arrival or wall-clock time, with the pure functions of `windows` and per-key state, so the
worker and `replay` agree by construction. Rate rules (kind R) are evaluated in batch at period
close by `engine.rates`.
"""

from __future__ import annotations

import functools
import sys
from bisect import bisect_left, bisect_right, insort
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from auditcage import clock
from auditcage.engine import windows
from auditcage.engine.compile_python import Env
from auditcage.engine.compiled import CompiledRule, key_values, record_rules
from auditcage.engine.filters import FIRST, Filters, PythonFilters
from auditcage.engine.hits import HitDraft, hit_id, masked_key
from auditcage.engine.ledgers import LedgerBook
from auditcage.engine.messages import render
from auditcage.engine.near import NearKeys
from auditcage.engine.rates import RateBook
from auditcage.engine.windows import RANK, Band, Event, Measure
from auditcage.rulepacks.functions import EvalContext
from auditcage.rulepacks.model import Kind, Status

Derived = Mapping[str, Any]
Record = Mapping[str, Any]
SEEN_PER_KEY = 64  # a business item has a handful of steps; a key with more keeps its latest
# Default look-back of absence rules for steps made before their arming record (rule look_back).
SEEN_HORIZON = timedelta(days=90)
MEASURES = {Kind.COUNT: Measure.COUNT, Kind.DISTINCT: Measure.DISTINCT, Kind.SUM: Measure.SUM}
EXPIRE_EVERY = timedelta(days=1)  # event time between two passes of Evaluator.expire


_Reported = tuple[float, tuple[str, ...]]


@dataclass
class _WindowKey:
    events: list[Event] = field(default_factory=list)
    cooldown_until: datetime | None = None
    severity: str | None = None  # the severity last emitted inside the cooldown
    # (anchor record_id, severity) → what the hit reported: its value and evidence record ids
    emitted: dict[tuple[str, str], _Reported] = field(default_factory=dict)
    records: dict[str, tuple[Record, Derived]] = field(default_factory=dict)


@dataclass
class _SequenceKey:
    firsts: list[Event] = field(default_factory=list)
    thens: list[Event] = field(default_factory=list)
    matched: set[str] = field(default_factory=set)  # B record_ids that fired
    records: dict[str, tuple[Record, Derived]] = field(default_factory=dict)
    # `between` sequences: the records that cancel a pair, and each fired B's (A, severity)
    betweens: list[Event] = field(default_factory=list)
    fired: dict[str, tuple[Event, str]] = field(default_factory=dict)


@dataclass
class _Armed:
    event: Event
    start: datetime
    due: datetime
    record: Record
    derived: Derived
    done: list[datetime] = field(default_factory=list)
    fired: bool = False


class Evaluator:
    def __init__(
        self, rules: Iterable[CompiledRule], ctx: EvalContext, filters: Filters | None = None
    ) -> None:
        self.rules = list(rules)
        self.ctx = ctx
        self.filters = filters if filters is not None else PythonFilters(record_rules(self.rules))
        self._by_kind: dict[Kind, list[CompiledRule]] = defaultdict(list)
        for rule in self.rules:
            self._by_kind[rule.rule.kind].append(rule)
        self._index_rules()
        self._windows: dict[tuple[str, str], _WindowKey] = defaultdict(_WindowKey)
        self._sequences: dict[tuple[str, str], _SequenceKey] = defaultdict(_SequenceKey)
        # Windowed rules with `first`: the A/B pairing per (rule, key;same) before counting.
        self._pairs: dict[tuple[str, str], _SequenceKey] = defaultdict(_SequenceKey)
        self._armed: dict[tuple[str, str], list[_Armed]] = defaultdict(list)
        self._near: dict[str, NearKeys] = {}  # key_near rules: hash → representative
        # Recent records of each absence key, for steps that arrive before their arming. Rules
        # whose keys are the same paths share one list (scope ""): 28 rules key on serial_no,
        # and one list per rule would hold every record 28 times. A key_where rule has its own.
        self._seen: dict[tuple[str, str], list[tuple[Record, Derived]]] = defaultdict(list)
        self._absence_paths = sorted(
            {_step_paths(r) for r in self._by_kind[Kind.ABSENCE] if r.key_filter is None}
        )
        # How long a shared list keeps records: the longest look-back of the rules using it.
        self._look_back: dict[tuple[str, ...], timedelta] = {}
        for r in self._by_kind[Kind.ABSENCE]:
            if r.key_filter is None:
                paths = _step_paths(r)
                self._look_back[paths] = max(self._look_back.get(paths, SEEN_HORIZON), _look(r))
        # Ids of hits emitted earlier that a record arriving out of event-time order has since
        # superseded (a sorted replay would not produce them). The caller marks them; hits are
        # never deleted.
        self.superseded: set[str] = set()
        # Rate rules (kind R): population rows per period, closed in batch (engine.rates).
        self.rates = RateBook(self._by_kind[Kind.RATE], ctx, self.superseded)
        # Ledger rules: reference rows judged in the sweeper, with links to the records seen.
        self.ledgers = LedgerBook(self._by_kind[Kind.LEDGER], ctx)
        # Per-key state is pruned when its key sees a new record; a key that never does again
        # (most plates, licences and items) is dropped by `expire`, every EXPIRE_EVERY of event
        # time, once no record within the lateness can reach it.
        self._watermark: datetime | None = None
        self._expired_at: datetime | None = None

    # Indexes of the compiled rules: rebuilt from them, never part of the pickled state
    # (cluster.step), which holds each rule once, by reference.
    _INDEXES = ("_exempting", "_uid_rules")

    def _index_rules(self) -> None:
        self._exempting = {rule.uid: rule for rule in self.rules if rule.unless}
        self._uid_rules = {rule.uid: rule for rule in self.rules}

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in self._INDEXES}

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Attribute names interned, as pickle's default BUILD does.
        self.__dict__.update({sys.intern(name): value for name, value in state.items()})
        self._index_rules()

    # --- one record ---------------------------------------------------------------------------

    def process(self, record: Record, derived: Derived, *, late: bool = False) -> list[HitDraft]:
        self._advance(record["action_time"])
        env = Env(record, derived, self.ctx)
        matched = self.filters.matching(record, derived, env)

        # The rules whose filter holds and no exemption applies, each judged once.
        exempting = self._exempting
        applying = {
            uid
            for uid in matched
            if (rule := exempting.get(uid)) is None or not any(e(env) for e in rule.unless)
        }

        hits: list[HitDraft] = []
        for rule in self._by_kind[Kind.EVENT]:
            if rule.uid in applying:
                hits.append(self._event_hit(rule, env, record, derived))
        for kind in MEASURES:
            for rule in self._by_kind[kind]:
                if rule.first is not None:  # counts only the Bs of a sequence (first/within/same)
                    is_first = rule.uid + FIRST in matched
                    is_then = rule.uid in applying
                    if is_first or is_then:
                        hits.extend(
                            self._paired_window_step(rule, env, record, derived, is_first, is_then)
                        )
                elif rule.uid in applying:
                    hits.extend(self._window_step(rule, env, record, derived))
        for rule in self._by_kind[Kind.SEQUENCE]:
            is_first = rule.uid + FIRST in matched
            is_between = rule.between is not None and rule.between(env)
            is_then = rule.uid in applying
            if is_first or is_between or is_then:
                hits.extend(
                    self._sequence_step(rule, record, derived, is_first, is_then, is_between)
                )
        if self._by_kind[Kind.ABSENCE]:
            keys_by_paths = {
                paths: key_values(record, derived, paths) for paths in self._absence_paths
            }
            for paths, keys in keys_by_paths.items():
                for key in keys:
                    self._remember(("", key), record, derived, self._look_back[paths])
            for rule in self._by_kind[Kind.ABSENCE]:
                keys = keys_by_paths.get(_step_paths(rule)) if rule.key_filter is None else None
                self._absence_step(rule, env, record, derived, rule.uid in applying, keys)
        if self._by_kind[Kind.RATE]:
            self.rates.note_hits(hits)  # before a close this record may trigger
            for rule in self._by_kind[Kind.RATE]:
                if rule.uid in applying:
                    hits.extend(self.rates.add(rule, env, record, derived))
        self.ledgers.observe(env)
        self.ledgers.note_hits(hits)
        if late:
            hits = [_late(h) for h in hits]
        return hits

    # --- expiry ---------------------------------------------------------------------------------

    def _advance(self, at: datetime) -> None:
        if self._watermark is None or at > self._watermark:
            self._watermark = at
        if self._expired_at is None:
            self._expired_at = at
        elif self._watermark - self._expired_at >= EXPIRE_EVERY:
            self.expire(self._watermark)
            self._expired_at = self._watermark

    def expire(self, watermark: datetime) -> int:
        """Drop the state of every key whose newest record is so old that a record arriving
        now, up to the lateness late, would prune it on arrival (`_prune_window`,
        `_prune_sequence`, `_prune_seen`): what it computes is unchanged, and state stays
        bounded by the keys active within the horizons. Armed deadlines are kept (a restated
        start must not arm twice). Returns how many keys were dropped."""
        reach = watermark - windows.LATENESS
        dropped = 0
        for table, last_of, keep in (
            (self._windows, _window_newest, self._window_keep),
            (self._pairs, _sequence_newest, self._pair_keep),
            (self._sequences, _sequence_newest, self._sequence_keep),
        ):
            stale = [
                k
                for k, state in table.items()
                if (newest := last_of(state)) is None or newest < reach - keep(k[0])
            ]
            for k in stale:
                del table[k]
            dropped += len(stale)
        look = max(
            [SEEN_HORIZON, *self._look_back.values(), *map(_look, self._by_kind[Kind.ABSENCE])]
        )
        stale = [
            k
            for k, seen in self._seen.items()
            if not seen or seen[-1][0]["action_time"] < reach - look
        ]
        for k in stale:
            del self._seen[k]
        return dropped + len(stale)

    def _window_keep(self, uid: str) -> timedelta:
        window = self._uid_rules[uid].rule.window
        return windows.horizon(window) if window is not None else timedelta(0)

    def _pair_keep(self, uid: str) -> timedelta:
        within = self._uid_rules[uid].rule.within or timedelta(0)
        return (within + windows.LATENESS) * 2

    def _sequence_keep(self, uid: str) -> timedelta:
        return (self._uid_rules[uid].rule.within or timedelta(0)) * 2

    def _event_hit(
        self, rule: CompiledRule, env: Env, record: Record, derived: Derived
    ) -> HitDraft:
        serial = str(record.get("serial_no", ""))
        return self._hit(
            rule,
            env,
            record,
            derived,
            key=serial,
            severity=rule.severity_for(env).value,
            serials=(serial,),
            record_ids=(str(record["record_id"]),),
            at=record["action_time"],
            anchor=str(record["record_id"]),
        )

    # --- windows (C, D, S) --------------------------------------------------------------------

    def _window_step(
        self, rule: CompiledRule, env: Env, record: Record, derived: Derived
    ) -> list[HitDraft]:
        hits = []
        for key in self._near_keys(rule, rule.keys(env), record["action_time"]):
            hits.extend(self._window_add(rule, key, env, record, derived))
        return hits

    def _window_add(
        self, rule: CompiledRule, key: str, env: Env, record: Record, derived: Derived
    ) -> list[HitDraft]:
        """Count one record in the window of one key; the firings it causes."""
        spec = rule.rule
        assert spec.window is not None
        bands = [Band(b.at_least, b.severity.value) for b in spec.bands]
        measure = MEASURES[spec.kind]
        value = rule.value(env) if rule.value is not None else None
        raised = rule.raised_severity(env)
        reset = rule.reset is not None and rule.reset(env)
        hits = []
        state = self._windows[(rule.uid, key)]
        event = Event(
            record["action_time"],
            str(record["record_id"]),
            str(record.get("serial_no") or ""),
            value,
            str(record.get("unit_code", "")),
            raised.value if raised is not None else None,
            reset,
        )
        state.records[event.record_id] = (record, derived)
        fired, dropped = self._window_insert(state, event, spec.window, bands, measure)
        for anchor, severity in dropped:
            self.superseded.add(hit_id(spec.id, spec.sub, key, anchor, severity))
        for firing, revision in fired:
            hit = self._window_hit(rule, key, firing, state, revision=revision)
            self.superseded.discard(hit.id)  # valid again after a later correction
            hits.append(hit)
        _prune_window(state, spec.window)
        return hits

    def _paired_window_step(
        self,
        rule: CompiledRule,
        env: Env,
        record: Record,
        derived: Derived,
        is_first: bool,
        is_then: bool,
    ) -> list[HitDraft]:
        """A windowed rule with `first`: a record B meeting `when` is counted in its key's window
        once an earlier A meeting `first` with the same key and `same` fields lies within
        [B.time − within, B.time) — the match of a sequence rule. A late A counts the Bs it
        completes (recomputing the window as any out-of-order record does)."""
        spec = rule.rule
        assert spec.within is not None
        event = Event(record["action_time"], str(record["record_id"]))
        same_parts = key_values(record, derived, spec.same) if spec.same else [""]
        hits = []
        for key in self._near_keys(rule, rule.keys(env), record["action_time"]):
            for same in same_parts:
                state = self._pairs[(rule.uid, f"{key};{same}" if same else key)]
                pairs = _pair(
                    state,
                    event,
                    (record, derived),
                    is_first,
                    is_then,
                    spec.within,
                    lambda st, then: _latest_before(st.firsts, then.time, spec.within),
                )
                for _, then in pairs:
                    counted = self._windows[(rule.uid, key)].records
                    if then.record_id in counted:  # matched under another `same` value too
                        continue
                    b_record, b_derived = state.records[then.record_id]
                    b_env = Env(b_record, b_derived, self.ctx)
                    hits.extend(self._window_add(rule, key, b_env, b_record, b_derived))
                # keep the pairs a record up to LATENESS late may still complete
                _prune_sequence(state, spec.within + windows.LATENESS)
        return hits

    @staticmethod
    def _window_insert(
        state: _WindowKey, event: Event, window: timedelta, bands: list[Band], measure: Measure
    ) -> tuple[list[tuple[windows.Firing, bool]], set[tuple[str, str]]]:
        """The firings to emit, each with whether it revises one emitted before (same anchor
        and severity, so the same hit id, but another value or evidence: a record arriving late
        inside its window, or tied with its anchor's time), and the (anchor, severity) of
        earlier firings no longer valid."""
        in_order = not state.events or event.time > state.events[-1].time
        if in_order:
            state.events.append(event)
            if state.cooldown_until is not None and event.time >= state.cooldown_until:
                state.cooldown_until, state.severity = None, None
            start = bisect_right([e.time for e in state.events], event.time - window)
            in_window = windows.after_reset(state.events[start:])
            value = windows.measure_window(in_window, measure)
            reached = windows.highest_band(sorted(bands, key=lambda b: b.threshold), value)
            if reached is None:
                return [], set()
            severity = windows.window_severity(reached, in_window)
            if state.cooldown_until is None:
                state.cooldown_until, state.severity = event.time + window, severity
                firing = windows.Firing(event, reached, value, tuple(in_window), upgrade=False)
            elif state.severity is not None and RANK[severity] < RANK[state.severity]:
                state.severity = severity
                firing = windows.Firing(event, reached, value, tuple(in_window), upgrade=True)
            else:
                return [], set()
            state.emitted[(event.record_id, firing.severity)] = _reported(firing)
            return [(firing, False)], set()
        # Out of event-time order (or a tie): recompute the key from its retained events, so the
        # result is the one a sorted replay gives, and emit what was not emitted before.
        insort(state.events, event)
        all_firings = windows.firings(state.events, window=window, bands=bands, measure=measure)
        now_valid = {(f.anchor.record_id, f.severity): _reported(f) for f in all_firings}
        emit = [
            (f, ident in state.emitted)
            for f in all_firings
            if state.emitted.get(ident := (f.anchor.record_id, f.severity)) != now_valid[ident]
        ]
        dropped = state.emitted.keys() - now_valid.keys()
        state.emitted = now_valid
        state.cooldown_until, state.severity = None, None
        for firing in all_firings:
            if not firing.upgrade:
                state.cooldown_until, state.severity = firing.anchor.time + window, firing.severity
            elif state.severity is None or RANK[firing.severity] < RANK[state.severity]:
                state.severity = firing.severity
        return emit, dropped

    def _window_hit(
        self,
        rule: CompiledRule,
        key: str,
        firing: windows.Firing,
        state: _WindowKey,
        *,
        revision: bool = False,
    ) -> HitDraft:
        record, derived = state.records[firing.anchor.record_id]
        env = Env(record, derived, self.ctx)
        evidence = firing.evidence
        serials = tuple(dict.fromkeys(e.serial_no for e in evidence if e.serial_no))
        extra = {
            "key": masked_key(key),
            "value": firing.value,
            "count": len(serials),
            "window": rule.rule.window,
        }
        return self._hit(
            rule,
            env,
            record,
            derived,
            key=key,
            severity=firing.severity,
            serials=serials,
            record_ids=tuple(e.record_id for e in evidence),
            at=firing.anchor.time,
            anchor=firing.anchor.record_id,
            upgrade=firing.upgrade,
            extra=extra,
            detail={"value": firing.value},
            revision=revision,
        )

    # --- sequences (Q) ------------------------------------------------------------------------

    def _sequence_step(
        self,
        rule: CompiledRule,
        record: Record,
        derived: Derived,
        is_first: bool,
        is_then: bool,
        is_between: bool = False,
    ) -> list[HitDraft]:
        spec = rule.rule
        assert spec.within is not None
        hits = []
        event = Event(
            record["action_time"],
            str(record["record_id"]),
            str(record.get("serial_no") or ""),
            None,
            str(record.get("unit_code", "")),
        )
        for key in key_values(record, derived, (*spec.key, *spec.same)):
            state = self._sequences[(rule.uid, key)]
            if is_between:
                self._between(rule, key, state, event, (record, derived))
            pick = functools.partial(self._matching_first, rule)
            for first, then in _pair(
                state, event, (record, derived), is_first, is_then, spec.within, pick
            ):
                hit = self._sequence_hit(rule, key, first, then, state)
                if rule.between is not None:
                    state.fired[then.record_id] = (first, hit.severity)
                    self.superseded.discard(hit.id)
                hits.append(hit)
            _prune_sequence(state, spec.within)
        return hits

    def _between(
        self,
        rule: CompiledRule,
        key: str,
        state: _SequenceKey,
        event: Event,
        seen: tuple[Record, Derived],
    ) -> None:
        """Keep a record meeting `between`; one arriving late (out of event-time order) inside
        a fired pair supersedes its hit, as a sorted replay would not have produced it."""
        state.records[event.record_id] = seen
        insort(state.betweens, event)
        for then_id, (first, severity) in list(state.fired.items()):
            then_time = state.records[then_id][0]["action_time"]
            if first.record_id != event.record_id and first.time <= event.time < then_time:
                self.superseded.add(hit_id(rule.rule.id, rule.rule.sub, key, then_id, severity))
                del state.fired[then_id]
                state.matched.discard(then_id)

    def _matching_first(self, rule: CompiledRule, state: _SequenceKey, then: Event) -> Event | None:
        """The latest A in [B.time − within, B.time) — with `match`, the latest that meets it
        together with B (B the record, A as first.); with `between`, none when a record meeting
        it lies in [A.time, B.time) (an earlier A would enclose that record too)."""
        within = rule.rule.within
        assert within is not None
        if rule.match is None:
            found = _latest_before(state.firsts, then.time, within)
        else:
            found = None
            times = [e.time for e in state.firsts]
            start, end = bisect_left(times, then.time - within), bisect_left(times, then.time)
            record, derived = state.records[then.record_id]
            for first in reversed(state.firsts[start:end]):
                if rule.match(Env(record, derived, self.ctx, state.records[first.record_id])):
                    found = first
                    break
        if (
            found is not None
            and rule.between is not None
            and any(
                found.time <= c.time < then.time and c.record_id != found.record_id
                for c in state.betweens
            )
        ):
            return None
        return found

    def _sequence_hit(
        self, rule: CompiledRule, key: str, first: Event, then: Event, state: _SequenceKey
    ) -> HitDraft:
        record, derived = state.records[then.record_id]
        first_record, first_derived = state.records[first.record_id]
        env = Env(record, derived, self.ctx, (first_record, first_derived))
        serials = tuple(dict.fromkeys(s for s in (first.serial_no, then.serial_no) if s))
        return self._hit(
            rule,
            env,
            record,
            derived,
            key=key,
            severity=rule.severity_for(env).value,
            serials=serials,
            record_ids=(first.record_id, then.record_id),
            at=then.time,
            anchor=then.record_id,
            extra={"key": masked_key(key)},
            first=first_record,
        )

    def _near_keys(self, rule: CompiledRule, keys: list[str], at: datetime) -> list[str]:
        """key_near: each hash key replaced by its representative within the distance."""
        distance = rule.rule.key_near
        if not distance:
            return keys
        near = self._near.get(rule.uid)
        if near is None:
            keep = (rule.rule.window or timedelta(days=1)) * 2
            near = self._near[rule.uid] = NearKeys(distance, keep)
        out = []
        for key in keys:
            path, _, value = key.partition("=")
            out.append(f"{path}={near.canonical(value, at)}")
        return sorted(set(out))

    # --- absences and deadlines (A) -----------------------------------------------------------

    def _seen_scope(self, rule: CompiledRule) -> str:
        return rule.uid if rule.key_filter is not None else ""

    def _remember(
        self,
        scope_key: tuple[str, str],
        record: Record,
        derived: Derived,
        horizon: timedelta = SEEN_HORIZON,
    ) -> None:
        seen = self._seen[scope_key]
        seen.append((record, derived))
        _prune_seen(seen, horizon)

    def _absence_step(
        self,
        rule: CompiledRule,
        env: Env,
        record: Record,
        derived: Derived,
        arms: bool,
        keys: list[str] | None = None,
    ) -> None:
        """`keys`: the record's keys when computed for the rule's paths already (and the record
        remembered under them); None computes them here."""
        if keys is None:
            keys = rule.keys(env)
            for key in keys:
                self._remember((self._seen_scope(rule), key), record, derived, _look(rule))
        for key in keys:  # a later record may complete an armed deadline of its key
            for armed in self._armed.get((rule.uid, key), ()):
                if armed.event.record_id != record["record_id"]:
                    self._complete(rule, armed, record, derived)
        if rule.rule.step_key:  # armed on its own paths, completed by the step's (two-path key)
            keys = _relabel(key_values(record, derived, rule.rule.key), rule.rule.step_key)
        if not keys or not arms:
            return
        start = rule.deadline_from(env) if rule.deadline_from is not None else record["action_time"]
        if not isinstance(start, datetime):
            return  # no start, no deadline: the rule stays silent for lack of data
        start = clock.to_shanghai(start)
        due = self._due(rule, record, derived, start)
        event = Event(
            record["action_time"],
            str(record["record_id"]),
            str(record.get("serial_no") or ""),
            None,
            str(record.get("unit_code", "")),
        )
        own = rule.done_at(env) if rule.done_at is not None else None
        for key in keys:
            existing = self._armed[(rule.uid, key)]
            # One deadline per (rule, key, start): several records of a late case restate the
            # same start and must not arm it again.
            if any(a.event.record_id == event.record_id or a.start == start for a in existing):
                continue
            armed = _Armed(event, start, due, record, derived)
            if isinstance(own, datetime):
                armed.done.append(clock.to_shanghai(own))
            # A step that arrived before its arming record (out of order) completes it too, so
            # the outcome does not depend on arrival order.
            for other, other_derived in self._seen.get((self._seen_scope(rule), key), ()):
                if other["record_id"] != record["record_id"]:
                    self._complete(rule, armed, other, other_derived)
            existing.append(armed)

    def _complete(
        self, rule: CompiledRule, armed: _Armed, record: Record, derived: Derived
    ) -> None:
        """Record when `record` did the expected step of `armed`, if it did."""
        later = Env(record, derived, self.ctx, (armed.record, armed.derived))
        if rule.expect is not None and not rule.expect(later):
            return
        done = rule.done_at(later) if rule.done_at is not None else record["action_time"]
        if isinstance(done, datetime):
            armed.done.append(clock.to_shanghai(done))

    def _due(
        self, rule: CompiledRule, record: Record, derived: Derived, start: datetime
    ) -> datetime:
        period = rule.rule.period
        assert period is not None
        if period.unit == "minutes":  # wall clock, like hours (CP-08's 10-minute handover)
            return start + timedelta(minutes=period.amount)
        unit_row = self.ctx.ref.get("units", record.get("unit_code"))
        return self.ctx.calendar.deadline(
            start,
            period.amount,
            period.unit,  # type: ignore[arg-type]
            calendar_id=(unit_row or {}).get("calendar_id") or derived.get("unit_calendar_id"),
            service_hours=(unit_row or {}).get("service_hours"),
        )

    def sweep(self, as_of: datetime) -> list[HitDraft]:
        """Fire every armed deadline that passed by `as_of` without its step, and close every
        rate period that ended by then."""
        hits = []
        by_uid = {r.uid: r for r in self._by_kind[Kind.ABSENCE]}
        for (uid, key), armed_list in self._armed.items():
            rule = by_uid.get(uid)
            if rule is None:
                continue
            for armed in armed_list:
                if armed.fired or armed.due > as_of:
                    continue
                if any(armed.start <= t <= armed.due for t in armed.done):
                    armed.fired = True  # met on time: nothing to report, nothing to keep
                    continue
                armed.fired = True
                hits.append(self._absence_hit(rule, key, armed))
        self.rates.note_hits(hits)
        hits.extend(self.rates.close(as_of))  # rate rules: every period ended by as_of
        self.ledgers.note_hits(hits)
        hits.extend(self.ledgers.sweep(as_of))  # ledger rules: rows judgeable by as_of
        return hits

    def _absence_hit(self, rule: CompiledRule, key: str, armed: _Armed) -> HitDraft:
        env = Env(armed.record, armed.derived, self.ctx)
        late = sorted(t for t in armed.done if t > armed.due)
        detail: dict[str, Any] = {"due": armed.due.isoformat(), "start": armed.start.isoformat()}
        extra: dict[str, Any] = {"key": masked_key(key), "due": armed.due}
        if late:
            detail["done_at"] = late[0].isoformat()
            detail["delay_s"] = int((late[0] - armed.due).total_seconds())
            extra["delay"] = late[0] - armed.due
        serial = armed.event.serial_no
        return self._hit(
            rule,
            env,
            armed.record,
            armed.derived,
            key=key,
            severity=rule.rule.severity.value,
            serials=(serial,) if serial else (),
            record_ids=(armed.event.record_id,),
            at=armed.due,
            anchor=f"due:{armed.event.record_id}",
            extra=extra,
            detail=detail,
        )

    # --- shared -------------------------------------------------------------------------------

    def _hit(
        self,
        rule: CompiledRule,
        env: Env,
        record: Record,
        derived: Derived,
        *,
        key: str,
        severity: str,
        serials: tuple[str, ...],
        record_ids: tuple[str, ...],
        at: datetime,
        anchor: str,
        upgrade: bool = False,
        extra: Mapping[str, Any] | None = None,
        detail: dict[str, Any] | None = None,
        first: Record | None = None,
        revision: bool = False,
    ) -> HitDraft:
        spec = rule.rule
        message = render(spec.message.zh, record, derived, extra, first)
        return HitDraft(
            rule_id=spec.id,
            sub=spec.sub,
            severity=severity,
            kind=spec.catalogue_kind,
            aspect=spec.aspect.value if spec.aspect else None,
            key=key,
            serials=serials,
            record_ids=record_ids,
            unit_code=str(record.get("unit_code", "")),
            at=at,
            message=message,
            anchor=anchor,
            upgrade=upgrade,
            shadow=spec.status is Status.TESTING,
            detail=detail or {},
            revision=revision,
        )


def _late(hit: HitDraft) -> HitDraft:
    from dataclasses import replace

    return replace(hit, late_data=True)


def _reported(firing: windows.Firing) -> _Reported:
    return firing.value, tuple(e.record_id for e in firing.evidence)


def _pair(
    state: _SequenceKey,
    event: Event,
    seen: tuple[Record, Derived],
    is_first: bool,
    is_then: bool,
    within: timedelta,
    pick: Callable[[_SequenceKey, Event], Event | None],
) -> list[tuple[Event, Event]]:
    """Add an A and/or B event to a pairing state; the (A, B) pairs it completes, each B once.
    `pick` chooses the A of a B (the latest in range, or the latest that also meets `match`)."""
    state.records[event.record_id] = seen
    candidates: list[Event] = []
    if is_first:
        insort(state.firsts, event)
        # A late A may complete Bs that arrived before it.
        candidates.extend(b for b in state.thens if event.time < b.time <= event.time + within)
    if is_then:
        insort(state.thens, event)
        candidates.append(event)
    pairs = []
    for then in sorted(set(candidates)):
        if then.record_id in state.matched:
            continue
        first = pick(state, then)
        if first is None:
            continue
        state.matched.add(then.record_id)
        pairs.append((first, then))
    return pairs


def _latest_before(firsts: list[Event], t: datetime, within: timedelta) -> Event | None:
    times = [e.time for e in firsts]
    end = bisect_left(times, t)
    start = bisect_left(times, t - within)
    return firsts[end - 1] if end > start else None


def _step_paths(rule: CompiledRule) -> tuple[str, ...]:
    """The paths later records (the expected steps) are keyed by: step_key, else key."""
    return tuple(rule.rule.step_key or rule.rule.key)


def _relabel(keys: list[str], paths: tuple[str, ...]) -> list[str]:
    """Keys of the arming record's paths written with the step's paths, so the two match."""
    out = []
    for key in keys:
        values = [part.partition("=")[2] for part in key.split(";")]
        out.append(";".join(f"{p}={v}" for p, v in zip(paths, values, strict=True)))
    return out


def _look(rule: CompiledRule) -> timedelta:
    """An absence rule's look-back for steps before their arming record (rule field look_back)."""
    return rule.rule.look_back or SEEN_HORIZON


def _prune_seen(seen: list[tuple[Record, Derived]], horizon: timedelta = SEEN_HORIZON) -> None:
    newest = seen[-1][0]["action_time"]
    if len(seen) > SEEN_PER_KEY or seen[0][0]["action_time"] < newest - horizon:
        kept = [s for s in seen if s[0]["action_time"] >= newest - horizon][-SEEN_PER_KEY:]
        seen[:] = kept


def _window_newest(state: _WindowKey) -> datetime | None:
    return state.events[-1].time if state.events else None


def _sequence_newest(state: _SequenceKey) -> datetime | None:
    return max(
        (e.time for e in (*state.firsts[-1:], *state.thens[-1:], *state.betweens[-1:])),
        default=None,
    )


def _prune_window(state: _WindowKey, window: timedelta) -> None:
    """Keep what an in-order event still needs: one window back, plus a cooldown."""
    if not state.events:
        return
    horizon = state.events[-1].time - windows.horizon(window)
    if state.events[0].time >= horizon:
        return
    cut = bisect_left([e.time for e in state.events], horizon)
    for gone in state.events[:cut]:
        state.records.pop(gone.record_id, None)
    del state.events[:cut]
    state.emitted = {e: v for e, v in state.emitted.items() if e[0] in state.records}


def _prune_sequence(state: _SequenceKey, within: timedelta) -> None:
    """A start older than `within` before the newest event can never complete a sequence."""
    newest = max((e.time for e in (*state.firsts[-1:], *state.thens[-1:])), default=None)
    if newest is None:
        return
    horizon = newest - within * 2
    keep_firsts = [e for e in state.firsts if e.time >= horizon]
    keep_thens = [e for e in state.thens if e.time >= horizon]
    keep_betweens = [e for e in state.betweens if e.time >= horizon]
    if (len(keep_firsts), len(keep_thens), len(keep_betweens)) == (
        len(state.firsts),
        len(state.thens),
        len(state.betweens),
    ):
        return
    kept = {e.record_id for e in (*keep_firsts, *keep_thens, *keep_betweens)}
    state.firsts, state.thens, state.betweens = keep_firsts, keep_thens, keep_betweens
    state.records = {k: v for k, v in state.records.items() if k in kept}
    state.matched &= kept
    state.fired = {k: v for k, v in state.fired.items() if k in kept}
