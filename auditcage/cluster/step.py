"""The streaming form of one (key family, key bucket): pure functions over serialised state.

    step(ctx, family, state, records) -> (state, hits)
    on_deadline(ctx, family, state, t) -> (state, hits)

`state` is bytes (None before the group's first record): what a stream processor keeps between
micro-batches, in Spark's state store or anywhere else. It is the family's `Evaluator` —
windows, sequences, armed deadlines, near-hash keys — pickled without what every process of a
run already holds: the compiled rules (closures, which do not pickle), the evaluation context
(reference, calendar) and the filters. Those are written as persistent ids (the rule's uid) and
reattached from the reading process's own `GroupContext` on load, so a state written by one
executor is read by any other that runs the same rules.

`partition.replay_group` is the frame form of the same evaluation; `step` over any cut of a
group's records into micro-batches, followed by `on_deadline` at the run's sweep instant, gives
the hits `replay_group` gives for the whole group at once (tests/cluster/test_step.py).
Records of one micro-batch are evaluated in (action_time, seq) order, as the worker evaluates
a batch; a record earlier than the group's watermark by more than the lateness is marked late,
as the worker marks it.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from auditcage.cluster.families import Family, bucket_of, owner_key
from auditcage.cluster.partition import GroupContext
from auditcage.engine.compiled import CompiledRule, record_rules
from auditcage.engine.evaluator import Evaluator
from auditcage.engine.filters import Filters, PythonFilters
from auditcage.engine.hits import HitDraft
from auditcage.engine.ledgers import LedgerBook
from auditcage.engine.rates import RateBook
from auditcage.errors import AuditcageError

# Bumped when the pickled layout of the evaluator changes: older state is refused, not misread.
STATE_FORMAT = 2


class StateMismatch(AuditcageError):
    """A state written for other rules (or another format) than the reading process runs."""


class GroupState:
    """The evaluator of one group and the latest action_time it has seen (its watermark)."""

    def __init__(self, evaluator: Evaluator, watermark: datetime | None = None) -> None:
        self.evaluator = evaluator
        self.watermark = watermark


def step(
    ctx: GroupContext,
    family: Family,
    state: bytes | None,
    records: Iterable[tuple[int, dict[str, Any]]],
) -> tuple[bytes, list[HitDraft]]:
    """Evaluate one micro-batch of `(seq, record)` of the group; the new state and its hits."""
    from auditcage.engine.runner import LATE_AFTER

    group = load_state(ctx, family, state)
    ordered = sorted(records, key=lambda item: (item[1]["action_time"], item[0]))
    before = _late_steps(group.evaluator)
    hits: list[HitDraft] = []
    for _, record in ordered:
        at = record["action_time"]
        late = group.watermark is not None and at < group.watermark - LATE_AFTER
        derived = ctx.engine.enricher.enrich(record).derived
        hits.extend(group.evaluator.process(record, derived, late=late))
        if group.watermark is None or at > group.watermark:
            group.watermark = at
    hits.extend(_annotated(group.evaluator, before))
    return dump_state(group), hits


def on_deadline(
    ctx: GroupContext, family: Family, state: bytes | None, t: datetime
) -> tuple[bytes | None, list[HitDraft]]:
    """The deadlines of the group passed by `t` (the sweep); the new state and its hits."""
    if state is None:
        return None, []
    group = load_state(ctx, family, state)
    hits = group.evaluator.sweep(t)
    return dump_state(group), hits


def owned(
    ctx: GroupContext, family: Family, bucket: int, hits: Iterable[HitDraft]
) -> list[HitDraft]:
    """The hits this group reports: those of its own keys (the evaluator of a bucket also sees
    records of other buckets' keys, through records with several keys)."""
    mine = []
    for hit in hits:
        owner = owner_key(family, hit.key)
        if owner is None or bucket_of(family, owner, ctx.buckets) == bucket:
            mine.append(hit)
    return mine


def superseded(ctx: GroupContext, family: Family, state: bytes | None) -> set[str]:
    """Ids of hits of this group that a record arriving out of order has superseded."""
    if state is None:
        return set()
    return set(load_state(ctx, family, state).evaluator.superseded)


# --- a step done after its deadline fired ----------------------------------------------------
#
# The frame form sweeps once, after every record: a missed deadline whose step came later is
# reported with the delay (catalogue §2/§3). A stream sweeps as event time passes, so the step
# may arrive after the deadline fired: the hit is emitted again, same id, now with the delay,
# and the sink keeps the later detail.


def _late_steps(evaluator: Evaluator) -> dict[int, datetime | None]:
    """The first late step of every fired deadline, by the deadline's identity."""
    return {
        id(armed): _first_late(armed)
        for armed_list in evaluator._armed.values()
        for armed in armed_list
        if armed.fired
    }


def _annotated(evaluator: Evaluator, before: dict[int, datetime | None]) -> list[HitDraft]:
    by_uid = {r.uid: r for r in evaluator.rules}
    hits = []
    for (uid, key), armed_list in evaluator._armed.items():
        for armed in armed_list:
            if id(armed) not in before or not armed.fired:
                continue
            late = _first_late(armed)
            on_time = any(armed.start <= t <= armed.due for t in armed.done)
            if late is not None and late != before[id(armed)] and not on_time:
                hits.append(evaluator._absence_hit(by_uid[uid], key, armed))
    return hits


def _first_late(armed: Any) -> datetime | None:
    return min((t for t in armed.done if t > armed.due), default=None)


# --- serialisation ---------------------------------------------------------------------------


def dump_state(group: GroupState) -> bytes:
    buffer = io.BytesIO()
    _StatePickler(buffer, group.evaluator).dump((STATE_FORMAT, group))
    return buffer.getvalue()


def load_state(ctx: GroupContext, family: Family, state: bytes | None) -> GroupState:
    if state is None:
        return GroupState(Evaluator(family.rules, ctx.engine.ctx, _filters(ctx, family)))
    unpickler = _StateUnpickler(io.BytesIO(state), ctx, family)
    version, group = unpickler.load()
    if version != STATE_FORMAT:
        raise StateMismatch(f"group state of format {version}, this process reads {STATE_FORMAT}")
    return group


class _StatePickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, evaluator: Evaluator) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._ctx = evaluator.ctx
        self._filters = evaluator.filters

    def persistent_id(self, obj: Any) -> Any:
        if isinstance(obj, CompiledRule):
            return ("rule", obj.uid)
        if obj is self._ctx:
            return ("ctx",)
        if obj is self._filters:
            return ("filters",)
        # Families hold no rate or ledger rules (cluster.batch runs those), so their books
        # stay empty; they hold closures, and are lent afresh on load.
        if isinstance(obj, RateBook | LedgerBook):
            if obj.rules:
                raise StateMismatch("a family's evaluator holds rate or ledger rules")
            return ("rates",) if isinstance(obj, RateBook) else ("ledgers",)
        return None


def _filters(ctx: GroupContext, family: Family) -> Filters:
    """One compiled filter set per family and run: it is stateless but for its dispatch cache."""
    found = ctx.filters.get(family.name)
    if found is None:
        found = ctx.filters[family.name] = PythonFilters(record_rules(family.rules))
    return found


class _StateUnpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, ctx: GroupContext, family: Family) -> None:
        super().__init__(file)
        self._ctx = ctx
        self._family = family
        self._rules = {r.uid: r for r in family.rules}

    def persistent_load(self, pid: Any) -> Any:
        match pid:
            case ("rule", uid):
                try:
                    return self._rules[uid]
                except KeyError:
                    raise StateMismatch(f"group state names rule {uid}, not run here") from None
            case ("ctx",):
                return self._ctx.engine.ctx
            case ("filters",):
                return _filters(self._ctx, self._family)
            case ("rates",):  # empty books, new for each load: nothing is shared between groups
                return RateBook((), self._ctx.engine.ctx, set())
            case ("ledgers",):
                return LedgerBook((), self._ctx.engine.ctx)
        raise pickle.UnpicklingError(f"unknown persistent id {pid!r}")

    def find_class(self, module: str, name: str) -> Any:
        # State is our own, but a store is shared storage: load only the engine's types.
        if module.split(".")[0] not in _ALLOWED_MODULES:
            raise pickle.UnpicklingError(f"group state refers to {module}.{name}")
        return super().find_class(module, name)


_ALLOWED_MODULES = frozenset({"auditcage", "builtins", "collections", "datetime", "zoneinfo"})
